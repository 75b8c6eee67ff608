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
#include <initializer_list>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "win/endpoint_events.h"
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
const GUID kIidIAudioClient3 = {0x7ED4EE07, 0x8E67, 0x4CD4, {0x8C, 0x1A, 0x2B, 0x7A, 0x59, 0x87, 0xAD, 0x42}};
const GUID kIidIMMNotificationClient = {0x7991EEC9, 0x7E89, 0x4D85, {0x83, 0x90, 0x6C, 0x70, 0x3C, 0xEC, 0x60, 0xC0}};
const GUID kIidIActivateCompletionHandler = {0x41D949AB, 0x9862, 0x444A, {0x80, 0xF6, 0xC2, 0x61, 0x33, 0x4D, 0xA5, 0xEB}};
const GUID kIidIAgileObject = {0x94EA2B94, 0xE9CC, 0x49E0, {0xC0, 0xFF, 0xEE, 0x64, 0xCA, 0x8F, 0x5B, 0x90}};
const GUID kSubtypeFloat = {0x00000003, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}};
const GUID kSubtypePcm = {0x00000001, 0x0000, 0x0010, {0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}};
const PROPERTYKEY kPkeyFriendlyName = {{0xA45C254E, 0xDF1C, 0x4EFD, {0x80, 0x20, 0x67, 0xD1, 0x46, 0xA8, 0x50, 0xE0}}, 14};

constexpr DWORD kLoopback = 0x00020000;        // AUDCLNT_STREAMFLAGS_LOOPBACK
constexpr DWORD kEventCallback = 0x00040000;   // AUDCLNT_STREAMFLAGS_EVENTCALLBACK
constexpr DWORD kAutoConvertPcm = 0x80000000;  // AUDCLNT_STREAMFLAGS_AUTOCONVERTPCM
constexpr DWORD kSrcDefaultQuality = 0x08000000;  // AUDCLNT_STREAMFLAGS_SRC_DEFAULT_QUALITY

// Process loopback (audioclientactivationparams.h, Windows 10 2004 SDK; mingw-w64 10 lacks it): the documented
// layouts, restated. AUDIOCLIENT_ACTIVATION_PARAMS = { ActivationType; union { ProcessLoopbackParams; } }.
struct ProcessLoopbackParams {   // AUDIOCLIENT_PROCESS_LOOPBACK_PARAMS
  DWORD target_process_id;
  DWORD process_loopback_mode;   // PROCESS_LOOPBACK_MODE (an enum: 4 bytes)
};
struct ActivationParams {        // AUDIOCLIENT_ACTIVATION_PARAMS
  DWORD activation_type;         // AUDIOCLIENT_ACTIVATION_TYPE
  ProcessLoopbackParams process_loopback;
};
static_assert(sizeof(ActivationParams) == 12, "AUDIOCLIENT_ACTIVATION_PARAMS is 12 bytes");
constexpr DWORD kActivationTypeProcessLoopback = 1;      // AUDIOCLIENT_ACTIVATION_TYPE_PROCESS_LOOPBACK
constexpr DWORD kIncludeTargetProcessTree = 0;           // PROCESS_LOOPBACK_MODE_INCLUDE_TARGET_PROCESS_TREE
constexpr wchar_t kProcessLoopbackDevice[] = L"VAD\\Process_Loopback";  // VIRTUAL_AUDIO_DEVICE_PROCESS_LOOPBACK
constexpr DWORD kProcessLoopbackMinBuild = 19041;        // Windows 10 2004
constexpr DWORD kActivationTimeoutMs = 3000;             // bound on ActivateAudioInterfaceAsync's completion
constexpr int64_t kReopenTimeoutNs = 5000000000;         // --reopen: give up (DEVICE_LOST) after 5 s
constexpr int64_t kReopenRetryNs = 100000000;            // --reopen: one attempt per 100 ms
using ActivateAudioInterfaceAsyncFn = HRESULT(WINAPI*)(LPCWSTR, REFIID, PROPVARIANT*,
                                                       IActivateAudioInterfaceCompletionHandler*,
                                                       IActivateAudioInterfaceAsyncOperation**);

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

// WAVEFORMATEXTENSIBLE for `enc` (container = BytesPerSample, valid bits as given; 0: all).
WAVEFORMATEXTENSIBLE MakeFormat(SampleEncoding enc, uint32_t rate, uint32_t channels, unsigned valid_bits = 0) {
  const unsigned bytes = BytesPerSample(enc);
  WAVEFORMATEXTENSIBLE f;
  std::memset(&f, 0, sizeof f);
  f.Format.wFormatTag = WAVE_FORMAT_EXTENSIBLE;
  f.Format.nChannels = static_cast<WORD>(channels);
  f.Format.nSamplesPerSec = rate;
  f.Format.wBitsPerSample = static_cast<WORD>(bytes * 8);
  f.Format.nBlockAlign = static_cast<WORD>(channels * bytes);
  f.Format.nAvgBytesPerSec = rate * channels * bytes;
  f.Format.cbSize = 22;
  f.Samples.wValidBitsPerSample = static_cast<WORD>(valid_bits ? valid_bits : bytes * 8);
  f.dwChannelMask = channels == 1 ? SPEAKER_FRONT_CENTER : channels == 2 ? (SPEAKER_FRONT_LEFT | SPEAKER_FRONT_RIGHT) : 0;
  f.SubFormat = enc == SampleEncoding::kFloat32 ? kSubtypeFloat : kSubtypePcm;
  return f;
}

