#include "win/wasapi_engine.h"

// clang-format off
#include <windows.h>
#include <objbase.h>
#include <mmdeviceapi.h>
#include <audioclient.h>
#include <propidl.h>
#include <mmreg.h>
#include <ks.h>
#include <ksmedia.h>
#include <avrt.h>
// clang-format on

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "win/hresult.h"

namespace loopcheck {

namespace {

// GUIDs restated here (values from mmdeviceapi.h / audioclient.h / functiondiscoverykeys_devpkey.h), so the
// build needs neither INITGUID games nor libuuid.
const GUID kClsidMMDeviceEnumerator = {0xBCDE0395, 0xE52F, 0x467C, {0x8E, 0x3D, 0xC4, 0x57, 0x92, 0x91, 0x69, 0x2E}};
const GUID kIidIMMDeviceEnumerator = {0xA95664D2, 0x9614, 0x4F35, {0xA7, 0x46, 0xDE, 0x8D, 0xB6, 0x36, 0x17, 0xE6}};
const GUID kIidIMMEndpoint = {0x1BE09788, 0x6894, 0x4089, {0x85, 0x86, 0x9A, 0x2A, 0x6C, 0x26, 0x5A, 0xC5}};
const GUID kIidIAudioClient = {0x1CB9AD4C, 0xDBFA, 0x4C32, {0xB1, 0x78, 0xC2, 0xF5, 0x68, 0xA7, 0x03, 0xB2}};
const GUID kIidIAudioCaptureClient = {0xC8ADBD64, 0xE71E, 0x48A0, {0xA4, 0xDE, 0x18, 0x5C, 0x39, 0x5C, 0xD3, 0x17}};
const GUID kIidIAudioRenderClient = {0xF294ACFC, 0x3146, 0x4483, {0xA7, 0xBF, 0xAD, 0xDC, 0xA7, 0xC2, 0x60, 0xE2}};
const GUID kSubtypeFloat = {0x00000003, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}};
const GUID kSubtypePcm = {0x00000001, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}};
const PROPERTYKEY kPkeyFriendlyName = {{0xA45C254E, 0xDF1C, 0x4EFD, {0x80, 0x20, 0x67, 0xD1, 0x46, 0xA8, 0x50, 0xE0}}, 14};

constexpr DWORD kLoopback = 0x00020000;        // AUDCLNT_STREAMFLAGS_LOOPBACK
constexpr DWORD kEventCallback = 0x00040000;   // AUDCLNT_STREAMFLAGS_EVENTCALLBACK
constexpr DWORD kAutoConvertPcm = 0x80000000;  // AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM
constexpr DWORD kSrcDefaultQuality = 0x08000000;  // AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY

template <typename T>
void SafeRelease(T*& p) {
  if (p) p->Release();
  p = nullptr;
}

std::string Utf8(const wchar_t* w) {
  if (!w) return std::string();
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, nullptr, 0, nullptr, nullptr);
  if (n <= 1) return std::string();
  std::string s(static_cast<size_t>(n - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, -1, &s[0], n, nullptr, nullptr);
  return s;
}

std::wstring Wide(const std::string& s) {
  int n = MultiByteToWideChar(CP_UTF8, 0, s.c_str(), -1, nullptr, 0);
  if (n <= 1) return std::wstring();
  std::wstring w(static_cast<size_t>(n - 1), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, s.c_str(), -1, &w[0], n);
  return w;
}

