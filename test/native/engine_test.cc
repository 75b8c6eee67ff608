// Native unit tests for the device-independent engine (ring buffer, capture queue / chunk assembly).
// Built as the separate CMake target `loopcheck_native_tests`; run by test/native/engine.test.ts.
// Prints one line per failed check and exits 1 if any failed.
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "common/capture_queue.h"
#include "common/ring_buffer.h"
#include "win/endpoint_events.h"
#include "win/hresult.h"
#include "win/packet.h"

namespace {
int failures = 0;
int checks = 0;
#define CHECK(cond)                                                          \
  do {                                                                       \
    checks++;                                                                \
    if (!(cond)) {                                                           \
      failures++;                                                            \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);            \
    }                                                                        \
  } while (0)
#define CHECK_EQ(a, b)                                                                                   \
  do {                                                                                                   \
    checks++;                                                                                            \
    if (!((a) == (b))) {                                                                                 \
      failures++;                                                                                        \
      std::printf("FAIL %s:%d: %s == %s (%lld vs %lld)\n", __FILE__, __LINE__, #a, #b, (long long)(a), \
                  (long long)(b));                                                                       \
    }                                                                                                    \
  } while (0)

using loopcheck::BlockMark;
using loopcheck::CaptureQueue;
using loopcheck::Chunk;
using loopcheck::SpscRing;

void TestCapacityRoundsUp() {
  SpscRing<int> r(5);
  CHECK_EQ(r.capacity(), 8u);
  SpscRing<int> r2(16);
  CHECK_EQ(r2.capacity(), 16u);
}

void TestWrapAround() {
  SpscRing<int> r(8);
  int seq = 0, expect = 0;
  // Write 5 / read 5 repeatedly: indices cross the end of the storage every other round.
  for (int round = 0; round < 100; round++) {
    int in[5];
    for (int& v : in) v = seq++;
    CHECK(r.TryWriteAll(in, 5));
    int out[5] = {};
    CHECK_EQ(r.Read(out, 5), 5u);
    for (int v : out) CHECK_EQ(v, expect++);
  }
  CHECK_EQ(r.overrunElements(), 0u);
  CHECK_EQ(r.ReadAvailable(), 0u);
}

void TestOverrunCounting() {
  SpscRing<float> r(8);
  float block[6] = {1, 2, 3, 4, 5, 6};
  CHECK(r.TryWriteAll(block, 6));
  CHECK(!r.TryWriteAll(block, 3));  // only 2 free: rejected whole, producer does not wait
  CHECK_EQ(r.overrunElements(), 3u);
  CHECK_EQ(r.overrunWrites(), 1u);
  CHECK(r.TryWriteAll(block, 2));   // exactly fills
  CHECK_EQ(r.WriteAvailable(), 0u);
  CHECK(!r.TryWriteAll(block, 1));
  CHECK_EQ(r.overrunElements(), 4u);
  float out[8];
  CHECK_EQ(r.Read(out, 8), 8u);
  CHECK(out[0] == 1.0f && out[5] == 6.0f && out[6] == 1.0f && out[7] == 2.0f);
}

void TestConcurrentSpsc() {
  // One producer, one consumer, 2^20 elements through a 64-slot ring: order and count preserved.
  SpscRing<uint32_t> r(64);
  const uint32_t total = 1u << 20;
  std::thread producer([&] {
    uint32_t next = 0;
    while (next < total) {
      uint32_t block[7];
      uint32_t n = total - next < 7 ? total - next : 7;
      for (uint32_t i = 0; i < n; i++) block[i] = next + i;
      if (r.TryWriteAll(block, n)) next += n;
      else std::this_thread::yield();
    }
  });
  uint32_t expect = 0;
  bool ordered = true;
  while (expect < total) {
    uint32_t out[16];
    size_t n = r.Read(out, 16);
    for (size_t i = 0; i < n; i++) ordered = ordered && (out[i] == expect++);
    if (n == 0) std::this_thread::yield();
  }
  producer.join();
  CHECK(ordered);
  CHECK_EQ(expect, total);
}

std::vector<float> Ramp(size_t frames, unsigned channels, float start) {
  std::vector<float> v(frames * channels);
  for (size_t i = 0; i < v.size(); i++) v[i] = start + static_cast<float>(i);
  return v;
}