WAVEFORMATEXTENSIBLE FloatFormat(uint32_t rate, uint32_t channels) { return MakeFormat(SampleEncoding::kFloat32, rate, channels); }

PacketFormat FloatPacketFormat(uint32_t rate, uint32_t channels) {
  PacketFormat pf;
  pf.channels = channels;
  pf.sample_rate = rate;
  pf.encoding = SampleEncoding::kFloat32;
  pf.block_align = channels * 4;
  return pf;
}

// What a stream is, for its options and its errors.
enum class StreamKind { kRender, kLoopback, kCapture, kProcess };

const char* KindName(StreamKind k) {
  switch (k) {
    case StreamKind::kRender: return "render";
    case StreamKind::kLoopback: return "loopback";
    case StreamKind::kCapture: return "capture";
    case StreamKind::kProcess: return "process";
  }
  return "render";
}

// IUnknown for the COM objects this file implements, each for one interface `I`: the reference count starts at
// 1 (the creator's) and the last Release deletes the object; Query is QueryInterface for IUnknown and `iids`.
template <class Self, class I>
class ComObject : public I {
 public:
  ULONG STDMETHODCALLTYPE AddRef() override { return static_cast<ULONG>(InterlockedIncrement(&refs_)); }
  ULONG STDMETHODCALLTYPE Release() override {
    const LONG n = InterlockedDecrement(&refs_);
    if (n == 0) delete static_cast<Self*>(this);
    return static_cast<ULONG>(n);
  }

 protected:
  HRESULT Query(REFIID riid, void** out, std::initializer_list<const IID*> iids) {
    bool known = IsEqualGUID(riid, IID_IUnknown);
    for (const IID* iid : iids) known = known || IsEqualGUID(riid, *iid);
    if (!known) {
      *out = nullptr;
      return E_NOINTERFACE;
    }
    *out = static_cast<I*>(this);
    AddRef();
    return S_OK;
  }

 private:
  LONG refs_ = 1;
};

// Completion handler of ActivateAudioInterfaceAsync. Agile (IAgileObject), as the API requires: it runs on a
// thread of Windows' choosing, stores the result and signals `done`; the device thread waits (bounded) for it.
class ActivationHandler final : public ComObject<ActivationHandler, IActivateAudioInterfaceCompletionHandler> {
 public:
  ActivationHandler() : done_(CreateEventW(nullptr, TRUE, FALSE, nullptr)) {}
  HANDLE done() const { return done_; }
  HRESULT result() const { return result_; }
  IAudioClient* TakeClient() {
    IAudioClient* c = client_;
    client_ = nullptr;
    return c;
  }

  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** out) override {
    return Query(riid, out, {&kIidIActivateCompletionHandler, &kIidIAgileObject});
  }
  HRESULT STDMETHODCALLTYPE ActivateCompleted(IActivateAudioInterfaceAsyncOperation* op) override {
    HRESULT hr = E_FAIL;
    IUnknown* unk = nullptr;
    const HRESULT got = op ? op->GetActivateResult(&hr, &unk) : E_POINTER;
    if (FAILED(got)) hr = got;
    if (SUCCEEDED(hr)) hr = unk ? unk->QueryInterface(kIidIAudioClient, reinterpret_cast<void**>(&client_)) : E_NOINTERFACE;
    if (unk) unk->Release();
    result_ = hr;
    SetEvent(done_);  // after the writes above: the waiter reads them only once this is signalled
    return S_OK;
  }

 private:
  friend class ComObject<ActivationHandler, IActivateAudioInterfaceCompletionHandler>;  // its Release deletes
  ~ActivationHandler() {
    if (client_) client_->Release();
    CloseHandle(done_);
  }
  HANDLE done_;
  HRESULT result_ = E_PENDING;
  IAudioClient* client_ = nullptr;
};

// IMMNotificationClient notes, queued by the callbacks (any COM thread) for the device thread.
struct NoteQueue {
  std::mutex mutex;
  std::deque<EndpointNote> notes;
  HANDLE wake = nullptr;  // the device thread's wake event (not owned)
  bool closed = false;
  void Push(EndpointNote&& n) {
    std::lock_guard<std::mutex> lock(mutex);
    if (closed) return;
    notes.push_back(std::move(n));
    SetEvent(wake);
  }
};

// Only queues (no COM calls, no JS): Windows forbids blocking in these callbacks.
class NotificationClient final : public ComObject<NotificationClient, IMMNotificationClient> {
 public:
  explicit NotificationClient(std::shared_ptr<NoteQueue> q) : q_(std::move(q)) {}
  HRESULT STDMETHODCALLTYPE QueryInterface(REFIID riid, void** out) override { return Query(riid, out, {&kIidIMMNotificationClient}); }
  HRESULT STDMETHODCALLTYPE OnDeviceStateChanged(LPCWSTR id, DWORD state) override {
    return Note(EndpointNote::Type::kStateChanged, id, state, 0, 0);
  }
  HRESULT STDMETHODCALLTYPE OnDeviceAdded(LPCWSTR id) override { return Note(EndpointNote::Type::kAdded, id, 0, 0, 0); }
  HRESULT STDMETHODCALLTYPE OnDeviceRemoved(LPCWSTR id) override { return Note(EndpointNote::Type::kRemoved, id, 0, 0, 0); }
  HRESULT STDMETHODCALLTYPE OnDefaultDeviceChanged(EDataFlow flow, ERole role, LPCWSTR id) override {
    return Note(EndpointNote::Type::kDefaultChanged, id, 0, static_cast<int>(flow), static_cast<int>(role));
  }
  HRESULT STDMETHODCALLTYPE OnPropertyValueChanged(LPCWSTR, const PROPERTYKEY) override { return S_OK; }