// Reads the format as PacketFormat; false for encodings we do not decode.
bool ToPacketFormat(const WAVEFORMATEX* wf, PacketFormat* out) {
  out->channels = wf->nChannels;
  out->sample_rate = wf->nSamplesPerSec;
  out->block_align = wf->nBlockAlign;
  bool is_float = wf->wFormatTag == WAVE_FORMAT_IEEE_FLOAT;
  bool is_pcm = wf->wFormatTag == WAVE_FORMAT_PCM;
  if (wf->wFormatTag == WAVE_FORMAT_EXTENSIBLE && wf->cbSize >= 22) {
    const auto* ext = reinterpret_cast<const WAVEFORMATEXTENSIBLE*>(wf);
    is_float = IsEqualGUID(ext->SubFormat, kSubtypeFloat);
    is_pcm = IsEqualGUID(ext->SubFormat, kSubtypePcm);
  }
  if (is_float && wf->wBitsPerSample == 32) out->encoding = SampleEncoding::kFloat32;
  else if (is_pcm && wf->wBitsPerSample == 16) out->encoding = SampleEncoding::kPcm16;
  else if (is_pcm && wf->wBitsPerSample == 24) out->encoding = SampleEncoding::kPcm24;
  else if (is_pcm && wf->wBitsPerSample == 32) out->encoding = SampleEncoding::kPcm32;
  else return false;
  return true;
}

WAVEFORMATEXTENSIBLE FloatFormat(uint32_t rate, uint32_t channels) {
  WAVEFORMATEXTENSIBLE f;
  std::memset(&f, 0, sizeof f);
  f.Format.wFormatTag = WAVE_FORMAT_EXTENSIBLE;
  f.Format.nChannels = static_cast<WORD>(channels);
  f.Format.nSamplesPerSec = rate;
  f.Format.wBitsPerSample = 32;
  f.Format.nBlockAlign = static_cast<WORD>(channels * 4);
  f.Format.nAvgBytesPerSec = rate * channels * 4;
  f.Format.cbSize = 22;
  f.Samples.wValidBitsPerSample = 32;
  f.dwChannelMask = channels == 1 ? SPEAKER_FRONT_CENTER : channels == 2 ? (SPEAKER_FRONT_LEFT | SPEAKER_FRONT_RIGHT) : 0;
  f.SubFormat = kSubtypeFloat;
  return f;
}

// QueryPerformanceCounter in 100 ns units (the unit of GetBuffer's QPC position), without overflow.
uint64_t QpcNow100ns() {
  static const int64_t freq = [] {
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    return f.QuadPart > 0 ? f.QuadPart : 1;
  }();
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  const uint64_t q = static_cast<uint64_t>(c.QuadPart);
  return q / freq * 10000000ull + q % freq * 10000000ull / freq;
}

// One shared-mode client on an endpoint (render or loopback capture).
struct Stream {
  IMMDevice* device = nullptr;
  IAudioClient* client = nullptr;
  HANDLE event = nullptr;
  bool event_driven = false;
  UINT32 buffer_frames = 0;
  double period_ms = 10;
  WasapiStreamInfo info;
  bool failed = false;

  void Release() {
    if (client) client->Stop();
    SafeRelease(client);
    SafeRelease(device);
    if (event) CloseHandle(event);
    event = nullptr;
  }
};

struct CaptureState : Stream {
  IAudioCaptureClient* cc = nullptr;
  std::unique_ptr<PacketConverter> conv;
  std::shared_ptr<CaptureQueue> queue;
  std::function<void(const Error&)> on_error;
  void Close() {
    SafeRelease(cc);
    Stream::Release();
  }
};

struct RenderState : Stream {
  IAudioRenderClient* rc = nullptr;
  UINT32 target_frames = 0;
  bool user_opened = false;  // openPlayback() asked for it (else: the silent stream kept for loopback)
  // current play()
  bool playing = false;
  std::vector<float> samples;
  size_t pos_frames = 0;
  WasapiPlayOutcome outcome;
  std::function<void(const WasapiPlayOutcome&)> done;
  void Close() {
    SafeRelease(rc);
    Stream::Release();
  }
};

}  // namespace

