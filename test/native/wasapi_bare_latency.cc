// Bare WASAPI write → capture latency: the reference program for loopcheck's Wine latency check (issue 5:
// "within 2 ms of what a bare C++ test program measures on the same set-up"). No Node, no loopcheck code:
// plain WASAPI, structured like loopcheck's engine (native/win/wasapi_engine.cc) so the two measure the same:
//   - default render endpoint, shared mode, its mix format (float32 stereo 48 kHz under Wine);
//   - a render client and a loopback capture client (AUDCLNT_STREAMFLAGS_LOOPBACK) on it, both event-driven
//     (--polling: no events), serviced by ONE thread that wakes on either event or every half period;
//   - the render queue is kept at a fixed target (--queue-ms, default 20): on each wake-up, if the padding is
//     below the target, write (target − padding) frames — silence, or the burst while one plays;
//   - capture buffer --capture-ms (default 20, what test/wine/smoke.mjs and latency-compare.mjs ask for);
//   - loopcheck's opening order: loopback client + silent keep-alive render stream, started; after the first
//     loopback packet the render stream is replaced by the measuring one (openPlayback), then 100 ms settle.
// Per run: a seeded 250 ms noise burst (the generator of test/wine/smoke.mjs), found bit-exact in the capture.
//   write     = QPC right after the render ReleaseBuffer that carried burst frame 0
//   (a) getBuffer = QPC when the capture GetBuffer that returned burst frame 0 came back
//   (b) device    = that packet's qpcPosition + frame offset / rate  (loopcheck's `deviceTime` definition)
// and prints (a) − write and (b) − write in ms. Last line: JSON summary (medians of (b) and (a), min, max).
// Build and run under Wine: scripts/ci/wine/bare-latency.sh [--runs N] [--queue-ms N] [--capture-ms N] [--polling]
// Exit: 0 every run bit-exact, 1 a run failed, 2 set-up error (HRESULT printed).
#include <windows.h>
#include <audioclient.h>
#include <avrt.h>
#include <mmdeviceapi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace {

const CLSID kClsidEnumerator = {0xBCDE0395, 0xE52F, 0x467C, {0x8E, 0x3D, 0xC4, 0x57, 0x92, 0x91, 0x69, 0x2E}};
const IID kIidEnumerator = {0xA95664D2, 0x9614, 0x4F35, {0xA7, 0x46, 0xDE, 0x8D, 0xB6, 0x36, 0x17, 0xE6}};
const IID kIidAudioClient = {0x1CB9AD4C, 0xDBFA, 0x4C32, {0xB1, 0x78, 0xC2, 0xF5, 0x68, 0xA7, 0x03, 0xB2}};
const IID kIidRenderClient = {0xF294ACFC, 0x3146, 0x4483, {0xA7, 0xBF, 0xAD, 0xDC, 0xA7, 0xC2, 0x60, 0xE2}};
const IID kIidCaptureClient = {0xC8ADBD64, 0xE71E, 0x48A0, {0xA4, 0xDE, 0x18, 0x5C, 0x39, 0x5C, 0xD3, 0x17}};
const GUID kSubtypeFloat = {0x00000003, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}};

[[noreturn]] void Die(const char* what, HRESULT hr) {
  std::printf("bare: FAIL %s (HRESULT 0x%08lX)\n", what, static_cast<unsigned long>(hr));
  std::fflush(stdout);
  std::exit(2);
}
void Check(HRESULT hr, const char* what) {
  if (FAILED(hr)) Die(what, hr);
}

// QPC in 100 ns units, the unit of GetBuffer's qpcPosition (same conversion as loopcheck's engine).
uint64_t Qpc100ns() {
  static const int64_t freq = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return f.QuadPart;
  }();
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  const uint64_t q = static_cast<uint64_t>(c.QuadPart);
  return q / freq * 10000000ull + q % freq * 10000000ull / freq;
}
double Ms(int64_t delta_100ns) { return delta_100ns / 1e4; }

