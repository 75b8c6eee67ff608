#include "win/packet.h"

#include <cstring>

namespace loopcheck {

int64_t PacketDeviceTimeNs(const CapturePacket& p, int64_t now_ns, uint64_t qpc_now_100ns) {
  if (!p.has_qpc) return now_ns;
  // Signed: a QPC position "in the future" (clock skew between the two reads) gives a later time, not a wrap.
  const int64_t age_100ns = static_cast<int64_t>(qpc_now_100ns - p.qpc_position_100ns);
  return now_ns - age_100ns * 100;
}

float DecodeSample(const uint8_t* src, SampleEncoding enc) {
  switch (enc) {
    case SampleEncoding::kFloat32: {
      float f;
      std::memcpy(&f, src, 4);
      return f;
    }
    case SampleEncoding::kPcm16: {
      int16_t v;
      std::memcpy(&v, src, 2);
      return static_cast<float>(v) / 32768.0f;
    }
    case SampleEncoding::kPcm24: {
      // Little-endian 3 bytes, sign-extended from bit 23.
      int32_t v = static_cast<int32_t>(static_cast<uint32_t>(src[0]) << 8 | static_cast<uint32_t>(src[1]) << 16 |
                                       static_cast<uint32_t>(src[2]) << 24) >> 8;
      return static_cast<float>(v) / 8388608.0f;
    }
    case SampleEncoding::kPcm32: {
      int32_t v;
      std::memcpy(&v, src, 4);
      return static_cast<float>(static_cast<double>(v) / 2147483648.0);
    }
  }
  return 0.0f;
}

unsigned BytesPerSample(SampleEncoding enc) {
  switch (enc) {
    case SampleEncoding::kPcm16: return 2;
    case SampleEncoding::kPcm24: return 3;
    default: return 4;
  }
}

const char* EncodingName(SampleEncoding enc) {
  switch (enc) {
    case SampleEncoding::kFloat32: return "f32";
    case SampleEncoding::kPcm16: return "s16";
    case SampleEncoding::kPcm24: return "s24";
    case SampleEncoding::kPcm32: return "s32";
  }
  return "f32";
}

namespace {
// round(x · scale) clamped to [-scale, scale − 1], in double so that 32-bit PCM keeps every bit.
int64_t Quantise(float x, double scale) {
  double v = static_cast<double>(x) * scale;
  v = v < 0 ? v - 0.5 : v + 0.5;  // round half away from zero
  if (v >= scale - 1) return static_cast<int64_t>(scale - 1);
  if (v <= -scale) return static_cast<int64_t>(-scale);
  if (v != v) return 0;  // NaN: silence
  return static_cast<int64_t>(v);
}
}  // namespace

unsigned EncodeSample(float x, SampleEncoding enc, uint8_t* dst) {
  switch (enc) {
    case SampleEncoding::kFloat32:
      std::memcpy(dst, &x, 4);
      return 4;
    case SampleEncoding::kPcm16: {
      const int16_t v = static_cast<int16_t>(Quantise(x, 32768.0));
      std::memcpy(dst, &v, 2);
      return 2;
    }
    case SampleEncoding::kPcm24: {
      const uint32_t v = static_cast<uint32_t>(static_cast<int32_t>(Quantise(x, 8388608.0)));
      dst[0] = static_cast<uint8_t>(v);
      dst[1] = static_cast<uint8_t>(v >> 8);
      dst[2] = static_cast<uint8_t>(v >> 16);
      return 3;
    }
    case SampleEncoding::kPcm32: {
      const int32_t v = static_cast<int32_t>(Quantise(x, 2147483648.0));
      std::memcpy(dst, &v, 4);
      return 4;
    }
  }
  return 0;
}

void EncodeFrames(const float* src, size_t frames, const PacketFormat& format, uint8_t* dst) {
  const unsigned ch = format.channels;
  if (format.encoding == SampleEncoding::kFloat32 && format.block_align == ch * 4) {
    std::memcpy(dst, src, frames * ch * sizeof(float));  // bit-exact path
    return;
  }
  for (size_t f = 0; f < frames; f++) {
    uint8_t* frame = dst + f * format.block_align;
    unsigned off = 0;
    for (unsigned c = 0; c < ch; c++) off += EncodeSample(src[f * ch + c], format.encoding, frame + off);
    if (off < format.block_align) std::memset(frame + off, 0, format.block_align - off);
  }
}

PacketConverter::PacketConverter(const PacketFormat& format, size_t max_frames)
    : format_(format), scratch_(max_frames * (format.channels ? format.channels : 1)), max_frames_(max_frames) {
  if (format_.channels == 0) format_.channels = 1;
  if (format_.block_align == 0) format_.block_align = format_.channels * BytesPerSample(format_.encoding);
}

void PacketConverter::Restart(CaptureQueue& queue, uint64_t lost_frames) {
  have_expected_ = false;
  queue.PushHole(static_cast<size_t>(lost_frames));  // also flags the next block as a discontinuity
}

uint32_t PacketConverter::Push(const CapturePacket& p, CaptureQueue& queue, int64_t now_ns, uint64_t qpc_now_100ns) {
  stats_.packets++;
  uint32_t flags = 0;
  if (p.flags & kWasapiDataDiscontinuity) {
    stats_.discontinuities++;
    flags |= kChunkDiscontinuity;
  }
  if (p.flags & kWasapiTimestampError) {
    stats_.timestamp_errors++;
    flags |= kChunkTimestampError;
  }
  const bool silent = (p.flags & kWasapiSilent) != 0 || p.data == nullptr;
  if (p.flags & kWasapiSilent) {
    stats_.silent_packets++;
    flags |= kChunkSilent;
  }
  // Gap / overlap detection from device positions.
  if (have_expected_) {
    if (p.device_position > expected_position_) {
      const uint64_t gap = p.device_position - expected_position_;
      stats_.gaps++;
      stats_.gap_frames += gap;
      queue.PushHole(static_cast<size_t>(gap));  // advances the stream position, flags the next block
    } else if (p.device_position < expected_position_) {
      stats_.overlaps++;
      flags |= kChunkDiscontinuity;
    }
  }
  have_expected_ = true;
  expected_position_ = p.device_position + p.frames;
  if (p.frames == 0) return flags;

  size_t frames = p.frames;
  if (frames > max_frames_) {
    stats_.truncated_frames += frames - max_frames_;
    frames = max_frames_;
  }
  const unsigned ch = format_.channels;
  float* out = scratch_.data();
  if (silent) {
    std::memset(out, 0, frames * ch * sizeof(float));
  } else if (format_.encoding == SampleEncoding::kFloat32 && format_.block_align == ch * 4) {
    std::memcpy(out, p.data, frames * ch * sizeof(float));  // bit-exact path
  } else {
    const unsigned bps = BytesPerSample(format_.encoding);
    for (size_t f = 0; f < frames; f++) {
      const uint8_t* frame = p.data + f * format_.block_align;
      for (unsigned c = 0; c < ch; c++) out[f * ch + c] = DecodeSample(frame + c * bps, format_.encoding);
    }
  }
  const int64_t device_time_ns = PacketDeviceTimeNs(p, now_ns, qpc_now_100ns);
  stats_.frames += frames;
  if (!queue.PushBlock(out, frames, device_time_ns, flags)) stats_.dropped_frames += frames;
  return flags;
}

}  // namespace loopcheck