struct WasapiEngine::Impl {
  std::thread thread;
  HANDLE wake = nullptr;  // auto-reset: a command is queued
  std::mutex mutex;
  std::deque<std::function<void()>> commands;
  bool quit = false;
  bool started = false;
  // device-thread state
  IMMDeviceEnumerator* enumerator = nullptr;
  std::unique_ptr<CaptureState> capture;
  std::unique_ptr<RenderState> render;
  WasapiStats stats;

  // Runs fn on the device thread and waits for it.
  void Invoke(std::function<void()> fn) {
    std::promise<void> done;
    std::future<void> f = done.get_future();
    {
      std::lock_guard<std::mutex> lock(mutex);
      commands.push_back([&] {
        fn();
        done.set_value();
      });
    }
    SetEvent(wake);
    f.wait();
  }

  void Run(std::promise<Error>* ready) {
    Error err;
    HRESULT hr = CoInitializeEx(nullptr, COINIT_MULTITHREADED);
    bool com = SUCCEEDED(hr);
    if (!com) err = HresultError(static_cast<uint32_t>(hr), "CoInitializeEx failed on the WASAPI device thread");
    if (com) {
      hr = CoCreateInstance(kClsidMMDeviceEnumerator, nullptr, CLSCTX_ALL, kIidIMMDeviceEnumerator,
                            reinterpret_cast<void**>(&enumerator));
      if (FAILED(hr)) {
        err = HresultError(static_cast<uint32_t>(hr), "cannot create the MMDeviceEnumerator");
        if (err.code == ErrorCode::INTERNAL) err.code = ErrorCode::BACKEND_UNAVAILABLE;
      }
    }
    const bool ok = com && enumerator;
    if (ok) {
      DWORD task = 0;
      AvSetMmThreadCharacteristicsW(L"Pro Audio", &task);  // a stub under Wine; best effort on Windows
      err.code = ErrorCode::INTERNAL;
      err.message = "";
    }
    ready->set_value(ok ? Error{} : err);
    if (ok) Loop();
    if (capture) capture->Close();
    if (render) FinishPlay(false, MakeError(ErrorCode::INTERRUPTED, "the session closed while playing"));
    if (render) render->Close();
    capture.reset();
    render.reset();
    SafeRelease(enumerator);
    if (com) CoUninitialize();
  }

  void Loop() {
    for (;;) {
      HANDLE handles[3];
      DWORD n = 0;
      handles[n++] = wake;
      if (capture && capture->event_driven && !capture->failed) handles[n++] = capture->event;
      if (render && render->event_driven && !render->failed) handles[n++] = render->event;
      DWORD timeout = INFINITE;
      if (capture || render) {
        // Half a period: the polling fallback for streams without events (and a safety net for the others).
        double period = capture ? capture->period_ms : render->period_ms;
        timeout = static_cast<DWORD>(std::max(1.0, period / 2));
      }
      WaitForMultipleObjects(n, handles, FALSE, timeout);
      stats.wakeups++;
      std::deque<std::function<void()>> todo;
      {
        std::lock_guard<std::mutex> lock(mutex);
        todo.swap(commands);
      }
      for (auto& c : todo) c();
      if (quit) return;
      if (render && !render->failed) ServiceRender();
      if (capture && !capture->failed) ServiceCapture();
    }
  }

