#pragma once
#include <cstdint>

namespace loopcheck {
// Monotonic clock in nanoseconds (steady_clock; QPC on Windows). Backends map device time onto it.
int64_t MonotonicNowNs();
}  // namespace loopcheck
