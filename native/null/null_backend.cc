// Platforms without a native audio backend compiled in: every open reports BACKEND_UNAVAILABLE.
#include "common/backend.h"
#include "common/binding.h"

namespace loopcheck {

BackendInfo GetNativeBackendInfo() {
  BackendInfo info;
  info.name = "null";
  info.available = false;
  info.unavailable.code = ErrorCode::BACKEND_UNAVAILABLE;
  info.unavailable.message = "this build of the loopcheck addon has no native audio backend";
  info.unavailable.hint = "use --backend virtual, or build on Linux (pulse) or Windows (wasapi)";
  return info;
}

// No backend classes to register: src/native.ts reports the missing class as BACKEND_UNAVAILABLE.
void RegisterBackendExports(Napi::Env, Napi::Object) {}

}  // namespace loopcheck
