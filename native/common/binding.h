// Each platform's backend adds its JS-facing classes/functions to the addon's exports here
// (native/linux/pulse_binding.cc, native/null/null_backend.cc). addon.cc only calls this.
#pragma once
#include <napi.h>

#include "common/write_marks.h"

namespace loopcheck {
void RegisterBackendExports(Napi::Env env, Napi::Object exports);

// play() results of every backend: `writeMarks` = Float64Array [frame, timeMs, frame, timeMs, …] (one pair per
// write call, monotonic clock ms) and `writeMarksDropped` (marks past the reserved capacity).
inline void SetWriteMarks(Napi::Env env, Napi::Object out, const WriteMarks& marks) {
  const auto& m = marks.marks();
  Napi::Float64Array arr = Napi::Float64Array::New(env, m.size() * 2);
  for (size_t i = 0; i < m.size(); i++) {
    arr[i * 2] = static_cast<double>(m[i].frame);
    arr[i * 2 + 1] = static_cast<double>(m[i].time_ns) / 1e6;
  }
  out.Set("writeMarks", arr);
  out.Set("writeMarksDropped", Napi::Number::New(env, static_cast<double>(marks.dropped())));
}
}  // namespace loopcheck
