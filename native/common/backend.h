// The backend interface every platform implements (native/null, native/linux, native/win).
// Device-independent: no OS headers here.
#pragma once
#include "common/errors.h"

namespace loopcheck {

struct BackendInfo {
  const char* name;       // "null", "pulse", "wasapi"
  bool available;         // false: every open reports `unavailable`
  Error unavailable;      // why, when !available
};

// Implemented once per platform build; returns the compiled-in native backend.
BackendInfo GetNativeBackendInfo();

}  // namespace loopcheck