void TestChunkAssembly() {
  // 2 channels, 1000 Hz "rate" so 1 frame = 1 ms = 1e6 ns; blocks of 7 frames batched into 10..20 frames.
  CaptureQueue q(2, 1000, 64);
  int64_t t0 = 5'000'000'000;
  for (int b = 0; b < 3; b++) {
    auto block = Ramp(7, 2, static_cast<float>(b * 14));
    CHECK(q.PushBlock(block.data(), 7, t0 + b * 7'000'000, 0));
  }
  Chunk c;
  CHECK(q.PopChunk(c, 10, 20, false));
  CHECK_EQ(c.frames, 20u);
  CHECK_EQ(c.frame_position, 0u);
  CHECK_EQ(c.device_time_ns, t0);
  CHECK_EQ(c.flags, 0u);
  bool ramp = true;
  for (size_t i = 0; i < c.samples.size(); i++) ramp = ramp && c.samples[i] == static_cast<float>(i);
  CHECK(ramp);
  CHECK(!q.PopChunk(c, 10, 20, false));  // 1 frame left < min
  CHECK(q.PopChunk(c, 10, 20, true));    // flush
  CHECK_EQ(c.frames, 1u);
  CHECK_EQ(c.frame_position, 20u);
  CHECK_EQ(c.device_time_ns, t0 + 20'000'000);  // mark of block 2 (frame 14) + 6 frames
  CHECK(c.samples[0] == 40.0f && c.samples[1] == 41.0f);
}

void TestOverrunAndHoleMakeDiscontinuity() {
  CaptureQueue q(1, 1000, 16);  // 16 frames of room
  auto a = Ramp(12, 1, 0);
  CHECK(q.PushBlock(a.data(), 12, 0, 0));
  auto b = Ramp(8, 1, 100);
  CHECK(!q.PushBlock(b.data(), 8, 12'000'000, 0));  // does not fit: dropped, position advances to 20
  CHECK_EQ(q.droppedFrames(), 8u);
  Chunk c;
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frames, 12u);
  CHECK_EQ(c.overruns, 8u);  // reported on the first chunk popped after the drop
  auto d = Ramp(4, 1, 200);
  CHECK(q.PushBlock(d.data(), 4, 20'000'000, 0));
  q.PushHole(3);  // device hole: 3 frames never delivered
  auto e = Ramp(4, 1, 300);
  CHECK(q.PushBlock(e.data(), 4, 27'000'000, 0));
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frames, 4u);  // cut at the hole
  CHECK_EQ(c.frame_position, 20u);
  CHECK_EQ(c.flags & loopcheck::kChunkDiscontinuity, loopcheck::kChunkDiscontinuity);
  CHECK_EQ(c.overruns, 0u);
  CHECK(c.samples[0] == 200.0f);
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frames, 4u);
  CHECK_EQ(c.frame_position, 27u);
  CHECK_EQ(c.device_time_ns, 27'000'000);
  CHECK_EQ(c.flags & loopcheck::kChunkDiscontinuity, loopcheck::kChunkDiscontinuity);
  CHECK(c.samples[0] == 300.0f);
}

void TestFlagChangeCutsChunkAndConsumerDrop() {
  CaptureQueue q(1, 1000, 64);
  auto a = Ramp(5, 1, 0);
  CHECK(q.PushBlock(a.data(), 5, 0, 0));
  CHECK(q.PushBlock(a.data(), 5, 5'000'000, loopcheck::kChunkSilent));
  Chunk c;
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frames, 5u);
  CHECK_EQ(c.flags, 0u);
  q.AddConsumerDrop(7);
  q.AddUnderruns(2);
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frames, 5u);
  CHECK_EQ(c.flags, loopcheck::kChunkSilent | loopcheck::kChunkDiscontinuity);
  CHECK_EQ(c.overruns, 7u);
  CHECK_EQ(c.underruns, 2u);
}