 private:
  HRESULT Note(EndpointNote::Type type, LPCWSTR id, DWORD state, int flow, int role) {
    EndpointNote n;
    n.type = type;
    n.id = Utf8(id);
    n.state = state;
    n.flow = flow;
    n.role = role;
    n.time_ns = MonotonicNowNs();
    q_->Push(std::move(n));
    return S_OK;
  }
  std::shared_ptr<NoteQueue> q_;
};

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

// One client: render, loopback / plain / process capture; shared, exclusive or IAudioClient3 minimum period.
struct Stream {
  StreamKind kind = StreamKind::kRender;
  IMMDevice* device = nullptr;  // null for process loopback (a virtual device)
  IAudioClient* client = nullptr;
  HANDLE event = nullptr;
  bool event_driven = false;
  UINT32 buffer_frames = 0;
  double period_ms = 10;
  PacketFormat fmt;             // what the client delivers / takes
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
  WasapiStreamOptions opts;      // as opened (--reopen opens them again on the new default endpoint)
  bool reopening = false;        // lost; trying the default endpoint every kReopenRetryNs until the deadline
  int64_t lost_at_ns = 0;
  int64_t next_try_ns = 0;
  Error lost_error;
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
  std::function<void(WasapiPlayOutcome&)> done;
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
  bool render_lost = false;  // a played stream's endpoint went away under --reopen (play() says so)
  WasapiStats stats;
  // device watch
  std::shared_ptr<NoteQueue> notes;
  NotificationClient* notifier = nullptr;
  EndpointTracker tracker;
  std::function<void(WasapiDeviceEvent&&)> on_event;

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
    Unwatch();
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
      if (capture && capture->event_driven && !capture->failed && !capture->reopening) handles[n++] = capture->event;
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
      if (notes) DrainNotes();
      if (render && !render->failed) ServiceRender();
      if (capture && capture->reopening) TryReopen();
      if (capture && !capture->failed && !capture->reopening) ServiceCapture();
    }
  }

  // The endpoint `id` (empty: the default endpoint of `flow`), checked to be of that flow.
  bool ResolveDevice(const std::string& id, EDataFlow flow, IMMDevice** out, Error* err) {
    HRESULT hr;
    if (id.empty()) {
      hr = enumerator->GetDefaultAudioEndpoint(flow, eConsole, out);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), flow == eRender ? "there is no default render endpoint" : "there is no default capture endpoint");
        return false;
      }
      return true;
    }
    std::wstring w = Wide(id);
    hr = enumerator->GetDevice(w.c_str(), out);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "no audio endpoint with this id");
      if (err->code == ErrorCode::INTERNAL || err->code == ErrorCode::INVALID_ARGUMENT) err->code = ErrorCode::DEVICE_NOT_FOUND;
      err->hint = "ids come from listDevices(); they differ between machines (and Wine prefixes)";
      return false;
    }
    if (DataFlow(*out) != flow) {
      *err = HresultError(kAudclntEWrongEndpointType, flow == eRender ? "this is a capture endpoint: render and loopback need a render endpoint"
                                                                       : "this is a render endpoint: plain capture needs a capture endpoint (loopback captures a render endpoint)");
      return false;
    }
    return true;
  }

  static EDataFlow DataFlow(IMMDevice* d) {
    IMMEndpoint* ep = nullptr;
    EDataFlow flow = eRender;
    if (SUCCEEDED(d->QueryInterface(kIidIMMEndpoint, reinterpret_cast<void**>(&ep)))) {
      ep->GetDataFlow(&flow);
      ep->Release();
    }
    return flow;
  }

  // Process loopback: ActivateAudioInterfaceAsync on the virtual process-loopback device, bounded wait.
  bool ActivateProcessLoopback(uint32_t pid, IAudioClient** out, Error* err) {
    static const char kHint[] = "process loopback needs Windows 10 version 2004 (build 19041) or later; Wine does not implement it";
    using RtlGetVersionFn = LONG(WINAPI*)(OSVERSIONINFOW*);
    auto rtl = reinterpret_cast<RtlGetVersionFn>(reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlGetVersion")));
    OSVERSIONINFOW v;
    std::memset(&v, 0, sizeof v);
    v.dwOSVersionInfoSize = sizeof v;
    if (rtl && rtl(&v) == 0 && (v.dwMajorVersion < 10 || v.dwBuildNumber < kProcessLoopbackMinBuild)) {
      *err = MakeError(ErrorCode::BACKEND_UNAVAILABLE, "this Windows has no process loopback (it is older than Windows 10 2004)", kHint);
      return false;
    }
    HANDLE proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!proc) {
      *err = MakeError(ErrorCode::DEVICE_NOT_FOUND, "no running process with this id", "pass the PID of a running process (Task Manager, Get-Process)");
      return false;
    }
    CloseHandle(proc);
    HMODULE mmdevapi = LoadLibraryW(L"mmdevapi.dll");
    auto activate = mmdevapi ? reinterpret_cast<ActivateAudioInterfaceAsyncFn>(reinterpret_cast<void*>(GetProcAddress(mmdevapi, "ActivateAudioInterfaceAsync"))) : nullptr;
    if (!activate) {
      *err = MakeError(ErrorCode::BACKEND_UNAVAILABLE, "mmdevapi.dll has no ActivateAudioInterfaceAsync", kHint);
      return false;
    }
    ActivationParams params;
    std::memset(&params, 0, sizeof params);
    params.activation_type = kActivationTypeProcessLoopback;
    params.process_loopback.target_process_id = pid;
    params.process_loopback.process_loopback_mode = kIncludeTargetProcessTree;
    PROPVARIANT pv;
    PropVariantInit(&pv);
    pv.vt = VT_BLOB;
    pv.blob.cbSize = sizeof params;
    pv.blob.pBlobData = reinterpret_cast<BYTE*>(&params);  // not PropVariantClear'ed: the blob is ours
    auto* handler = new ActivationHandler();
    IActivateAudioInterfaceAsyncOperation* op = nullptr;
    HRESULT hr = activate(kProcessLoopbackDevice, kIidIAudioClient, &pv, handler, &op);
    if (SUCCEEDED(hr)) {
      const DWORD w = WaitForSingleObject(handler->done(), kActivationTimeoutMs);
      if (w != WAIT_OBJECT_0) {
        handler->Release();  // a late completion still finds the handler alive (the operation holds a reference)
        if (op) op->Release();
        *err = MakeError(ErrorCode::TIMEOUT, "process-loopback activation did not complete within 3 s", kHint);
        return false;
      }
      hr = handler->result();
      if (SUCCEEDED(hr)) *out = handler->TakeClient();
    }
    handler->Release();
    if (op) op->Release();
    if (FAILED(hr) || !*out) {
      *err = HresultError(static_cast<uint32_t>(FAILED(hr) ? hr : E_NOINTERFACE), "process-loopback activation (ActivateAudioInterfaceAsync) failed");
      err->code = ErrorCode::BACKEND_UNAVAILABLE;
      err->hint = kHint;
      return false;
    }
    return true;
  }

  // A fresh IAudioClient for s (Initialize may run only once per client).
  bool Activate(Stream& s, const WasapiStreamOptions& o, Error* err) {
    SafeRelease(s.client);
    if (s.kind == StreamKind::kProcess) return ActivateProcessLoopback(o.process_id, &s.client, err);
    HRESULT hr = s.device->Activate(kIidIAudioClient, CLSCTX_ALL, nullptr, reinterpret_cast<void**>(&s.client));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IMMDevice::Activate(IAudioClient) failed");
      return false;
    }
    return true;
  }

  // Opens and initialises a client of `kind` (endpoint, format, share mode, event or polling) and reads its
  // buffer size; the caller gets the render / capture service.
  bool OpenStream(Stream& s, const WasapiStreamOptions& o, StreamKind kind, Error* err) {
    s.kind = kind;
    const bool loopback = kind == StreamKind::kLoopback || kind == StreamKind::kProcess;
    if (loopback && o.exclusive) {
      *err = MakeError(ErrorCode::INVALID_ARGUMENT, "loopback capture is shared mode only (exclusive streams bypass the mix it records)",
                       "drop --exclusive, or capture a capture endpoint (--device ID of kind capture)");
      return false;
    }
    if (loopback && (o.min_period || o.period_ms > 0)) {
      *err = MakeError(ErrorCode::INVALID_ARGUMENT, "IAudioClient3 minimum periods apply to render and capture endpoints, never to loopback",
                       "drop --min-period, or capture a capture endpoint (--device ID of kind capture)");
      return false;
    }
    if (kind == StreamKind::kProcess) {
      s.info.device = "process:" + std::to_string(o.process_id);
      s.info.name = "process " + std::to_string(o.process_id) + " (and its children)";
    } else {
      if (!ResolveDevice(o.device, kind == StreamKind::kCapture ? eCapture : eRender, &s.device, err)) return false;
      LPWSTR wid = nullptr;
      if (SUCCEEDED(s.device->GetId(&wid))) {
        s.info.device = Utf8(wid);
        CoTaskMemFree(wid);
      }
      s.info.name = FriendlyName(s.device);
    }
    s.info.mode = KindName(kind);
    s.info.exclusive = o.exclusive;
    s.info.min_period = o.min_period;
    if (!Activate(s, o, err)) return false;
    const bool ok = o.exclusive ? InitExclusive(s, o, err)
                    : (o.min_period || o.period_ms > 0) ? InitMinPeriod(s, o, err)
                                                        : InitShared(s, o, err);
    if (!ok) return false;
    HRESULT hr = s.client->GetBufferSize(&s.buffer_frames);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetBufferSize failed");
      return false;
    }
    s.info.sample_rate = s.fmt.sample_rate;
    s.info.channels = s.fmt.channels;
    s.info.sample_format = EncodingName(s.fmt.encoding);
    s.info.period_ms = s.period_ms;
    s.info.event_driven = s.event_driven;
    s.info.buffer_ms = s.buffer_frames * 1000.0 / s.fmt.sample_rate;
    return true;
  }

  bool UseEvent(Stream& s, Error* err) {
    s.event = CreateEventW(nullptr, FALSE, FALSE, nullptr);
    HRESULT hr = s.client->SetEventHandle(s.event);
    s.event_driven = SUCCEEDED(hr);
    if (!s.event_driven) *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::SetEventHandle failed");
    return s.event_driven;
  }

  // Shared mode: float32 at the requested rate/channels, AUTOCONVERTPCM when that differs from the mix format
  // (always for process loopback, which has no mix format); event-driven unless refused or polling was asked for.
  bool InitShared(Stream& s, const WasapiStreamOptions& o, Error* err) {
    bool same = false;
    if (s.kind != StreamKind::kProcess) {
      WAVEFORMATEX* mix = nullptr;
      HRESULT hr = s.client->GetMixFormat(&mix);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetMixFormat failed");
        return false;
      }
      PacketFormat mixf;
      const bool mix_float = ToPacketFormat(mix, &mixf) && mixf.encoding == SampleEncoding::kFloat32;
      same = mix_float && mixf.sample_rate == o.sample_rate && mixf.channels == o.channels;
      CoTaskMemFree(mix);
    }
    WAVEFORMATEXTENSIBLE want = FloatFormat(o.sample_rate, o.channels);
    s.fmt = FloatPacketFormat(o.sample_rate, o.channels);
    const DWORD extra = s.kind == StreamKind::kLoopback || s.kind == StreamKind::kProcess ? kLoopback : 0;
    const DWORD flags = extra | (same ? 0 : (kAutoConvertPcm | kSrcDefaultQuality));
    s.info.converted = !same;
    REFERENCE_TIME def_period = 0, min_period = 0;
    if (SUCCEEDED(s.client->GetDevicePeriod(&def_period, &min_period)) && def_period > 0) s.period_ms = def_period / 1e4;
    const REFERENCE_TIME duration = static_cast<REFERENCE_TIME>(o.buffer_ms * 1e4);
    HRESULT hr = E_FAIL;
    if (!o.polling) {
      hr = s.client->Initialize(AUDCLNT_SHAREMODE_SHARED, flags | kEventCallback, duration, 0,
                                reinterpret_cast<WAVEFORMATEX*>(&want), nullptr);
      if (SUCCEEDED(hr)) {
        Error ignored;
        if (!UseEvent(s, &ignored)) {
          // Refused after Initialize: start over in polling mode on a fresh client.
          CloseHandle(s.event);
          s.event = nullptr;
          if (!Activate(s, o, err)) return false;
        }
      } else if (static_cast<uint32_t>(hr) == kAudclntEDeviceInvalidated || static_cast<uint32_t>(hr) == kAudclntEWrongEndpointType) {
        *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Initialize failed");
        return false;
      } else if (!Activate(s, o, err)) {  // the event mode was refused: a fresh client for the polling fallback
        return false;
      }
    }
    if (!s.event_driven) {
      hr = s.client->Initialize(AUDCLNT_SHAREMODE_SHARED, flags, duration, 0, reinterpret_cast<WAVEFORMATEX*>(&want), nullptr);
      if (FAILED(hr)) {
        *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Initialize (shared mode) failed");
        return false;
      }
    }
    return true;
  }

  // Exclusive mode: the first format the endpoint takes among float32, PCM 24-in-32, PCM16, packed PCM24 at the
  // requested rate/channels; period = the requested buffer (at least the device minimum), realigned once on
  // AUDCLNT_E_BUFFER_SIZE_NOT_ALIGNED. Event-driven unless polling was asked for (no silent fallback here).
  bool InitExclusive(Stream& s, const WasapiStreamOptions& o, Error* err) {
    struct Candidate {
      SampleEncoding enc;
      unsigned valid_bits;
    };
    const Candidate candidates[] = {{SampleEncoding::kFloat32, 32}, {SampleEncoding::kPcm32, 24}, {SampleEncoding::kPcm16, 16}, {SampleEncoding::kPcm24, 24}};
    const Candidate* chosen = nullptr;
    WAVEFORMATEXTENSIBLE fmt;
    for (const Candidate& c : candidates) {
      fmt = MakeFormat(c.enc, o.sample_rate, o.channels, c.valid_bits);
      if (s.client->IsFormatSupported(AUDCLNT_SHAREMODE_EXCLUSIVE, reinterpret_cast<WAVEFORMATEX*>(&fmt), nullptr) == S_OK) {
        chosen = &c;
        break;
      }
    }
    // None accepted (Wine refuses them all: 0x8889000E / 0x88890008): let Initialize with float32 decide, so the
    // error the user sees is the one that opening the stream gives (Wine: 0x8889000A event, 0x8889000E polling).
    if (!chosen) {
      chosen = &candidates[0];
      fmt = MakeFormat(chosen->enc, o.sample_rate, o.channels, chosen->valid_bits);
    }
    s.fmt.channels = o.channels;
    s.fmt.sample_rate = o.sample_rate;
    s.fmt.encoding = chosen->enc;
    s.fmt.block_align = fmt.Format.nBlockAlign;
    REFERENCE_TIME def_period = 0, min_period = 0;
    s.client->GetDevicePeriod(&def_period, &min_period);
    REFERENCE_TIME period = std::max<REFERENCE_TIME>(min_period, static_cast<REFERENCE_TIME>(o.buffer_ms * 1e4));
    const DWORD flags = o.polling ? 0 : kEventCallback;
    HRESULT hr = E_FAIL;
    for (int attempt = 0; attempt < 2; attempt++) {
      hr = s.client->Initialize(AUDCLNT_SHAREMODE_EXCLUSIVE, flags, period, period, reinterpret_cast<WAVEFORMATEX*>(&fmt), nullptr);
      if (static_cast<uint32_t>(hr) != kAudclntEBufferSizeNotAligned || attempt > 0) break;
      UINT32 frames = 0;  // the aligned size the endpoint wants, as a period
      s.client->GetBufferSize(&frames);
      period = static_cast<REFERENCE_TIME>(1e7 * frames / o.sample_rate + 0.5);
      if (!Activate(s, o, err)) return false;
    }
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Initialize (exclusive mode) failed");
      return false;
    }
    s.period_ms = period / 1e4;
    return o.polling || UseEvent(s, err);
  }

  // IAudioClient3: shared mode at the engine's minimum period (min_period) or at period_ms rounded to the
  // engine's fundamental period, in the mix format (no conversion allowed). Windows refuses a period outside
  // [min, max] with AUDCLNT_E_INVALID_DEVICE_PERIOD (named to the user); Wine honours any period ≥ min and
  // then buffers 3 periods in its PulseAudio stream.
  bool InitMinPeriod(Stream& s, const WasapiStreamOptions& o, Error* err) {
    IAudioClient3* c3 = nullptr;
    HRESULT hr = s.client->QueryInterface(kIidIAudioClient3, reinterpret_cast<void**>(&c3));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient3 is not available (Windows 10 or later)");
      err->code = ErrorCode::BACKEND_UNAVAILABLE;
      err->hint = "drop --min-period";
      return false;
    }
    WAVEFORMATEX* mix = nullptr;
    hr = c3->GetMixFormat(&mix);
    if (FAILED(hr) || !ToPacketFormat(mix, &s.fmt)) {
      if (mix) CoTaskMemFree(mix);
      c3->Release();
      *err = FAILED(hr) ? HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetMixFormat failed")
                        : MakeError(ErrorCode::FORMAT_UNSUPPORTED, "the endpoint's mix format is neither float32 nor PCM 16/24/32", "drop --min-period");
      return false;
    }
    if (s.fmt.sample_rate != o.sample_rate || s.fmt.channels != o.channels) {
      CoTaskMemFree(mix);
      c3->Release();
      *err = MakeError(ErrorCode::FORMAT_UNSUPPORTED, "IAudioClient3 minimum periods run in the endpoint's mix format only",
                       "ask for the mix format's rate and channels (loopcheck devices shows them)");
      return false;
    }
    UINT32 def = 0, fundamental = 0, min = 0, max = 0;
    hr = c3->GetSharedModeEnginePeriod(mix, &def, &fundamental, &min, &max);
    UINT32 frames = min;
    if (SUCCEEDED(hr) && !o.min_period) {
      const UINT32 unit = fundamental ? fundamental : 1;
      const double want = o.period_ms * s.fmt.sample_rate / 1000.0 / unit;
      frames = std::max<UINT32>(min, static_cast<UINT32>(want + 0.5) * unit);
    }
    if (SUCCEEDED(hr)) hr = c3->InitializeSharedAudioStream(o.polling ? 0 : kEventCallback, frames, mix, nullptr);
    CoTaskMemFree(mix);
    c3->Release();
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), o.min_period ? "IAudioClient3::InitializeSharedAudioStream (minimum period) failed"
                                                                   : "IAudioClient3::InitializeSharedAudioStream (periodMs) failed");
      return false;
    }
    s.period_ms = frames * 1000.0 / s.fmt.sample_rate;
    s.info.converted = false;  // the mix format itself
    return o.polling || UseEvent(s, err);
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

  void FailCapture(HRESULT hr, const char* what) { LoseCapture(HresultError(static_cast<uint32_t>(hr), what)); }

  // The capture failed: with --reopen and a lost endpoint, start re-opening on the default endpoint (the device
  // thread retries every kReopenRetryNs); otherwise report the error once.
  void LoseCapture(const Error& e) {
    CaptureState& c = *capture;
    if (c.failed || c.reopening) return;
    if (c.opts.reopen && e.code == ErrorCode::DEVICE_LOST && c.kind != StreamKind::kProcess) {
      c.reopening = true;
      c.lost_at_ns = MonotonicNowNs();
      c.next_try_ns = c.lost_at_ns;
      c.lost_error = e;
      c.Close();  // the COM objects of the lost endpoint; queue, converter and callbacks stay
      return;
    }
    c.failed = true;
    if (c.on_error) c.on_error(e);
  }

  // One re-open attempt (--reopen): the same options on the flow's current default endpoint. On success the
  // converter restarts (next chunk flagged discontinuity; its position advanced by the time nothing was captured).
  void TryReopen() {
    CaptureState& c = *capture;
    const int64_t now = MonotonicNowNs();
    if (now < c.next_try_ns) return;
    c.next_try_ns = now + kReopenRetryNs;
    // A keep-alive render stream on the lost endpoint goes too; a played one fails (play() reports DEVICE_LOST).
    if (render && (c.kind == StreamKind::kLoopback || render->failed)) {
      if (render->user_opened) render_lost = true;
      CloseRender();
    }
    WasapiStreamOptions o = c.opts;
    o.device.clear();
    auto fresh = std::make_unique<CaptureState>();
    Error err;
    if (!OpenCaptureClient(*fresh, o, &err) || !StartCapture(*fresh, o, &err)) {
      fresh->Close();
      if (now - c.lost_at_ns >= kReopenTimeoutNs) {
        c.reopening = false;
        c.failed = true;
        if (c.on_error) c.on_error(c.lost_error);
      }
      return;
    }
    const bool same_format = fresh->fmt.encoding == c.fmt.encoding && fresh->fmt.channels == c.fmt.channels &&
                             fresh->fmt.sample_rate == c.fmt.sample_rate && fresh->fmt.block_align == c.fmt.block_align;
    if (!same_format) {
      // The ring is in the original format: give up rather than mislabel samples.
      fresh->Close();
      if (render && !render->user_opened) CloseRender();
      c.reopening = false;
      c.failed = true;
      if (c.on_error) c.on_error(MakeError(ErrorCode::DEVICE_LOST, "the endpoint went away and the new default endpoint has another format", "open a new capture"));
      return;
    }
    fresh->conv = std::move(c.conv);
    fresh->queue = std::move(c.queue);
    fresh->on_error = std::move(c.on_error);
    fresh->opts = c.opts;
    const uint64_t lost_frames = static_cast<uint64_t>(now - c.lost_at_ns) * c.fmt.sample_rate / 1000000000ull;
    fresh->conv->Restart(*fresh->queue, lost_frames);
    capture = std::move(fresh);
    stats.reopens++;
  }

  void ServiceCapture() {
    CaptureState& c = *capture;
    // GetNextPacketSize keeps answering S_OK/0 on an invalidated device (Wine): GetCurrentPadding reports it.
    // (Process loopback clients need not implement it; their endpoint is virtual and never invalidated.)
    UINT32 padding = 0;
    HRESULT hr = c.kind == StreamKind::kProcess ? S_OK : c.client->GetCurrentPadding(&padding);
    if (FAILED(hr)) return FailCapture(hr, "IAudioClient::GetCurrentPadding (capture) failed");
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
    // A loopback depends on this stream: a lost endpoint ends (or, with --reopen, re-opens) the capture too.
    if (capture && capture->kind == StreamKind::kLoopback && e.code == ErrorCode::DEVICE_LOST) LoseCapture(e);
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
    const unsigned ch = r.fmt.channels;
    const unsigned block = r.fmt.block_align;
    size_t from_signal = 0;
    const bool frame0 = r.playing && r.pos_frames == 0;
    if (r.playing) {
      const size_t left = r.samples.size() / ch - r.pos_frames;
      from_signal = std::min<size_t>(left, n);
      EncodeFrames(r.samples.data() + r.pos_frames * ch, from_signal, r.fmt, buf);  // memcpy for float32
    }
    if (from_signal < n) std::memset(buf + from_signal * block, 0, (n - from_signal) * block);  // silence in any PCM
    hr = r.rc->ReleaseBuffer(n, 0);
    if (FAILED(hr)) return FailRender(hr, "IAudioRenderClient::ReleaseBuffer failed");
    stats.render_frames += n;
    if (r.playing) {
      const int64_t now_ns = MonotonicNowNs();
      if (frame0) r.outcome.write_time_ns = now_ns;
      if (from_signal > 0) r.outcome.marks.Add(r.pos_frames, now_ns);
      r.pos_frames += from_signal;
      r.outcome.frames_written = r.pos_frames;
      if (r.pos_frames * ch >= r.samples.size()) FinishPlay(true, Error{});
    }
  }

  bool OpenRender(const WasapiStreamOptions& o, bool user, WasapiStreamInfo* info, Error* err) {
    auto r = std::make_unique<RenderState>();
    if (!OpenStream(*r, o, StreamKind::kRender, err)) {
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
    // Exclusive mode: the whole (period-sized) buffer.
    const uint32_t rate = r->fmt.sample_rate;
    r->target_frames = o.exclusive ? r->buffer_frames
                                   : std::min<UINT32>(r->buffer_frames, std::max<UINT32>(1, static_cast<UINT32>(o.buffer_ms * rate / 1000.0)));
    r->info.buffer_ms = r->target_frames * 1000.0 / rate;
    r->user_opened = user;
    if (user) render_lost = false;
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

  // A capture client of the options' mode (loopback / endpoint / process) with its capture service.
  bool OpenCaptureClient(CaptureState& c, const WasapiStreamOptions& o, Error* err) {
    const StreamKind kind = o.mode == WasapiCaptureMode::kEndpoint ? StreamKind::kCapture
                            : o.mode == WasapiCaptureMode::kProcess ? StreamKind::kProcess
                                                                    : StreamKind::kLoopback;
    if (!OpenStream(c, o, kind, err)) return false;
    HRESULT hr = c.client->GetService(kIidIAudioCaptureClient, reinterpret_cast<void**>(&c.cc));
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::GetService(IAudioCaptureClient) failed");
      return false;
    }
    return true;
  }

  // Starts a capture client; loopbacks first get a render stream that keeps the mix running (silence unless
  // play()): Windows sends no loopback packets when nothing renders. Process loopback: on the default endpoint.
  bool StartCapture(CaptureState& c, const WasapiStreamOptions& o, Error* err) {
    const bool keepalive = c.kind == StreamKind::kLoopback || c.kind == StreamKind::kProcess;
    bool opened_render = false;
    if (keepalive && !render) {
      WasapiStreamOptions ro;
      ro.device = c.kind == StreamKind::kLoopback ? c.info.device : std::string();
      ro.sample_rate = o.sample_rate;
      ro.channels = o.channels;
      ro.buffer_ms = o.buffer_ms;
      ro.polling = o.polling;
      if (!OpenRender(ro, false, nullptr, err)) return false;
      opened_render = true;
    }
    HRESULT hr = c.client->Start();
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IAudioClient::Start (capture) failed");
      if (opened_render) CloseRender();
      return false;
    }
    return true;
  }

  // ---- device watch ----

  // Kind, name and state of an endpoint (empty kind when it cannot be opened any more).
  EndpointLookup Lookup(const std::string& id) {
    EndpointLookup l;
    IMMDevice* d = nullptr;
    std::wstring w = Wide(id);
    if (id.empty() || FAILED(enumerator->GetDevice(w.c_str(), &d))) return l;
    DWORD state = 0;
    d->GetState(&state);
    l.state = state;
    l.kind = DataFlow(d) == eCapture ? "capture" : "render";
    l.name = FriendlyName(d);
    d->Release();
    return l;
  }

  bool Watch(std::function<void(WasapiDeviceEvent&&)> fn, Error* err) {
    if (notes) {
      *err = MakeError(ErrorCode::DEVICE_BUSY, "this session is already watching devices");
      return false;
    }
    // Snapshot first (no events for it), then register: a change in between is reported against the snapshot.
    IMMDeviceCollection* coll = nullptr;
    if (SUCCEEDED(enumerator->EnumAudioEndpoints(eAll, DEVICE_STATE_ACTIVE, &coll))) {
      UINT count = 0;
      coll->GetCount(&count);
      for (UINT i = 0; i < count; i++) {
        IMMDevice* d = nullptr;
        if (FAILED(coll->Item(i, &d))) continue;
        LPWSTR wid = nullptr;
        if (SUCCEEDED(d->GetId(&wid))) {
          const std::string id = Utf8(wid);
          CoTaskMemFree(wid);
          tracker.Seed(id, Lookup(id));
        }
        d->Release();
      }
      coll->Release();
    }
    notes = std::make_shared<NoteQueue>();
    notes->wake = wake;
    notifier = new NotificationClient(notes);
    HRESULT hr = enumerator->RegisterEndpointNotificationCallback(notifier);
    if (FAILED(hr)) {
      *err = HresultError(static_cast<uint32_t>(hr), "IMMDeviceEnumerator::RegisterEndpointNotificationCallback failed");
      notifier->Release();
      notifier = nullptr;
      notes.reset();
      return false;
    }
    on_event = std::move(fn);
    return true;
  }

  void Unwatch() {
    if (!notifier) return;
    enumerator->UnregisterEndpointNotificationCallback(notifier);
    {
      std::lock_guard<std::mutex> lock(notes->mutex);
      notes->closed = true;  // a callback still in flight queues nothing and wakes nobody
    }
    notifier->Release();
    notifier = nullptr;
    notes.reset();
    on_event = nullptr;
  }

  // Device thread: the queued notes become events (allocation is fine here: no stream is serviced meanwhile
  // for long, and notes are rare).
  void DrainNotes() {
    std::deque<EndpointNote> todo;
    {
      std::lock_guard<std::mutex> lock(notes->mutex);
      todo.swap(notes->notes);
    }
    for (const EndpointNote& n : todo) {
      EndpointEvent e;
      if (!tracker.Apply(n, Lookup(n.id), &e) || !on_event) continue;
      WasapiDeviceEvent ev;
      ev.type = e.type;
      ev.kind = e.kind;
      ev.id = e.id;
      ev.name = e.name;
      ev.time_ns = n.time_ns;
      on_event(std::move(ev));
    }
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
    if (!m.OpenCaptureClient(*c, o, err)) {
      c->Close();
      return;
    }
    if (c->fmt.channels != queue->channels() || c->fmt.sample_rate != queue->sampleRate()) {
      *err = MakeError(ErrorCode::INTERNAL, "the capture format differs from the queue's");
      c->Close();
      return;
    }
    // Scratch for the largest packet: the whole client buffer (packets never exceed it), at least 100 ms.
    c->conv = std::make_unique<PacketConverter>(c->fmt, std::max<UINT32>(c->buffer_frames, c->fmt.sample_rate / 10));
    c->queue = queue;
    c->on_error = std::move(on_error);
    c->opts = o;
    if (!m.StartCapture(*c, o, err)) {
      c->Close();
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
    // Render where the loopback listens (its endpoint); otherwise on the default render endpoint.
    if (ro.device.empty() && m.capture && m.capture->kind == StreamKind::kLoopback) ro.device = m.capture->info.device;
    // Replace the silent keep-alive stream (or a previous playback stream) with one of the asked format and buffer.
    m.CloseRender();
    ok = m.OpenRender(ro, true, info, err);
  });
  return ok;
}