// Seeded noise in [-0.5, 0.5), interleaved; test/wine/smoke.mjs's generator (LCG, double → float).
std::vector<float> Burst(uint32_t seed, size_t samples) {
  uint32_t s = seed ? seed : 1;
  std::vector<float> out(samples);
  for (float& v : out) {
    s = s * 1664525u + 1013904223u;
    v = static_cast<float>(s / 4294967296.0 - 0.5);
  }
  return out;
}

struct Options {
  int runs = 15;
  double queue_ms = 20;
  double capture_ms = 20;
  bool polling = false;
};

// One run: the burst being played (render side) and searched for (capture side).
struct Run {
  std::vector<float> burst;
  size_t frames = 0;
  size_t written = 0;          // burst frames handed to the render client
  bool playing = false;
  uint64_t write_100ns = 0;    // after the ReleaseBuffer that carried frame 0
  unsigned underruns = 0;      // render padding found 0 while the burst had been started
  UINT32 ahead = 0;            // frames queued ahead of burst frame 0 (the padding when it was written)
  // capture side
  enum { kSearching, kVerifying, kExact, kBroken } state = kSearching;
  size_t matched = 0;          // burst frames matched bit-exactly so far
  uint64_t next_pos = 0;       // device position expected next while verifying
  uint64_t getbuffer_100ns = 0;
  uint64_t device_100ns = 0;
  UINT32 offset = 0, packet_frames = 0;
};

struct Bare {
  Options opt;
  IMMDevice* device = nullptr;  // the default render endpoint
  WAVEFORMATEX* mix = nullptr;  // its mix format, used by both clients
  IAudioClient* rclient = nullptr;
  IAudioClient* cclient = nullptr;
  IAudioRenderClient* render = nullptr;
  IAudioCaptureClient* capture = nullptr;
  HANDLE revent = nullptr, cevent = nullptr;
  unsigned channels = 2, rate = 48000;
  UINT32 target = 0;           // render queue target, frames
  DWORD timeout_ms = 5;        // half the device period, as loopcheck's engine
  uint64_t packets = 0, discontinuities = 0;
  Run run;

  void ServiceRender() {
    UINT32 padding = 0;
    Check(rclient->GetCurrentPadding(&padding), "render GetCurrentPadding");
    if (run.playing && run.written > 0 && padding == 0) run.underruns++;
    if (padding >= target) return;
    const UINT32 n = target - padding;
    BYTE* buf = nullptr;
    Check(render->GetBuffer(n, &buf), "render GetBuffer");
    size_t from_burst = 0;
    const bool frame0 = run.playing && run.written == 0;
    if (run.playing) {
      from_burst = std::min<size_t>(n, run.frames - run.written);
      std::memcpy(buf, run.burst.data() + run.written * channels, from_burst * channels * sizeof(float));
    }
    std::memset(buf + from_burst * channels * sizeof(float), 0, (n - from_burst) * channels * sizeof(float));
    Check(render->ReleaseBuffer(n, 0), "render ReleaseBuffer");
    if (frame0) {
      run.write_100ns = Qpc100ns();
      run.ahead = padding;
    }
    run.written += from_burst;
    if (run.playing && run.written == run.frames) run.playing = false;
  }

  bool FrameIs(const float* got, size_t burst_frame) const {
    return std::memcmp(got, run.burst.data() + burst_frame * channels, channels * sizeof(float)) == 0;  // bits
  }

  // Feeds one packet to the matcher: finds burst frame 0, then checks every following frame bit-exactly.
  void Match(const float* data, UINT32 frames, DWORD flags, UINT64 pos, UINT64 qpc, uint64_t now_100ns) {
    if (run.state == Run::kVerifying && pos != run.next_pos) run.state = Run::kBroken;  // frames lost or repeated
    static const std::vector<float> zeros(48000 * 8);
    if ((flags & AUDCLNT_BUFFERFLAGS_SILENT) || !data) data = zeros.data();  // SILENT: the data is silence
    for (UINT32 i = 0; i < frames; i++) {
      const float* f = data + static_cast<size_t>(i) * channels;
      if (run.state == Run::kSearching && run.write_100ns != 0 && FrameIs(f, 0)) {
        run.state = Run::kVerifying;
        run.matched = 1;
        run.getbuffer_100ns = now_100ns;
        run.device_100ns = qpc + static_cast<uint64_t>(i * 1e7 / rate + 0.5);
        run.offset = i;
        run.packet_frames = frames;
      } else if (run.state == Run::kVerifying) {
        if (!FrameIs(f, run.matched)) {
          run.state = Run::kBroken;
          return;
        }
        if (++run.matched == run.frames) {
          run.state = Run::kExact;
          return;
        }
      }
    }
    run.next_pos = pos + frames;
  }