  bool ResolveDevice(const std::string& id, IMMDevice** out, Error* err) {
    HRESULT hr;
    if (id.empty()) {
      hr = enumerator->GetDefaultAudioEndpoint(eRender, eConsole, out);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), "there is no default render endpoint");
        return false;
      }
    } else {
      std::wstring w = Wide(id);
      hr = enumerator->GetDevice(w.c_str(), out);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), "no audio endpoint with this id");
        if (err->code == ErrorCode::INTERNAL || err->code == ErrorCode::INVALID_ARGUMENT) err->code = ErrorCode::DEVICE_NOT_FOUND;
        err->hint = "ids come from listDevices(); they differ between machines (and Wine prefixes)";
        return false;
      }
    }
    return true;
  }

  // Activates and initialises a shared-mode client: float32 at the requested rate/channels, AUTOCONVERTPCM
  // when that differs from the mix format; event-driven unless refused or polling was asked for.
  bool OpenStream(Stream& s, const WasapiStreamOptions& o, DWORD extra_flags, Error* err) {
    if (!ResolveDevice(o.device, &s.device, err)) return false;
    LPWSTR wid = nullptr;
    if (SUCCEEDED(s.device->GetId(&wid))) {
      s.info.device = Utf8(wid);
      CoTaskMemFree(wid);
    }
    s.info.name = FriendlyName(s.device);
    HRESULT hr = s.device->Activate(kIidIAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&s.client));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IMMDevice::Activate(IAudioClient) failed");
      return false;
    }
    WAVEFORMATEX* mix = nullptr;
    hr = s.client->GetMixFormat(&mix);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetMixFormat failed");
      return false;
    }
    PacketFormat mixf;
    const bool mix_float = ToPacketFormat(mix, &mixf) && mixf.encoding == SampleEncoding::kFloat32;
    const bool same = mix_float && mixf.sample_rate == o.sample_rate && mixf.channels == o.channels;
    CoTaskMemFree(mix);
    WAVEFORMATEXTENSIBLE want = FloatFormat(o.sample_rate, o.channels);
    DWORD flags = extra_flags | (same ? 0 : (kAutoConvertPcm | kSrcDefaultQuality));
    s.info.converted = !same;
    REFERENCE_TIME def_period = 0, min_period = 0;
    if (SUCCEEDED(s.client->GetDevicePeriod(&def_period, &min_period)) && def_period > 0) s.period_ms = def_period / 1e4;
    const REFERENCE_TIME duration = static_cast<REFERENCE_TIME>(o.buffer_ms * 1e4);
    hr = E_FAIL;
    if (!o.polling) {
      hr = s.client->Initialize(AUDCLNT_SHAREMODE_SHARED, flags | kEventCallback, duration, 0,
                                reinterpret_cast<WAVEFORMATEX*>(&want), nullptr);
      if (SUCCEEDED(hr)) {
        s.event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
        hr = s.client->SetEventHandle(s.event);
        s.event_driven = SUCCEEDED(hr);
        if (!s.event_driven) {
          // Refused after Initialize: start over in polling mode on a fresh client.
          SafeRelease(s.client);
          CloseHandle(s.event);
          s.event = nullptr;
          hr = s.device->Activate(kIidIAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&s.client));
          if (FAILED(hr)) {
            *err = HresultError(static_cast<uint32_t>(hr), "IMMDevice::Activate(IAudioClient) failed");
            return false;
          }
          hr = E_FAIL;
        }
      } else if (static_cast<uint32_t>(hr) == kAudclntEDeviceInvalidated || static_cast<uint32_t>(hr) == kAudclntEWrongEndpointType) {
        *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Initialize failed");
        return false;
      } else {
        // The event mode was refused: a fresh client for the polling fallback (Initialize may run only once).
        SafeRelease(s.client);
        hr = s.device->Activate(kIidIAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&s.client));
        if (FAILED(hr)) {
          *err = HresultError(static_cast<uint32_t>(hr), "IMMDevice::Activate(IAudioClient) failed");
          return false;
        }
        hr = E_FAIL;
      }
    }
    if (!s.event_driven) {
      hr = s.client->Initialize(AUDCLNT_SHAREMODE_SHARED, flags, duration, 0, reinterpret_cast<WAVEFORMATEX*>(&want), nullptr);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Initialize (shared mode) failed");
        return false;
      }
    }
    hr = s.client->GetBufferSize(&s.buffer_frames);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetBufferSize failed");
      return false;
    }
    s.info.sample_rate = o.sample_rate;
    s.info.channels = o.channels;
    s.info.period_ms = s.period_ms;
    s.info.event_driven = s.event_driven;
    s.info.buffer_ms = s.buffer_frames * 1000.0 / o.sample_rate;
    return true;
  }

  std::string FriendlyName(IMMDevice* d) {
    IPropertyStore* props = nullptr;
    std::string name;
    if (SUCCEEDED(d->OpenPropertyStore(STGM_READ, &props))) {
      PROPVARIANT v;
      PropVariantInit(&v);
      if (SUCCEEDED(props->GetValue(kPkeyFriendlyName, &v)) && v.vt == VT_LPWSTR) name = Utf8(v.pwszVal);
      PropVariantClear(&v);
      props->Release();
    }
    return name;
  }

  void FailCapture(HRESULT hr, const char* what) {
    capture->failed = true;
    Error e = HresultError(static_cast<uint32_t>(hr), what);
    if (capture->on_error) capture->on_error(e);
  }

  void ServiceCapture() {
    CaptureState& c = *capture;
    // GetNextPacketSize keeps answering S_OK/0 on an invalidated device (Wine): GetCurrentPadding reports it.
    UINT32 padding = 0;
    HRESULT hr = c.client->GetCurrentPadding(&padding);
    if (FAILED(hr)) return FailCapture(hr, "IAudioClient::GetCurrentPadding (loopback) failed");
    for (int guard = 0; guard < 64; guard++) {
      UINT32 next = 0;
      hr = c.cc->GetNextPacketSize(&next);
      if (FAILED(hr)) return FailCapture(hr, "IAudioCaptureClient::GetNextPacketSize failed");
      if (next == 0) return;
      BYTE* data = nullptr;
      UINT32 frames = 0;
      DWORD flags = 0;
      UINT64 pos = 0, qpc = 0;
      hr = c.cc->GetBuffer(&data, &frames, &flags, &pos, &qpc);
      if (hr == AUDCLNT_S_BUFFER_EMPTY) return;
      if (FAILED(hr)) return FailCapture(hr, "IAudioCaptureClient::GetBuffer failed");
      const uint64_t qpc_now = QpcNow100ns();
      const int64_t now_ns = MonotonicNowNs();
      CapturePacket p;
      p.data = data;
      p.frames = frames;
      p.flags = flags;
      p.device_position = pos;
      p.qpc_position_100ns = qpc;
      p.has_qpc = qpc != 0;
      c.conv->Push(p, *c.queue, now_ns, qpc_now);
      hr = c.cc->ReleaseBuffer(frames);
      if (FAILED(hr)) return FailCapture(hr, "IAudioCaptureClient::ReleaseBuffer failed");
    }
  }

  void FinishPlay(bool ok, const Error& e) {
    RenderState& r = *render;
    if (!r.playing) return;
    r.playing = false;
    r.outcome.ok = ok;
    if (!ok) r.outcome.error = e;
    auto done = std::move(r.done);
    r.done = nullptr;
    if (done) done(r.outcome);
  }

  void FailRender(HRESULT hr, const char* what) {
    render->failed = true;
    Error e = HresultError(static_cast<uint32_t>(hr), what);
    FinishPlay(false, e);
    // The loopback depends on this stream: a lost endpoint ends the capture too.
    if (capture && !capture->failed && e.code == ErrorCode::DEVICE_LOST) {
      capture->failed = true;
      if (capture->on_error) capture->on_error(e);
    }
  }

  void ServiceRender() {
    RenderState& r = *render;
    UINT32 padding = 0;
    HRESULT hr = r.client->GetCurrentPadding(&padding);
    if (FAILED(hr)) return FailRender(hr, "IAudioClient::GetCurrentPadding (render) failed");
    if (r.playing && r.pos_frames > 0 && padding == 0) {
      stats.render_empty_polls++;
      r.outcome.underruns++;
    }
    if (padding >= r.target_frames) return;
    const UINT32 n = r.target_frames - padding;
    BYTE* buf = nullptr;
    hr = r.rc->GetBuffer(n, &buf);
    if (FAILED(hr)) return FailRender(hr, "IAudioRenderClient::GetBuffer failed");
    const unsigned ch = r.info.channels;
    size_t from_signal = 0;
    const bool frame0 = r.playing && r.pos_frames == 0;
    if (r.playing) {
      const size_t left = r.samples.size() / ch - r.pos_frames;
      from_signal = std::min<size_t>(left, n);
      std::memcpy(buf, r.samples.data() + r.pos_frames * ch, from_signal * ch * sizeof(float));
    }
    if (from_signal < n) std::memset(buf + from_signal * ch * sizeof(float), 0, (n - from_signal) * ch * sizeof(float));
    hr = r.rc->ReleaseBuffer(n, 0);
    if (FAILED(hr)) return FailRender(hr, "IAudioRenderClient::ReleaseBuffer failed");
    stats.render_frames += n;
    if (r.playing) {
      if (frame0) r.outcome.write_time_ns = MonotonicNowNs();
      r.pos_frames += from_signal;
      r.outcome.frames_written = r.pos_frames;
      if (r.pos_frames * ch >= r.samples.size()) FinishPlay(true, Error{});
    }
  }

  bool OpenRender(const WasapiStreamOptions& o, bool user, WasapiStreamInfo* info, Error* err) {
    auto r = std::make_unique<RenderState>();
    if (!OpenStream(*r, o, 0, err)) {
      r->Close();
      return false;
    }
    HRESULT hr = r->client->GetService(kIidIAudioRenderClient, reinterpret_cast<void**>(&r->rc));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetService(IAudioRenderClient) failed");
      r->Close();
      return false;
    }
    // Queue target: the requested buffer, within what the client granted.
    r->target_frames = std::min<UINT32>(r->buffer_frames, std::max<UINT32>(1, static_cast<UINT32>(o.buffer_ms * o.sample_rate / 1000.0)));
    r->info.buffer_ms = r->target_frames * 1000.0 / o.sample_rate;
    r->user_opened = user;
    render = std::move(r);
    ServiceRender();  // pre-fill with silence before Start: no start-up underrun
    if (render->failed) {
      *err = HresultError(kAudclntEDeviceInvalidated, "the render stream failed while starting");
      render->Close();
      render.reset();
      return false;
    }
    hr = render->client->Start();
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Start (render) failed");
      render->Close();
      render.reset();
      return false;
    }
    if (info) *info = render->info;
    return true;
  }

  void CloseRender() {
    if (!render) return;
    FinishPlay(false, MakeError(ErrorCode::INTERRUPTED, "the render stream closed while playing", "await play() before closing"));
    render->Close();
    render.reset();
  }
};