bool WasapiEngine::Play(std::vector<float>&& samples, std::function<void(WasapiPlayOutcome&)> done, Error* err) {
  Impl& m = *impl_;
  bool ok = false;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  // The marks' capacity is reserved here, on the JS thread, not on the device thread (samples ≥ frames: the
  // render state, and so the channel count, belongs to the device thread).
  WasapiPlayOutcome fresh;
  fresh.marks.Reserve(samples.size(), 32);
  m.Invoke([&] {
    if (m.render_lost) {
      *err = HresultError(kAudclntEDeviceInvalidated, "the render stream's endpoint went away (the capture re-opened on the new default endpoint)");
      return;
    }
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
    r.outcome = std::move(fresh);
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
    const bool need_keepalive = m.capture && (m.capture->kind == StreamKind::kLoopback || m.capture->kind == StreamKind::kProcess);
    if (need_keepalive) {
      if (m.capture->kind == StreamKind::kLoopback) keep.device = m.capture->info.device;
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
    if (m.capture && m.capture->conv) s.capture = m.capture->conv->stats();
  });
  return s;
}

bool WasapiEngine::Watch(std::function<void(WasapiDeviceEvent&&)> on_event, Error* err) {
  Impl& m = *impl_;
  if (!m.started) {
    *err = MakeError(ErrorCode::INTERNAL, "the WASAPI session is closed");
    return false;
  }
  bool ok = false;
  m.Invoke([&] { ok = m.Watch(std::move(on_event), err); });
  return ok;
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