  void ServiceCapture() {
    for (;;) {
      UINT32 next = 0;
      Check(capture->GetNextPacketSize(&next), "capture GetNextPacketSize");
      if (next == 0) return;
      BYTE* data = nullptr;
      UINT32 frames = 0;
      DWORD flags = 0;
      UINT64 pos = 0, qpc = 0;
      HRESULT hr = capture->GetBuffer(&data, &frames, &flags, &pos, &qpc);
      const uint64_t now = Qpc100ns();
      if (hr == AUDCLNT_S_BUFFER_EMPTY) return;
      Check(hr, "capture GetBuffer");
      packets++;
      if (flags & AUDCLNT_BUFFERFLAGS_DATA_DISCONTINUITY) discontinuities++;
      Match(reinterpret_cast<const float*>(data), frames, flags, pos, qpc, now);
      Check(capture->ReleaseBuffer(frames), "capture ReleaseBuffer");
    }
  }

  // One wake-up of the device loop (render first, then capture, as loopcheck's engine).
  void Step() {
    if (opt.polling) {
      Sleep(timeout_ms);
    } else {
      HANDLE h[2] = {cevent, revent};
      WaitForMultipleObjects(2, h, FALSE, timeout_ms);
    }
    ServiceRender();
    ServiceCapture();
  }
  void StepFor(double ms) {
    const uint64_t until = Qpc100ns() + static_cast<uint64_t>(ms * 1e4);
    while (Qpc100ns() < until) Step();
  }