WasapiEngine::WasapiEngine() : impl_(new Impl()) {}

WasapiEngine::~WasapiEngine() { Close(); }

bool WasapiEngine::Start(Error* err) {
  Impl& m = *impl_;
  if (m.started) return true;
  m.wake = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  std::promise<Error> ready;
  std::future<Error> f = ready.get_future();
  m.thread = std::thread([&m, &ready] { m.Run(&ready); });
  Error e = f.get();
  if (e.message && *e.message) {
    m.thread.join();
    CloseHandle(m.wake);
    m.wake = nullptr;
    *err = e;
    return false;
  }
  m.started = true;
  return true;
}

std::string WasapiEngine::Version() const {
  std::string v = "WASAPI";
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  using WineVersion = const char*(__cdecl*)();
  auto wine = ntdll ? reinterpret_cast<WineVersion>(reinterpret_cast<void*>(GetProcAddress(ntdll, "wine_get_version"))) : nullptr;
  if (wine) v += std::string(" (Wine ") + wine() + ")";
  return v;
}

bool WasapiEngine::ListDevices(std::vector<WasapiDevice>* out, Error* err) {
  Impl& m = *impl_;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  bool ok = true;
  m.Invoke([&] {
    std::string def_render, def_capture;
    for (int flow = 0; flow < 2; flow++) {
      IMMDevice* d = nullptr;
      if (SUCCEEDED(m.enumerator->GetDefaultAudioEndpoint(flow == 0 ? eRender : eCapture, eConsole, &d))) {
        LPWSTR id = nullptr;
        if (SUCCEEDED(d->GetId(&id))) {
          (flow == 0 ? def_render : def_capture) = Utf8(id);
          CoTaskMemFree(id);
        }
        d->Release();
      }
    }
    IMMDeviceCollection* coll = nullptr;
    HRESULT hr = m.enumerator->EnumAudioEndpoints(eAll, DEVICE_STATEMASK_ALL, &coll);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IMMDeviceEnumerator::EnumAudioEndpoints failed");
      ok = false;
      return;
    }
    UINT count = 0;
    coll->GetCount(&count);
    for (UINT i = 0; i < count; i++) {
      IMMDevice* d = nullptr;
      if (FAILED(coll->Item(i, &d))) continue;
      WasapiDevice dev;
      LPWSTR id = nullptr;
      if (SUCCEEDED(d->GetId(&id))) {
        dev.id = Utf8(id);
        CoTaskMemFree(id);
      }
      dev.name = m.FriendlyName(d);
      DWORD state = 0;
      d->GetState(&state);
      dev.state = state;
      IMMEndpoint* ep = nullptr;
      EDataFlow flow = eRender;
      if (SUCCEEDED(d->QueryInterface(kIidIMMEndpoint, reinterpret_cast<void**>(&ep)))) {
        ep->GetDataFlow(&flow);
        ep->Release();
      }
      dev.kind = flow == eCapture ? "capture" : "render";
      dev.is_default = !dev.id.empty() && dev.id == (flow == eCapture ? def_capture : def_render);
      if (state == DEVICE_STATE_ACTIVE) {
        IAudioClient* c = nullptr;
        if (SUCCEEDED(d->Activate(kIidIAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&c)))) {
          WAVEFORMATEX* mix = nullptr;
          if (SUCCEEDED(c->GetMixFormat(&mix))) {
            dev.sample_rate = mix->nSamplesPerSec;
            dev.channels = mix->nChannels;
            CoTaskMemFree(mix);
          }
          c->Release();
        }
      }
      d->Release();
      out->push_back(std::move(dev));
    }
    coll->Release();
  });
  return ok;
}

