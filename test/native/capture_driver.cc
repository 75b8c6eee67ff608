// A Node-free driver of the PulseAudio engine for the memory-safety jobs (scripts/ci/valgrind.sh under
// valgrind memcheck, scripts/ci/sanitize.sh under ASan/UBSan). It uses PulseConnection and CaptureQueue the way
// native/linux/pulse_binding.cc does, with a plain consumer thread in place of the Node-API StreamPump.
//   capture_driver capture [SECONDS=10]       record A (+ playback of a 0.5 sine) on connection 1, record B on
//                                             connection 2, both on the default sink's monitor, and a device
//                                             watch on connection 3; every stream must see the sine
//   capture_driver loop [COUNT=1000] [MAX_GROWTH_KB=1024] [WARMUP=100]
//                                             opens and closes COUNT record streams on one connection; prints
//                                             RSS after WARMUP and at the end; fails when it grew > MAX_GROWTH_KB
//                                             (MAX_GROWTH_KB < 0: print only, for valgrind / ASan, whose own
//                                             bookkeeping is in the RSS)
// Exit 0 when every check passed; one line per result on stdout, failures on stderr. Needs $PULSE_SERVER.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/capture_queue.h"
#include "linux/pulse_engine.h"

namespace {

using loopcheck::CaptureQueue;
using loopcheck::Chunk;
using loopcheck::Error;
using loopcheck::PulseConnection;
using loopcheck::PulseStreamInfo;

constexpr uint32_t kRate = 48000;
constexpr uint32_t kChannels = 2;
constexpr double kBufferMs = 50;  // the pulse backend's default (src/backends/pulse.ts)
constexpr float kAmplitude = 0.5f;
constexpr double kPi = 3.14159265358979323846;

int Fail(const char* what, const Error& e) {
  std::fprintf(stderr, "capture_driver: %s: %s (%s) %s\n", what, e.message, loopcheck::ErrorCodeName(e.code), e.detail);
  return 1;
}

// Resident set size from /proc/self/statm (KiB).
long RssKb() {
  long pages_total = 0, pages_resident = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return -1;
  const int n = std::fscanf(f, "%ld %ld", &pages_total, &pages_resident);
  std::fclose(f);
  return n == 2 ? pages_resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

// One record stream with its own connection and a consumer thread draining the queue like the pump does
// (10-20 ms chunks every 10 ms).
struct Recorder {
  PulseConnection conn;
  std::shared_ptr<CaptureQueue> queue = std::make_shared<CaptureQueue>(kChannels, kRate, 2 * kRate);  // 2 s ring
  std::thread consumer;
  std::atomic<bool> stop{false};
  std::atomic<bool> failed{false};
  uint64_t frames = 0, chunks = 0, overruns = 0;  // consumer thread until joined
  float peak = 0;

  bool Open(const std::string& sink, const char* name) {
    Error err;
    if (!conn.Connect(3000, &err)) {
      Fail(name, err);
      return false;
    }
    PulseStreamInfo info;
    if (!conn.OpenRecord(sink, kRate, kChannels, kBufferMs, queue, [this](const Error&) { failed = true; }, &info, &err)) {
      Fail(name, err);
      return false;
    }
    std::printf("%s: recording %s, %u Hz x %u, fragsize %.1f ms\n", name, info.device.c_str(), info.sample_rate,
                info.channels, info.buffer_ms);
    consumer = std::thread([this] {
      Chunk chunk;
      for (bool last = false; !last;) {
        last = stop.load();
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        while (queue->PopChunk(chunk, kRate / 100, kRate / 50, last)) {
          chunks++;
          frames += chunk.frames;
          overruns += chunk.overruns;
          for (float s : chunk.samples) peak = std::fabs(s) > peak ? std::fabs(s) : peak;
        }
      }
    });
    return true;
  }

  ~Recorder() { Close(); }

  // Closes the stream first (no more pushes), then drains and joins the consumer, then the connection.
  // Idempotent.
  void Close() {
    conn.CloseRecord();
    stop = true;
    if (consumer.joinable()) consumer.join();
    conn.Close();
  }
};

int Capture(int seconds) {
  PulseConnection probe;
  Error err;
  std::string sink;
  if (!probe.Connect(3000, &err)) return Fail("connect", err);
  if (!probe.DefaultSink(&sink, &err)) return Fail("default sink", err);
  probe.Close();

  // The device watch (pulse_watch.cc): snapshot + subscription, events counted until the end.
  std::atomic<int> events{0};  // before `watch`: outlives its callbacks on every return path
  PulseConnection watch;
  if (!watch.Connect(3000, &err)) return Fail("watch connect", err);
  if (!watch.Watch([&](loopcheck::DeviceEvent&&) { events++; }, [](const Error&) {}, &err)) return Fail("watch", err);

  // Record first, then play (an idle null sink is slow to deliver its first data).
  Recorder a, b;
  if (!a.Open(sink, "record A") || !b.Open(sink, "record B")) return 1;
  PulseStreamInfo pinfo;
  if (!a.conn.OpenPlayback(sink, kRate, kChannels, kBufferMs, &pinfo, &err)) return Fail("playback", err);
  std::vector<float> sine(static_cast<size_t>(seconds) * kRate * kChannels);
  for (size_t i = 0; i < sine.size(); i++) {
    sine[i] = kAmplitude * static_cast<float>(std::sin(2 * kPi * 997.0 * static_cast<double>(i / kChannels) / kRate));
  }
  std::atomic<bool> played{false}, play_ok{false};
  std::atomic<uint64_t> written{0};
  if (!a.conn.Play(std::move(sine),
                   [&](const loopcheck::PlayOutcome& o) {
                     play_ok = o.ok;
                     written = o.frames_written;
                     played = true;
                   },
                   &err)) {
    return Fail("play", err);
  }
  // The whole signal is queued about tlength before it has played: wait for that, then for the tail to
  // reach the monitor (PulseAudio's ~50 ms queue plus slack; valgrind slows every callback).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds + 20);
  while (!played && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  a.conn.ClosePlayback();
  a.Close();
  b.Close();
  watch.Close();

  const uint64_t expect = static_cast<uint64_t>(seconds) * kRate;
  std::printf("play: done %d ok %d, %llu of %llu frames written\n", played.load(), play_ok.load(),
              static_cast<unsigned long long>(written.load()), static_cast<unsigned long long>(expect));
  int failures = 0;
  if (!played || !play_ok || written != expect) {
    std::fprintf(stderr, "capture_driver: playback did not complete\n");
    failures++;
  }
  for (Recorder* r : {&a, &b}) {
    const char* name = r == &a ? "record A" : "record B";
    std::printf("%s: %llu frames (%.2f s) in %llu chunks, %llu overruns, peak %.3f, stream failed %d\n", name,
                static_cast<unsigned long long>(r->frames), static_cast<double>(r->frames) / kRate,
                static_cast<unsigned long long>(r->chunks), static_cast<unsigned long long>(r->overruns), r->peak,
                r->failed.load());
    // Both streams must have run for at least half the capture (measured: all of it and more, even under
    // valgrind, as they start before and stop after the playback) and seen the sine: its peak is kAmplitude (float32
    // through a null sink at 100 % volume is a copy), and 0.9 * kAmplitude tolerates missing the exact crest.
    if (r->failed || r->frames < expect / 2 || r->peak < 0.9f * kAmplitude) {
      std::fprintf(stderr, "capture_driver: %s did not receive the signal\n", name);
      failures++;
    }
  }
  std::printf("watch: %d events\n", events.load());
  std::printf("capture: %s\n", failures ? "FAILED" : "ok");
  return failures ? 1 : 0;
}

int Loop(int count, long max_growth_kb, int warmup) {
  PulseConnection conn;
  Error err;
  std::string sink;
  if (!conn.Connect(3000, &err)) return Fail("connect", err);
  if (!conn.DefaultSink(&sink, &err)) return Fail("default sink", err);
  auto queue = std::make_shared<CaptureQueue>(kChannels, kRate, 2 * kRate);
  long rss_warm = -1;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < count; i++) {
    PulseStreamInfo info;
    if (!conn.OpenRecord(sink, kRate, kChannels, kBufferMs, queue, [](const Error&) {}, &info, &err)) {
      std::fprintf(stderr, "capture_driver: open %d of %d failed\n", i + 1, count);
      return Fail("open record", err);
    }
    conn.CloseRecord();
    if (i + 1 == warmup) rss_warm = RssKb();
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const long rss_end = RssKb();
  conn.Close();
  const long growth = rss_end - rss_warm;
  std::printf("loop: %d record streams opened and closed in %.1f s; RSS %ld KiB after %d, %ld KiB after %d: growth %ld KiB",
              count, secs, rss_warm, warmup, rss_end, count, growth);
  if (max_growth_kb >= 0) std::printf(" (bound %ld KiB)\n", max_growth_kb);
  else std::printf(" (not checked)\n");
  if (max_growth_kb >= 0 && (rss_warm < 0 || growth > max_growth_kb)) {
    std::fprintf(stderr, "capture_driver: RSS grew by %ld KiB over %d open/close cycles (bound %ld KiB)\n", growth,
                 count - warmup, max_growth_kb);
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  auto arg = [&](int i, long fallback) { return argc > i ? std::atol(argv[i]) : fallback; };
  if (mode == "capture") return Capture(static_cast<int>(arg(2, 10)));
  if (mode == "loop") {
    const int count = static_cast<int>(arg(2, 1000));
    const int warmup = static_cast<int>(arg(4, 100));
    if (warmup < 1 || warmup >= count) {
      std::fprintf(stderr, "capture_driver: WARMUP must be in [1, COUNT)\n");
      return 2;
    }
    return Loop(count, arg(3, 1024), warmup);
  }
  std::fprintf(stderr, "usage: capture_driver capture [SECONDS] | loop [COUNT] [MAX_GROWTH_KB] [WARMUP]\n");
  return 2;
}
