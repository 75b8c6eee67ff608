#include "common/clock.h"

#include <chrono>

namespace loopcheck {
int64_t MonotonicNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace loopcheck