bool WasapiEngine::OpenCapture(const WasapiStreamOptions& o, std::shared_ptr<CaptureQueue> queue,
                               std::function<void(const Error&)> on_error, WasapiStreamInfo* info, Error* err) {
  Impl& m = *impl_;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  bool ok = false;
  m.Invoke([&] {
    if (m.capture) {
      *err = MakeError(ErrorCode::DEVICE_BUSY, "a capture stream is already open on this session", "stop it first");
      return;
    }
    auto c = std::make_unique<CaptureState>();
    if (!m.OpenStream(*c, o, kLoopback, err)) {
      c->Close();
      return;
    }
    HRESULT hr = c->client->GetService(kIidIAudioCaptureClient, reinterpret_cast<void**>(&c->cc));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetService(IAudioCaptureClient) failed (loopback)");
      c->Close();
      return;
    }
    PacketFormat pf;
    pf.channels = o.channels;
    pf.sample_rate = o.sample_rate;
    pf.encoding = SampleEncoding::kFloat32;
    pf.block_align = o.channels * 4;
    // Scratch for the largest packet: the whole client buffer (packets never exceed it).
    c->conv = std::make_unique<PacketConverter>(pf, std::max<UINT32>(c->buffer_frames, o.sample_rate / 10));
    c->queue = queue;
    c->on_error = std::move(on_error);
    // Keep a render stream running on the same endpoint (silence unless play()): no loopback packets otherwise.
    if (!m.render) {
      WasapiStreamOptions ro = o;
      ro.device = c->info.device;
      Error rerr;
      if (!m.OpenRender(ro, false, nullptr, &rerr)) {
        *err = rerr;
        c->Close();
        return;
      }
    }
    hr = c->client->Start();
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Start (loopback) failed");
      c->Close();
      if (m.render && !m.render->user_opened) m.CloseRender();
      return;
    }
    *info = c->info;
    m.capture = std::move(c);
    ok = true;
  });
  return ok;
}

