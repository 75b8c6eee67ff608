// When each block of a played signal was handed to the render API: one mark per write call (PulseAudio
// pa_stream_write, WASAPI ReleaseBuffer). The harness turns them into per-frame write→delivery latency
// (docs/decisions.md "Latency"). Capacity is reserved on the JS thread before the audio thread sees the
// object; Add() never allocates: past capacity it only counts what it could not keep.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace loopcheck {

struct WriteMark {
  uint64_t frame = 0;   // signal frame index of the block's first frame
  int64_t time_ns = 0;  // monotonic clock, right after the write call returned
};

class WriteMarks {
 public:
  // Room for one mark per `min_block` frames of a `frames`-long signal (+ slack for short first writes).
  void Reserve(uint64_t frames, uint64_t min_block) {
    marks_.clear();
    dropped_ = 0;
    marks_.reserve(static_cast<size_t>(frames / (min_block ? min_block : 1) + 64));
  }
  void Add(uint64_t frame, int64_t time_ns) {
    if (marks_.size() < marks_.capacity()) {
      marks_.push_back(WriteMark{frame, time_ns});
    } else {
      dropped_++;
    }
  }
  const std::vector<WriteMark>& marks() const { return marks_; }
  uint64_t dropped() const { return dropped_; }

 private:
  std::vector<WriteMark> marks_;
  uint64_t dropped_ = 0;
};

}  // namespace loopcheck
