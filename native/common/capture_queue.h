// Capture path between the audio thread and the pump thread: interleaved float32 samples in one SPSC
// ring plus, per device block, a mark (stream frame position, device time, flags) in a second ring.
// The producer (audio thread) never blocks or allocates; a block that does not fit is dropped whole,
// its frames are counted, the stream position still advances (framePosition jumps) and the next
// block that fits is flagged as a discontinuity. The consumer (pump thread) assembles chunks of
// min..max frames that never straddle a discontinuity or a change of flags.
// No OS headers, no Node-API: unit-tested on its own (test/native/engine_test.cc).
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ring_buffer.h"

namespace loopcheck {

enum ChunkFlag : uint32_t {
  kChunkDiscontinuity = 1u << 0,  // continuity lost before this chunk (device hole, ring overrun, pump drop)
  kChunkSilent = 1u << 1,         // the device marked the data silent
  kChunkTimestampError = 1u << 2, // device time is an estimate
};

// "No server latency known" for BlockMark / Chunk::server_latency_us.
constexpr int64_t kNoServerLatency = INT64_MIN;

struct BlockMark {
  uint64_t ring_frame = 0;     // frames pushed into the ring before this block (consumer-side index)
  uint64_t stream_frame = 0;   // device position of the block's first frame (counts dropped frames)
  int64_t device_time_ns = 0;  // capture time of the first frame, monotonic clock (ns)
  uint32_t flags = 0;
  // What the device API said the capture latency was when the block was read (pulse: pa_stream_get_latency
  // on the record stream, signed µs: negative when libpulse set its `negative` flag). kNoServerLatency: none.
  int64_t server_latency_us = kNoServerLatency;
};

struct Chunk {
  std::vector<float> samples;  // interleaved, frames * channels
  size_t frames = 0;
  uint64_t frame_position = 0;
  int64_t device_time_ns = 0;
  uint32_t flags = 0;
  uint64_t overruns = 0;   // frames dropped by our queues since the previous chunk
  uint64_t underruns = 0;  // device underruns reported since the previous chunk
  int64_t server_latency_us = kNoServerLatency;  // of the block holding the chunk's first frame (BlockMark)
};

class CaptureQueue {
 public:
  CaptureQueue(unsigned channels, unsigned sample_rate, size_t capacity_frames, size_t max_blocks = 4096)
      : channels_(channels ? channels : 1),
        sample_rate_(sample_rate ? sample_rate : 48000),
        samples_(capacity_frames * (channels ? channels : 1)),
        marks_(max_blocks) {}

  unsigned channels() const { return channels_; }
  unsigned sampleRate() const { return sample_rate_; }
  size_t capacityFrames() const { return samples_.capacity() / channels_; }

  // ---- producer (audio thread) ----
  // Pushes one device block. Returns false when it was dropped (ring full); the frames are counted.
  bool PushBlock(const float* interleaved, size_t frames, int64_t device_time_ns, uint32_t flags,
                 int64_t server_latency_us = kNoServerLatency) {
    if (frames == 0) return true;
    const size_t n = frames * channels_;
    if (samples_.WriteAvailable() < n || marks_.WriteAvailable() < 1) {
      dropped_frames_.fetch_add(frames, std::memory_order_relaxed);
      stream_frame_ += frames;
      pending_flags_ |= kChunkDiscontinuity;
      return false;
    }
    BlockMark mark;
    mark.ring_frame = ring_frames_pushed_;
    mark.stream_frame = stream_frame_;
    mark.device_time_ns = device_time_ns;
    mark.flags = flags | pending_flags_;
    mark.server_latency_us = server_latency_us;
    // Mark first, then samples (release): a consumer that sees the samples also sees their mark.
    marks_.TryPush(mark);
    samples_.TryWriteAll(interleaved, n);
    pending_flags_ = 0;
    ring_frames_pushed_ += frames;
    stream_frame_ += frames;
    return true;
  }