void WasapiEngine::CloseCapture() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.Invoke([&] {
    if (m.capture) {
      m.capture->Close();
      m.capture.reset();
    }
    if (m.render && !m.render->user_opened) m.CloseRender();
  });
}

bool WasapiEngine::OpenPlayback(const WasapiStreamOptions& o, WasapiStreamInfo* info, Error* err) {
  Impl& m = *impl_;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  bool ok = false;
  m.Invoke([&] {
    if (m.render && m.render->playing) {
      *err = MakeError(ErrorCode::DEVICE_BUSY, "a signal is playing on this session", "await play() first");
      return;
    }
    WasapiStreamOptions ro = o;
    if (ro.device.empty() && m.capture) ro.device = m.capture->info.device;
    // Replace the silent keep-alive stream (or a previous playback stream) with one of the asked format and buffer.
    m.CloseRender();
    ok = m.OpenRender(ro, true, info, err);
  });
  return ok;
}

bool WasapiEngine::Play(std::vector<float>&& samples, std::function<void(const WasapiPlayOutcome&)> done, Error* err) {
  Impl& m = *impl_;
  bool ok = false;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  m.Invoke([&] {
    if (!m.render || !m.render->user_opened) {
      *err = MakeError(ErrorCode::INVALID_ARGUMENT, "play() before openPlayback()", "open the render stream first");
      return;
    }
    RenderState& r = *m.render;
    if (r.failed) {
      *err = HresultError(kAudclntEDeviceInvalidated, "the render stream has failed");
      return;
    }
    if (r.playing) {
      *err = MakeError(ErrorCode::DEVICE_BUSY, "a signal is already playing", "await play() first");
      return;
    }
    r.samples = std::move(samples);
    r.pos_frames = 0;
    r.outcome = WasapiPlayOutcome{};
    r.done = std::move(done);
    r.playing = true;
    ok = true;
    if (r.samples.empty()) m.FinishPlay(true, Error{});
  });
  return ok;
}

