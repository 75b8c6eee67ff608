// Each platform's backend adds its JS-facing classes/functions to the addon's exports here
// (native/linux/pulse_binding.cc, native/null/null_backend.cc). addon.cc only calls this.
#pragma once
#include <napi.h>

namespace loopcheck {
void RegisterBackendExports(Napi::Env env, Napi::Object exports);

}  // namespace loopcheck