  // A hole in the device stream (e.g. pa_stream_peek returned NULL): position advances, no data.
  void PushHole(size_t frames) {
    stream_frame_ += frames;
    pending_flags_ |= kChunkDiscontinuity;
  }

  void AddUnderruns(uint64_t n) { underruns_.fetch_add(n, std::memory_order_relaxed); }

  // ---- consumer (pump thread) ----
  size_t FramesAvailable() const { return samples_.ReadAvailable() / channels_; }
  uint64_t droppedFrames() const { return dropped_frames_.load(std::memory_order_relaxed); }

  // Adds frames the pump itself dropped (full JS queue) to the next chunk's overrun count.
  void AddConsumerDrop(uint64_t frames) {
    consumer_dropped_ += frames;
    consumer_discontinuity_ = true;
  }

  // Assembles the next chunk. Without `flush`, needs at least min_frames buffered. Never longer than
  // max_frames; ends early at the next block whose flags differ or that starts a discontinuity.
  bool PopChunk(Chunk& out, size_t min_frames, size_t max_frames, bool flush) {
    const size_t avail = FramesAvailable();
    if (avail == 0 || (!flush && avail < min_frames)) return false;
    AdvanceMarks();
    size_t n = avail < max_frames ? avail : max_frames;
    if (n == 0) return false;
    // Cut at the next mark inside [read, read + n) that breaks continuity or changes flags.
    for (size_t i = 0;; i++) {
      BlockMark next;
      if (marks_.Peek(&next, 1, i) == 0) break;
      if (next.ring_frame >= read_frame_ + n) break;
      if (next.ring_frame > read_frame_ &&
          ((next.flags & kChunkDiscontinuity) != 0 || next.flags != (current_.flags & ~kChunkDiscontinuity))) {
        n = static_cast<size_t>(next.ring_frame - read_frame_);
        break;
      }
    }
    out.samples.resize(n * channels_);
    samples_.Read(out.samples.data(), n * channels_);
    const uint64_t offset = read_frame_ - current_.ring_frame;
    out.frames = n;
    out.frame_position = current_.stream_frame + offset;
    out.device_time_ns = current_.device_time_ns + static_cast<int64_t>(offset * 1000000000ull / sample_rate_);
    out.flags = current_.flags;
    out.server_latency_us = current_.server_latency_us;
    if (offset != 0) out.flags &= ~kChunkDiscontinuity;
    const uint64_t dropped = droppedFrames();
    out.overruns = (dropped - reported_dropped_) + consumer_dropped_;
    reported_dropped_ = dropped;
    if (consumer_discontinuity_) out.flags |= kChunkDiscontinuity;
    consumer_dropped_ = 0;
    consumer_discontinuity_ = false;
    const uint64_t under = underruns_.load(std::memory_order_relaxed);
    out.underruns = under - reported_underruns_;
    reported_underruns_ = under;
    read_frame_ += n;
    return true;
  }

 private:
  // Makes current_ the last mark at or before read_frame_.
  void AdvanceMarks() {
    BlockMark m;
    while (marks_.Peek(&m, 1, 0) == 1 && m.ring_frame <= read_frame_) {
      current_ = m;
      marks_.Skip(1);
    }
  }

  const unsigned channels_;
  const unsigned sample_rate_;
  SpscRing<float> samples_;
  SpscRing<BlockMark> marks_;
  std::atomic<uint64_t> dropped_frames_{0};
  std::atomic<uint64_t> underruns_{0};
  // producer-only
  uint64_t ring_frames_pushed_ = 0;
  uint64_t stream_frame_ = 0;
  uint32_t pending_flags_ = 0;
  // consumer-only
  uint64_t read_frame_ = 0;
  BlockMark current_;
  uint64_t reported_dropped_ = 0;
  uint64_t reported_underruns_ = 0;
  uint64_t consumer_dropped_ = 0;
  bool consumer_discontinuity_ = false;
};

}  // namespace loopcheck