void WasapiEngine::ClosePlayback() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.Invoke([&] {
    if (!m.render) return;
    WasapiStreamOptions keep;
    const bool need_keepalive = m.capture != nullptr;
    if (need_keepalive) {
      keep.device = m.capture->info.device;
      keep.sample_rate = m.capture->info.sample_rate;
      keep.channels = m.capture->info.channels;
      keep.buffer_ms = m.render->info.buffer_ms;
    }
    m.CloseRender();
    Error ignored;
    if (need_keepalive) m.OpenRender(keep, false, nullptr, &ignored);
  });
}

WasapiStats WasapiEngine::Stats() {
  Impl& m = *impl_;
  WasapiStats s;
  if (!m.started) return s;
  m.Invoke([&] {
    s = m.stats;
    if (m.capture) s.capture = m.capture->conv->stats();
  });
  return s;
}

void WasapiEngine::Close() {
  Impl& m = *impl_;
  if (!m.started) return;
  {
    std::lock_guard<std::mutex> lock(m.mutex);
    m.commands.push_back([&m] { m.quit = true; });
  }
  SetEvent(m.wake);
  if (m.thread.joinable()) m.thread.join();
  CloseHandle(m.wake);
  m.wake = nullptr;
  m.started = false;
}

}  // namespace loopcheck