void TestLongRunWrapsWithMarks() {
  // Many blocks through a small queue: positions and times stay exact across ring wrap-around.
  CaptureQueue q(2, 48000, 256, 8);
  uint64_t expect_pos = 0;
  bool ok = true;
  for (int b = 0; b < 5000; b++) {
    auto blk = Ramp(48, 2, 0);
    if (!q.PushBlock(blk.data(), 48, static_cast<int64_t>(b) * 1'000'000, 0)) { ok = false; break; }
    Chunk c;
    while (q.PopChunk(c, 1, 30, false)) {
      ok = ok && c.frame_position == expect_pos;
      ok = ok && c.device_time_ns == static_cast<int64_t>(expect_pos * 1000000000ull / 48000);
      expect_pos += c.frames;
    }
  }
  CHECK(ok);
  CHECK_EQ(expect_pos, 5000u * 48u);
}

// ---- WASAPI packet → ring (native/win/packet.cc), synthetic packets ----
using loopcheck::CapturePacket;
using loopcheck::PacketConverter;
using loopcheck::PacketFormat;
using loopcheck::SampleEncoding;

CapturePacket Packet(const std::vector<float>& data, uint32_t frames, uint64_t pos, uint32_t flags) {
  CapturePacket p;
  p.data = reinterpret_cast<const uint8_t*>(data.data());
  p.frames = frames;
  p.device_position = pos;
  p.flags = flags;
  p.qpc_position_100ns = pos * 10000;  // 1000 Hz "rate": frame n captured at n ms = n × 10^4 × 100 ns
  return p;
}

