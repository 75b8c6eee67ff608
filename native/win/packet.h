// WASAPI capture packets → the capture ring, without COM or Windows headers (unit-tested on Linux in
// test/native/engine_test.cc with synthetic packets). The device thread calls IAudioCaptureClient::GetBuffer,
// fills a CapturePacket and hands it to PacketConverter::Push, then ReleaseBuffer.
//
// Conventions:
//  - Frame positions are device positions in frames (GetBuffer's pu64DevicePosition). The next packet is
//    expected at `position + frames` of the previous one; a later position is a gap (frames never delivered:
//    the ring position advances by the gap and the next chunk is a discontinuity), an earlier one an overlap
//    (counted, flagged as a discontinuity, data kept).
//  - QPC positions are in 100 ns units (GetBuffer's pu64QPCPosition). Device time of a packet's first frame on
//    the addon's monotonic clock: device_time_ns = now_ns − (qpc_now_100ns − qpc_position_100ns) × 100, where
//    now_ns / qpc_now_100ns are read together right after GetBuffer.
//  - AUDCLNT_BUFFERFLAGS_SILENT: the data must be treated as silence whatever the buffer holds → zeros.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/capture_queue.h"

namespace loopcheck {

// AUDCLNT_BUFFERFLAGS_* (audioclient.h), restated so this file needs no Windows header.
constexpr uint32_t kWasapiDataDiscontinuity = 0x1;
constexpr uint32_t kWasapiSilent = 0x2;
constexpr uint32_t kWasapiTimestampError = 0x4;

enum class SampleEncoding { kFloat32, kPcm16, kPcm24, kPcm32 };

// The stream format as the capture client delivers it (interleaved).
struct PacketFormat {
  unsigned channels = 2;
  unsigned sample_rate = 48000;
  SampleEncoding encoding = SampleEncoding::kFloat32;
  unsigned block_align = 8;  // bytes per frame (WAVEFORMATEX::nBlockAlign)
};

struct CapturePacket {
  const uint8_t* data = nullptr;  // may be null when SILENT
  uint32_t frames = 0;
  uint32_t flags = 0;             // AUDCLNT_BUFFERFLAGS_*
  uint64_t device_position = 0;   // frames
  uint64_t qpc_position_100ns = 0;
  bool has_qpc = true;            // false: device time = now_ns (no position reported)
};

// Counters since the stream opened (read by the JS thread via stats(): relaxed atomics are not needed
// because the binding reads them on the device thread through a command; plain integers here).
struct PacketStats {
  uint64_t packets = 0;
  uint64_t frames = 0;
  uint64_t discontinuities = 0;   // packets flagged DATA_DISCONTINUITY
  uint64_t silent_packets = 0;    // packets flagged SILENT
  uint64_t timestamp_errors = 0;  // packets flagged TIMESTAMP_ERROR
  uint64_t gaps = 0;              // device position jumped forward
  uint64_t gap_frames = 0;
  uint64_t overlaps = 0;          // device position went backwards
  uint64_t dropped_frames = 0;    // ring full (CaptureQueue counted them too)
  uint64_t truncated_frames = 0;  // packet longer than the preallocated scratch (should never happen)
};

// Device time of the packet's first frame on the monotonic clock (see the header comment).
int64_t PacketDeviceTimeNs(const CapturePacket& p, int64_t now_ns, uint64_t qpc_now_100ns);

// Converts one sample of `enc` at `src` to float in [-1, 1): PCM is scaled by 2^-(bits-1).
float DecodeSample(const uint8_t* src, SampleEncoding enc);

// The inverse, for render streams whose format is not float (exclusive mode): PCM = round(x · 2^(bits-1)),
// clamped to the integer range (so +1.0 becomes the largest positive value). Returns the bytes written.
unsigned EncodeSample(float x, SampleEncoding enc, uint8_t* dst);

// Interleaved float frames → `format` (block_align bytes per frame, samples packed at the front of each frame).
void EncodeFrames(const float* src, size_t frames, const PacketFormat& format, uint8_t* dst);

// Bytes one sample of `enc` takes (2, 3 or 4).
unsigned BytesPerSample(SampleEncoding enc);

// "f32", "s16", "s24", "s32".
const char* EncodingName(SampleEncoding enc);

class PacketConverter {
 public:
  // max_frames: the largest packet expected (the client's buffer size); scratch is allocated here, never later.
  PacketConverter(const PacketFormat& format, size_t max_frames);

  // Audio thread: converts and pushes one packet. Never allocates. Returns the ChunkFlag bits given to the block.
  uint32_t Push(const CapturePacket& p, CaptureQueue& queue, int64_t now_ns, uint64_t qpc_now_100ns);

  // The stream was re-opened (new endpoint, positions restart): forget the expected device position, advance
  // the ring's stream position by `lost_frames` (the time nothing was captured) and flag the next block as a
  // discontinuity. Audio thread; never allocates.
  void Restart(CaptureQueue& queue, uint64_t lost_frames);

  const PacketStats& stats() const { return stats_; }
  const PacketFormat& format() const { return format_; }

 private:
  PacketFormat format_;
  std::vector<float> scratch_;
  size_t max_frames_;
  bool have_expected_ = false;
  uint64_t expected_position_ = 0;
  PacketStats stats_;
};

}  // namespace loopcheck