  // A render client with queue target `queue_ms`, pre-filled with silence and started (loopcheck's OpenRender).
  void OpenRender(double queue_ms) {
    Check(device->Activate(kIidAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&rclient)), "Activate (render)");
    const DWORD ev = opt.polling ? 0 : AUDCLNT_STREAMFLAGS_EVENTCALLBACK;
    Check(rclient->Initialize(AUDCLNT_SHAREMODE_SHARED, ev, static_cast<REFERENCE_TIME>(queue_ms * 1e4), 0, mix, nullptr),
          "Initialize (render)");
    if (!opt.polling) {
      revent = CreateEventW(nullptr, FALSE, FALSE, nullptr);
      Check(rclient->SetEventHandle(revent), "SetEventHandle (render)");
    }
    Check(rclient->GetService(kIidRenderClient, reinterpret_cast<void**>(&render)), "GetService(IAudioRenderClient)");
    UINT32 frames = 0;
    Check(rclient->GetBufferSize(&frames), "GetBufferSize (render)");
    target = std::min<UINT32>(frames, std::max<UINT32>(1, static_cast<UINT32>(queue_ms * rate / 1000.0)));
    std::printf("bare: render buffer %.2f ms, queue target %.2f ms\n", frames * 1e3 / rate, target * 1e3 / rate);
    ServiceRender();  // pre-fill with silence: no start-up underrun
    Check(rclient->Start(), "Start (render)");
  }
  void CloseRender() {
    rclient->Stop();
    render->Release();
    rclient->Release();
    if (revent) CloseHandle(revent);
    render = nullptr;
    rclient = nullptr;
    revent = nullptr;
  }

  // Loopcheck's order: the loopback client, then a silent keep-alive render stream (capture buffer size), both
  // started; after the first packet the render stream is replaced by one with the queue target (openPlayback).
  void Open() {
    Check(CoInitializeEx(nullptr, COINIT_MULTITHREADED), "CoInitializeEx");
    DWORD task = 0;
    AvSetMmThreadCharacteristicsW(L"Pro Audio", &task);  // as loopcheck's device thread (a stub under Wine)
    IMMDeviceEnumerator* en = nullptr;
    Check(CoCreateInstance(kClsidEnumerator, nullptr, CLSCTX_ALL, kIidEnumerator, reinterpret_cast<void**>(&en)),
          "CoCreateInstance(MMDeviceEnumerator)");
    Check(en->GetDefaultAudioEndpoint(eRender, eConsole, &device), "GetDefaultAudioEndpoint (Wine: is PulseAudio reachable?)");
    en->Release();
    Check(device->Activate(kIidAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&cclient)), "Activate (loopback)");
    Check(cclient->GetMixFormat(&mix), "GetMixFormat");
    const bool is_float = mix->wFormatTag == WAVE_FORMAT_IEEE_FLOAT ||
                          (mix->wFormatTag == WAVE_FORMAT_EXTENSIBLE &&
                           IsEqualGUID(reinterpret_cast<WAVEFORMATEXTENSIBLE*>(mix)->SubFormat, kSubtypeFloat));
    if (!is_float || mix->wBitsPerSample != 32) Die("the mix format is not float32", E_FAIL);
    channels = mix->nChannels;
    rate = mix->nSamplesPerSec;
    REFERENCE_TIME period = 0;
    Check(cclient->GetDevicePeriod(&period, nullptr), "GetDevicePeriod");
    timeout_ms = static_cast<DWORD>(std::max(1.0, period / 1e4 / 2));
    const DWORD ev = opt.polling ? 0 : AUDCLNT_STREAMFLAGS_EVENTCALLBACK;
    Check(cclient->Initialize(AUDCLNT_SHAREMODE_SHARED, ev | AUDCLNT_STREAMFLAGS_LOOPBACK,
                              static_cast<REFERENCE_TIME>(opt.capture_ms * 1e4), 0, mix, nullptr),
          "Initialize (loopback)");
    if (!opt.polling) {
      cevent = CreateEventW(nullptr, FALSE, FALSE, nullptr);
      Check(cclient->SetEventHandle(cevent), "SetEventHandle (loopback)");
    }
    Check(cclient->GetService(kIidCaptureClient, reinterpret_cast<void**>(&capture)), "GetService(IAudioCaptureClient)");
    UINT32 frames = 0;
    Check(cclient->GetBufferSize(&frames), "GetBufferSize (loopback)");
    std::printf("bare: %u ch %u Hz float32, period %.2f ms, %s; loopback buffer %.2f ms\n", channels, rate, period / 1e4,
                opt.polling ? "polling" : "event-driven", frames * 1e3 / rate);
    OpenRender(opt.capture_ms);  // the keep-alive
    Check(cclient->Start(), "Start (loopback)");
  }
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  Bare b;
  for (int i = 1; i < argc; i++) {
    const bool has_value = i + 1 < argc;
    if (!std::strcmp(argv[i], "--polling")) b.opt.polling = true;
    else if (!std::strcmp(argv[i], "--runs") && has_value) b.opt.runs = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--queue-ms") && has_value) b.opt.queue_ms = std::atof(argv[++i]);
    else if (!std::strcmp(argv[i], "--capture-ms") && has_value) b.opt.capture_ms = std::atof(argv[++i]);
    else {
      std::printf("usage: wasapi_bare_latency [--runs N] [--queue-ms MS] [--capture-ms MS] [--polling]\n");
      return 2;
    }
  }
  if (b.opt.runs < 1 || !(b.opt.queue_ms > 0) || !(b.opt.capture_ms > 0)) {
    std::printf("bare: --runs ≥ 1, --queue-ms > 0 and --capture-ms > 0\n");
    return 2;
  }
  const uint64_t t0 = Qpc100ns();
  b.Open();
  const uint64_t opened = Qpc100ns();
  while (b.packets == 0 && Qpc100ns() - opened < 30000000) b.Step();  // ≤ 3 s
  if (b.packets == 0) Die("no loopback packet within 3 s", E_FAIL);
  std::printf("bare: first loopback packet %.1f ms after Start (open took %.1f ms)\n", Ms(Qpc100ns() - opened), Ms(opened - t0));
  b.CloseRender();
  b.OpenRender(b.opt.queue_ms);
  b.StepFor(100);  // settle (loopcheck's scripts wait 100 ms after openPlayback)

  std::vector<double> device_ms, getbuffer_ms;
  int failures = 0;
  for (int r = 0; r < b.opt.runs; r++) {
    b.run = Run{};
    b.run.frames = b.rate / 4;  // 250 ms
    b.run.burst = Burst(static_cast<uint32_t>(r + 1), b.run.frames * b.channels);
    b.run.playing = true;  // written from the next wake-up on, where the queue has room (as loopcheck's play())
    const uint64_t started = Qpc100ns();
    while ((b.run.state == Run::kSearching || b.run.state == Run::kVerifying) && Qpc100ns() - started < 20000000) b.Step();
    const Run& run = b.run;
    if (run.state != Run::kExact) {
      failures++;
      std::printf("bare: run %d: NOT bit-exact (%s; %zu frames matched; render underruns %u)\n", r + 1,
                  run.state == Run::kSearching ? "frame 0 not found within 2 s" : run.state == Run::kBroken ? "a frame differs or a packet was lost" : "timeout",
                  run.matched, run.underruns);
    } else {
      const double dev = Ms(static_cast<int64_t>(run.device_100ns - run.write_100ns));
      const double gb = Ms(static_cast<int64_t>(run.getbuffer_100ns - run.write_100ns));
      device_ms.push_back(dev);
      getbuffer_ms.push_back(gb);
      std::printf("bare: run %d: bit-exact (%zu frames x %u ch), write→capture %.2f ms (device time of the frame), "
                  "write→GetBuffer %.2f ms (frame 0 at %u/%u of its packet, queued behind %.2f ms), render underruns %u\n",
                  r + 1, run.frames, b.channels, dev, gb, run.offset, run.packet_frames, run.ahead * 1e3 / b.rate, run.underruns);
    }
    std::fflush(stdout);
    b.StepFor(200);  // a gap of silence between bursts
  }
  b.cclient->Stop();
  b.rclient->Stop();
  CoTaskMemFree(b.mix);
  std::printf("bare: %llu packets, %llu flagged DATA_DISCONTINUITY\n", static_cast<unsigned long long>(b.packets),
              static_cast<unsigned long long>(b.discontinuities));
  const char* mode = b.opt.polling ? "polling" : "event";
  if (device_ms.empty()) {
    std::printf("bare: no run was bit-exact\n{\"program\":\"bare\",\"ok\":false,\"runs\":%d,\"exact\":0}\n", b.opt.runs);
    return 1;
  }
  auto [dmin, dmax] = std::minmax_element(device_ms.begin(), device_ms.end());
  auto [gmin, gmax] = std::minmax_element(getbuffer_ms.begin(), getbuffer_ms.end());
  std::printf("bare: median %.2f ms (%.2f, %.2f) over %zu runs; write→GetBuffer median %.2f ms (%.2f, %.2f) "
              "[%s, %.0f ms queue, %.0f ms capture buffer]\n",
              Median(device_ms), *dmin, *dmax, device_ms.size(), Median(getbuffer_ms), *gmin, *gmax, mode, b.opt.queue_ms,
              b.opt.capture_ms);
  std::printf("{\"program\":\"bare\",\"ok\":%s,\"mode\":\"%s\",\"queueMs\":%g,\"captureMs\":%g,\"runs\":%d,\"exact\":%zu,"
              "\"medianMs\":%.3f,\"minMs\":%.3f,\"maxMs\":%.3f,"
              "\"getBuffer\":{\"medianMs\":%.3f,\"minMs\":%.3f,\"maxMs\":%.3f},\"runsMs\":[",
              failures ? "false" : "true", mode, b.opt.queue_ms, b.opt.capture_ms, b.opt.runs, device_ms.size(),
              Median(device_ms), *dmin, *dmax, Median(getbuffer_ms), *gmin, *gmax);
  for (size_t i = 0; i < device_ms.size(); i++) std::printf("%s%.3f", i ? "," : "", device_ms[i]);
  std::printf("]}\n");
  return failures ? 1 : 0;
}