void TestPacketsContiguousAreBitExact() {
  PacketFormat f;  // float32, 2 ch
  f.sample_rate = 1000;
  CaptureQueue q(2, 1000, 256);
  PacketConverter conv(f, 32);
  // Values that are not round numbers: a memcpy path keeps every bit.
  std::vector<float> a(20), b(20);
  for (int i = 0; i < 20; i++) a[i] = 0.1f * static_cast<float>(i) - 0.7f, b[i] = 1.0f / static_cast<float>(i + 3);
  // now_ns = 1 s on the monotonic clock, QPC now = 12 ms: packet 0 (QPC 0) was captured 12 ms ago.
  CHECK_EQ(conv.Push(Packet(a, 10, 0, 0), q, 1'000'000'000, 120000), 0u);
  CHECK_EQ(conv.Push(Packet(b, 10, 10, 0), q, 1'000'000'000, 120000), 0u);
  Chunk c;
  CHECK(q.PopChunk(c, 20, 20, false));
  CHECK_EQ(c.frames, 20u);
  CHECK_EQ(c.frame_position, 0u);
  CHECK_EQ(c.device_time_ns, 1'000'000'000 - 12'000'000);
  CHECK(std::memcmp(c.samples.data(), a.data(), 20 * sizeof(float)) == 0);
  CHECK(std::memcmp(c.samples.data() + 20, b.data(), 20 * sizeof(float)) == 0);
  CHECK_EQ(conv.stats().packets, 2u);
  CHECK_EQ(conv.stats().gaps, 0u);
}

void TestPacketSilentIsZeroedAndFlagged() {
  PacketFormat f;
  f.sample_rate = 1000;
  CaptureQueue q(2, 1000, 256);
  PacketConverter conv(f, 32);
  std::vector<float> junk(16, 0.5f);  // SILENT: whatever the buffer holds must become zeros
  const uint32_t flags = conv.Push(Packet(junk, 8, 0, loopcheck::kWasapiSilent), q, 0, 0);
  CHECK_EQ(flags, static_cast<uint32_t>(loopcheck::kChunkSilent));
  Chunk c;
  CHECK(q.PopChunk(c, 1, 100, false));
  bool zeros = true;
  for (float v : c.samples) zeros = zeros && v == 0.0f;
  CHECK(zeros);
  CHECK_EQ(c.flags, static_cast<uint32_t>(loopcheck::kChunkSilent));
  CHECK_EQ(conv.stats().silent_packets, 1u);
}

void TestPacketFlagsAndGapsCounted() {
  PacketFormat f;
  f.channels = 1;
  f.block_align = 4;
  f.sample_rate = 1000;
  CaptureQueue q(1, 1000, 256);
  PacketConverter conv(f, 32);
  std::vector<float> d(10, 0.25f);
  conv.Push(Packet(d, 10, 0, loopcheck::kWasapiDataDiscontinuity), q, 0, 0);  // first packet: often flagged
  conv.Push(Packet(d, 10, 10, loopcheck::kWasapiTimestampError), q, 0, 0);
  conv.Push(Packet(d, 10, 27, 0), q, 0, 0);  // expected 20: a 7-frame gap
  conv.Push(Packet(d, 10, 30, 0), q, 0, 0);  // expected 37: overlap (position went back 7)
  const auto& s = conv.stats();
  CHECK_EQ(s.packets, 4u);
  CHECK_EQ(s.discontinuities, 1u);
  CHECK_EQ(s.timestamp_errors, 1u);
  CHECK_EQ(s.gaps, 1u);
  CHECK_EQ(s.gap_frames, 7u);
  CHECK_EQ(s.overlaps, 1u);
  Chunk c;
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frame_position, 0u);
  CHECK_EQ(c.frames, 10u);
  CHECK_EQ(c.flags, static_cast<uint32_t>(loopcheck::kChunkDiscontinuity));
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frame_position, 10u);
  CHECK_EQ(c.flags, static_cast<uint32_t>(loopcheck::kChunkTimestampError));
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.frame_position, 27u);  // the ring position skipped the gap
  CHECK_EQ(c.flags, static_cast<uint32_t>(loopcheck::kChunkDiscontinuity));
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK_EQ(c.flags, static_cast<uint32_t>(loopcheck::kChunkDiscontinuity));
}

void TestPacketPcmDecoding() {
  // PCM16 stereo: -32768 → -1, 16384 → 0.5; PCM24: 0x400000 → 0.5, 0x800000 (sign bit) → -1.
  PacketFormat f16;
  f16.encoding = SampleEncoding::kPcm16;
  f16.block_align = 4;
  CaptureQueue q(2, 48000, 64);
  PacketConverter conv(f16, 8);
  int16_t pcm[4] = {-32768, 16384, 0, 32767};
  CapturePacket p;
  p.data = reinterpret_cast<const uint8_t*>(pcm);
  p.frames = 2;
  conv.Push(p, q, 0, 0);
  Chunk c;
  CHECK(q.PopChunk(c, 1, 100, false));
  CHECK(c.samples[0] == -1.0f && c.samples[1] == 0.5f && c.samples[2] == 0.0f);
  CHECK(c.samples[3] == 32767.0f / 32768.0f);
  const uint8_t half24[3] = {0x00, 0x00, 0x40}, min24[3] = {0x00, 0x00, 0x80};
  CHECK(loopcheck::DecodeSample(half24, SampleEncoding::kPcm24) == 0.5f);
  CHECK(loopcheck::DecodeSample(min24, SampleEncoding::kPcm24) == -1.0f);
}

void TestHresultNames() {
  loopcheck::Error e = loopcheck::HresultError(0x88890004u, "IAudioCaptureClient::GetBuffer failed");
  CHECK(e.code == loopcheck::ErrorCode::DEVICE_LOST);
  CHECK(std::strcmp(e.detail, "AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)") == 0);
  CHECK_EQ(e.os_code, 0x88890004LL);
  CHECK(loopcheck::HresultError(0x80070490u, "x").code == loopcheck::ErrorCode::DEVICE_NOT_FOUND);
  CHECK(loopcheck::HresultError(0x88890003u, "x").code == loopcheck::ErrorCode::INVALID_ARGUMENT);
  CHECK(loopcheck::HresultError(0x12345678u, "x").code == loopcheck::ErrorCode::INTERNAL);
  CHECK(std::strcmp(loopcheck::HresultName(0x12345678u), "unrecognised HRESULT") == 0);
}
void TestEncodeSamples() {
  // PCM16: 0.5 → 16384, -1 → -32768, +1 clamps to 32767, tiny values round half away from zero.
  using loopcheck::EncodeSample;
  uint8_t b[4];
  int16_t v16;
  EncodeSample(0.5f, SampleEncoding::kPcm16, b);
  std::memcpy(&v16, b, 2);
  CHECK_EQ(v16, 16384);
  EncodeSample(-1.0f, SampleEncoding::kPcm16, b);
  std::memcpy(&v16, b, 2);
  CHECK_EQ(v16, -32768);
  EncodeSample(1.0f, SampleEncoding::kPcm16, b);
  std::memcpy(&v16, b, 2);
  CHECK_EQ(v16, 32767);
  EncodeSample(2.0f, SampleEncoding::kPcm16, b);  // out of range: clamped, no wrap
  std::memcpy(&v16, b, 2);
  CHECK_EQ(v16, 32767);
  EncodeSample(-1.5f / 32768.0f, SampleEncoding::kPcm16, b);
  std::memcpy(&v16, b, 2);
  CHECK_EQ(v16, -2);
  // PCM24 packed and PCM32: encode → decode returns the same value for values on the grid.
  const float grid[] = {0.0f, 0.5f, -0.25f, -1.0f, 1024.0f / 8388608.0f};
  for (float x : grid) {
    CHECK_EQ(EncodeSample(x, SampleEncoding::kPcm24, b), 3u);
    CHECK(loopcheck::DecodeSample(b, SampleEncoding::kPcm24) == x);
    CHECK_EQ(EncodeSample(x, SampleEncoding::kPcm32, b), 4u);
    CHECK(loopcheck::DecodeSample(b, SampleEncoding::kPcm32) == x);
  }
  // Frames: stereo PCM16 in a 4-byte block; float32 is copied bit for bit.
  PacketFormat f16;
  f16.encoding = SampleEncoding::kPcm16;
  f16.block_align = 4;
  const float in[4] = {0.5f, -0.5f, 0.25f, 0.0f};
  int16_t out[4] = {1, 1, 1, 1};
  loopcheck::EncodeFrames(in, 2, f16, reinterpret_cast<uint8_t*>(out));
  CHECK(out[0] == 16384 && out[1] == -16384 && out[2] == 8192 && out[3] == 0);
  PacketFormat ff;
  float fout[4];
  loopcheck::EncodeFrames(in, 2, ff, reinterpret_cast<uint8_t*>(fout));
  CHECK(std::memcmp(in, fout, sizeof in) == 0);
  CHECK(std::strcmp(loopcheck::EncodingName(SampleEncoding::kPcm24), "s24") == 0);
}

void TestPacketRestartAfterReopen() {
  // A re-opened stream starts again at device position 0: no overlap counted, the ring position advances by
  // the lost time and the first chunk after it is a discontinuity.
  CaptureQueue q(2, 48000, 4096);
  PacketFormat pf;
  PacketConverter conv(pf, 512);
  float data[2 * 480] = {};
  CapturePacket p;
  p.data = reinterpret_cast<const uint8_t*>(data);
  p.frames = 480;
  p.device_position = 96000;
  conv.Push(p, q, 0, 0);
  conv.Restart(q, 4800);  // 100 ms without capture
  p.device_position = 0;
  conv.Push(p, q, 0, 0);
  CHECK_EQ(conv.stats().overlaps, 0u);
  CHECK_EQ(conv.stats().gaps, 0u);
  Chunk c;
  CHECK(q.PopChunk(c, 1, 480, false));
  CHECK_EQ(c.frame_position, 0u);
  CHECK(q.PopChunk(c, 1, 480, false));
  CHECK_EQ(c.frame_position, 480u + 4800u);
  CHECK(c.flags & loopcheck::kChunkDiscontinuity);
}

void TestEndpointTracker() {
  using loopcheck::EndpointEvent;
  using loopcheck::EndpointLookup;
  using loopcheck::EndpointNote;
  loopcheck::EndpointTracker t;
  t.Seed("spk", EndpointLookup{"render", "Speakers", 1});
  t.Seed("off", EndpointLookup{"render", "Disabled", 2});  // not active: not present
  CHECK_EQ(t.size(), 1u);
  EndpointEvent e;
  EndpointNote n;
  // Unplugging is a state change away from ACTIVE: "removed" with the name we knew.
  n.type = EndpointNote::Type::kStateChanged;
  n.id = "spk";
  n.state = 8;  // DEVICE_STATE_UNPLUGGED
  CHECK(t.Apply(n, EndpointLookup{"render", "Speakers", 8}, &e));
  CHECK(e.type == "removed" && e.kind == "render" && e.name == "Speakers" && e.id == "spk");
  CHECK(!t.Apply(n, EndpointLookup{"render", "Speakers", 8}, &e));  // already gone: nothing new
  // Plugged back: "added".
  n.state = 1;
  CHECK(t.Apply(n, EndpointLookup{"render", "Speakers", 1}, &e));
  CHECK(e.type == "added");
  // OnDeviceAdded of an endpoint that is not active yet says nothing; OnDeviceRemoved of an unknown one neither.
  n.type = EndpointNote::Type::kAdded;
  n.id = "usb";
  CHECK(!t.Apply(n, EndpointLookup{"capture", "USB Mic", 4}, &e));
  CHECK(t.Apply(n, EndpointLookup{"capture", "USB Mic", 1}, &e));
  CHECK(e.type == "added" && e.kind == "capture");
  n.type = EndpointNote::Type::kRemoved;
  n.id = "never-seen";
  CHECK(!t.Apply(n, EndpointLookup{}, &e));
  n.id = "usb";
  CHECK(t.Apply(n, EndpointLookup{}, &e));  // gone: the lookup finds nothing, the known name is reported
  CHECK(e.type == "removed" && e.name == "USB Mic");
  // Default changes: one callback per role; only eConsole is reported, with the flow's kind.
  n.type = EndpointNote::Type::kDefaultChanged;
  n.id = "spk";
  n.flow = 0;
  n.role = 1;  // eMultimedia
  CHECK(!t.Apply(n, EndpointLookup{"render", "Speakers", 1}, &e));
  n.role = 0;
  CHECK(t.Apply(n, EndpointLookup{"render", "Speakers", 1}, &e));
  CHECK(e.type == "default-changed" && e.kind == "render" && e.name == "Speakers");
  n.flow = 1;
  n.id = "";
  CHECK(t.Apply(n, EndpointLookup{}, &e));  // no default capture endpoint any more
  CHECK(e.kind == "capture" && e.id.empty());
  n.flow = 2;  // eAll is never a default's flow
  CHECK(!t.Apply(n, EndpointLookup{}, &e));
}

void TestExclusiveHresultNames() {
  // The two errors Wine gives for exclusive mode, and the realignment code (audioclient.h values).
  loopcheck::Error e = loopcheck::HresultError(0x8889000Au, "x");
  CHECK(e.code == loopcheck::ErrorCode::DEVICE_BUSY);
  CHECK(std::strcmp(e.detail, "AUDCLNT_E_DEVICE_IN_USE (0x8889000A)") == 0);
  e = loopcheck::HresultError(0x8889000Eu, "x");
  CHECK(e.code == loopcheck::ErrorCode::FORMAT_UNSUPPORTED);
  CHECK(std::strcmp(e.detail, "AUDCLNT_E_EXCLUSIVE_MODE_NOT_ALLOWED (0x8889000E)") == 0);
  CHECK(std::strcmp(loopcheck::HresultName(loopcheck::kAudclntEBufferSizeNotAligned), "AUDCLNT_E_BUFFER_SIZE_NOT_ALIGNED (0x88890019)") == 0);
  CHECK(std::strcmp(loopcheck::HresultName(0x88890017u), "AUDCLNT_E_CPUUSAGE_EXCEEDED (0x88890017)") == 0);
  CHECK(std::strcmp(loopcheck::HresultName(0x80070002u), "HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) (0x80070002)") == 0);
}
}  // namespace

int main() {
  TestCapacityRoundsUp();
  TestWrapAround();
  TestOverrunCounting();
  TestConcurrentSpsc();
  TestChunkAssembly();
  TestOverrunAndHoleMakeDiscontinuity();
  TestFlagChangeCutsChunkAndConsumerDrop();
  TestLongRunWrapsWithMarks();
  TestPacketsContiguousAreBitExact();
  TestPacketSilentIsZeroedAndFlagged();
  TestPacketFlagsAndGapsCounted();
  TestPacketPcmDecoding();
  TestHresultNames();
  TestEncodeSamples();
  TestPacketRestartAfterReopen();
  TestEndpointTracker();
  TestExclusiveHresultNames();
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
