// JS surface of the WASAPI backend: class WasapiSession, the same shape as PulseSession (native/linux/
// pulse_binding.cc) so src/backends/wasapi.ts mirrors src/backends/pulse.ts. One device thread per session
// (WasapiEngine), at most one loopback capture and one render stream. Errors are JS Errors with code / hint /
// osCode (the HRESULT); capture chunks arrive through the StreamPump's bounded ThreadSafeFunction.
#include <napi.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "common/backend.h"
#include "common/binding.h"
#include "common/stream_pump.h"
#include "win/wasapi_engine.h"

namespace loopcheck {

BackendInfo GetNativeBackendInfo() {
  BackendInfo info;
  info.name = "wasapi";
  info.available = true;  // COM failures surface when a session starts (new WasapiSession)
  return info;
}

namespace {

constexpr double kRingSeconds = 2.0;  // capture ring between the device thread and the pump

void ThrowError(Napi::Env env, const Error& e) { MakeJsError(env, e).ThrowAsJavaScriptException(); }

uint32_t OptUint(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}
double OptDouble(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
std::string OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
bool OptBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}

Napi::Object StreamInfoToJs(Napi::Env env, const WasapiStreamInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", info.device);
  o.Set("name", info.name);
  o.Set("sampleRate", Napi::Number::New(env, info.sample_rate));
  o.Set("channels", Napi::Number::New(env, info.channels));
  o.Set("bufferMs", Napi::Number::New(env, info.buffer_ms));
  o.Set("periodMs", Napi::Number::New(env, info.period_ms));
  o.Set("eventDriven", Napi::Boolean::New(env, info.event_driven));
  o.Set("converted", Napi::Boolean::New(env, info.converted));
  o.Set("exclusive", Napi::Boolean::New(env, info.exclusive));
  o.Set("minPeriod", Napi::Boolean::New(env, info.min_period));
  o.Set("mode", info.mode);
  o.Set("sampleFormat", info.sample_format);
  return o;
}

// Parses { device?, sampleRate, channels, bufferMs, polling?, exclusive?, minPeriod?, and for capture: mode?
// ('loopback' | 'capture' | 'process'), processId?, reopen? }; throws INVALID_ARGUMENT when out of range.
bool ParseStreamOptions(Napi::Env env, const Napi::Object& opts, WasapiStreamOptions* o) {
  o->device = OptString(opts, "device");
  o->sample_rate = OptUint(opts, "sampleRate", 48000);
  o->channels = OptUint(opts, "channels", 2);
  o->buffer_ms = OptDouble(opts, "bufferMs", 20);
  o->polling = OptBool(opts, "polling");
  o->exclusive = OptBool(opts, "exclusive");
  o->min_period = OptBool(opts, "minPeriod");
  o->reopen = OptBool(opts, "reopen");
  o->process_id = OptUint(opts, "processId", 0);
  const std::string mode = OptString(opts, "mode");
  if (mode == "capture") o->mode = WasapiCaptureMode::kEndpoint;
  else if (mode == "process") o->mode = WasapiCaptureMode::kProcess;
  else if (mode.empty() || mode == "loopback") o->mode = WasapiCaptureMode::kLoopback;
  else {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "unknown capture mode", "mode is 'loopback', 'capture' or 'process'"));
    return false;
  }
  if (o->mode == WasapiCaptureMode::kProcess && o->process_id == 0) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "process loopback needs a processId", "pass processId (a PID)"));
    return false;
  }
  if (o->exclusive && o->min_period) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "exclusive and minPeriod exclude each other",
                              "minPeriod is a shared-mode setting; pick one"));
    return false;
  }
  if (o->sample_rate < 8000 || o->sample_rate > 384000 || o->channels < 1 || o->channels > 32 ||
      !(o->buffer_ms > 0 && o->buffer_ms <= 2000)) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "stream format out of range",
                              "use sampleRate 8000-384000, channels 1-32, bufferMs in (0, 2000]"));
    return false;
  }
  return true;
}

struct PlayContext {
  Napi::Promise::Deferred deferred;
  explicit PlayContext(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class WasapiSession : public Napi::ObjectWrap<WasapiSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "WasapiSession",
                       {
                           InstanceMethod<&WasapiSession::ListDevices>("listDevices"),
                           InstanceMethod<&WasapiSession::LibraryVersion>("libraryVersion"),
                           InstanceMethod<&WasapiSession::OpenCapture>("openCapture"),
                           InstanceMethod<&WasapiSession::StopCapture>("stopCapture"),
                           InstanceMethod<&WasapiSession::OpenPlayback>("openPlayback"),
                           InstanceMethod<&WasapiSession::Play>("play"),
                           InstanceMethod<&WasapiSession::ClosePlayback>("closePlayback"),
                           InstanceMethod<&WasapiSession::Stats>("stats"),
                           InstanceMethod<&WasapiSession::Close>("close"),
                       });
  }

  // new WasapiSession({ timeoutMs? }): starts the device thread (COM MTA, MMDeviceEnumerator).
  explicit WasapiSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WasapiSession>(info) {
    Napi::Env env = info.Env();
    Error err;
    if (!engine_.Start(&err)) {
      ThrowError(env, err);
      return;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &WasapiSession::OnEnvCleanup, this);
    hook_added_ = true;
  }

  ~WasapiSession() override {
    if (hook_added_) napi_remove_env_cleanup_hook(env_, &WasapiSession::OnEnvCleanup, this);
    Shutdown(false);
  }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<WasapiSession*>(arg);
    self->hook_added_ = false;
    self->Shutdown(true);
  }

  void Shutdown(bool join_pump) {
    engine_.Close();
    if (pump_) {
      if (join_pump) pump_->StopNowAndJoin();
      else pump_->RequestStop();
      pump_.reset();
    }
  }

  Napi::Value ListDevices(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<WasapiDevice> devices;
    Error err;
    if (!engine_.ListDevices(&devices, &err)) {
      ThrowError(env, err);
      return env.Undefined();
    }
    Napi::Array out = Napi::Array::New(env, devices.size());
    for (size_t i = 0; i < devices.size(); i++) {
      const WasapiDevice& d = devices[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", d.id);
      o.Set("name", d.name);
      o.Set("kind", d.kind);
      o.Set("isDefault", d.is_default);
      o.Set("state", Napi::Number::New(env, d.state));
      o.Set("sampleRate", Napi::Number::New(env, d.sample_rate));
      o.Set("channels", Napi::Number::New(env, d.channels));
      o.Set("related", "");
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value LibraryVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), engine_.Version()); }

  // openCapture({ device?, sampleRate, channels, bufferMs, polling? }, onChunk) -> stream info
  // Loopback on the render endpoint `device` (default render endpoint when omitted).
  Napi::Value OpenCapture(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "openCapture(options, onChunk) needs an options object and a function"));
      return env.Undefined();
    }
    if (pump_) {
      ThrowError(env, MakeError(ErrorCode::DEVICE_BUSY, "a capture stream is already open on this session", "stop it first"));
      return env.Undefined();
    }
    WasapiStreamOptions o;
    if (!ParseStreamOptions(env, info[0].As<Napi::Object>(), &o)) return env.Undefined();
    auto queue = std::make_shared<CaptureQueue>(o.channels, o.sample_rate, static_cast<size_t>(kRingSeconds * o.sample_rate));
    PumpOptions po;
    po.min_frames = o.sample_rate / 100;  // 10 ms
    po.max_frames = o.sample_rate / 50;   // 20 ms
    po.poll_ms = 10;
    po.max_queue = 64;
    std::shared_ptr<StreamPump> pump = StreamPump::Create(env, info[1].As<Napi::Function>(), queue, po);
    std::weak_ptr<StreamPump> weak = pump;
    WasapiStreamInfo si;
    Error err;
    if (!engine_.OpenCapture(o, queue,
                             [weak](const Error& e) {
                               if (auto p = weak.lock()) p->SetError(e);
                             },
                             &si, &err)) {
      pump->StopNowAndJoin();
      ThrowError(env, err);
      return env.Undefined();
    }
    pump_ = pump;
    return StreamInfoToJs(env, si);
  }

  Napi::Value StopCapture(const Napi::CallbackInfo& info) {
    engine_.CloseCapture();
    if (pump_) {
      pump_->RequestStop();
      pump_.reset();
    }
    return info.Env().Undefined();
  }

  Napi::Value OpenPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    WasapiStreamOptions o;
    if (!ParseStreamOptions(env, opts, &o)) return env.Undefined();
    WasapiStreamInfo si;
    Error err;
    if (!engine_.OpenPlayback(o, &si, &err)) {
      ThrowError(env, err);
      return env.Undefined();
    }
    return StreamInfoToJs(env, si);
  }

  // play(interleaved Float32Array) -> Promise<{ writeTimeMs, framesWritten, underruns }>
  Napi::Value Play(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "play() needs an interleaved Float32Array"));
      return env.Undefined();
    }
    Napi::Float32Array arr = info[0].As<Napi::Float32Array>();
    std::vector<float> samples(arr.Data(), arr.Data() + arr.ElementLength());  // copied on the JS thread
    auto* ctx = new PlayContext(env);
    Napi::Promise promise = ctx->deferred.Promise();
    Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "loopcheck-wasapi-play", 2, 1, ctx,
        [](Napi::Env, PlayContext* c) { delete c; });
    auto done = [tsfn, ctx](WasapiPlayOutcome& o) mutable {
      auto* result = new WasapiPlayOutcome(std::move(o));  // moves the reserved marks, no copy
      napi_status st = tsfn.NonBlockingCall(result, [ctx](Napi::Env env, Napi::Function, WasapiPlayOutcome* r) {
        std::unique_ptr<WasapiPlayOutcome> owned(r);
        if (env == nullptr) return;
        if (!r->ok) {
          ctx->deferred.Reject(MakeJsError(env, r->error).Value());
          return;
        }
        Napi::Object out = Napi::Object::New(env);
        out.Set("writeTimeMs", Napi::Number::New(env, static_cast<double>(r->write_time_ns) / 1e6));
        out.Set("framesWritten", Napi::Number::New(env, static_cast<double>(r->frames_written)));
        out.Set("underruns", Napi::Number::New(env, r->underruns));
        SetWriteMarks(env, out, r->marks);
        ctx->deferred.Resolve(out);
      });
      if (st != napi_ok) delete result;
      tsfn.Release();
    };
    Error err;
    if (!engine_.Play(std::move(samples), done, &err)) {
      tsfn.Release();
      ThrowError(env, err);
      return env.Undefined();
    }
    return promise;
  }

  Napi::Value ClosePlayback(const Napi::CallbackInfo& info) {
    engine_.ClosePlayback();
    return info.Env().Undefined();
  }

  // stats(): packet counters of the open capture (flags, gaps from device positions) and render counters.
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    WasapiStats s = engine_.Stats();
    auto num = [&](uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", num(s.capture.packets));
    o.Set("capturedFrames", num(s.capture.frames));
    o.Set("discontinuities", num(s.capture.discontinuities));
    o.Set("silentPackets", num(s.capture.silent_packets));
    o.Set("timestampErrors", num(s.capture.timestamp_errors));
    o.Set("gaps", num(s.capture.gaps));
    o.Set("gapFrames", num(s.capture.gap_frames));
    o.Set("overlaps", num(s.capture.overlaps));
    o.Set("droppedFrames", num(s.capture.dropped_frames));
    o.Set("renderFrames", num(s.render_frames));
    o.Set("renderEmptyPolls", num(s.render_empty_polls));
    o.Set("wakeups", num(s.wakeups));
    o.Set("reopens", num(s.reopens));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown(false);
    return info.Env().Undefined();
  }

  WasapiEngine engine_;
  std::shared_ptr<StreamPump> pump_;
  napi_env env_ = nullptr;
  bool hook_added_ = false;
};

// ---- hot-plug ----

constexpr size_t kWatchQueue = 256;  // bounded TSFN queue of device events; beyond it events are counted as missed

struct WatchItem {
  WasapiDeviceEvent event;
  uint64_t missed = 0;  // events dropped (full queue) before this one
};

void CallWatchJs(Napi::Env env, Napi::Function fn, WatchItem* item) {
  std::unique_ptr<WatchItem> owned(item);
  if (env == nullptr || fn.IsEmpty()) return;
  const WasapiDeviceEvent& e = item->event;
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", e.type);
  o.Set("kind", e.kind);
  o.Set("id", e.id);
  if (!e.name.empty()) o.Set("name", e.name);
  o.Set("timeMs", Napi::Number::New(env, static_cast<double>(e.time_ns) / 1e6));
  if (item->missed > 0) o.Set("missed", Napi::Number::New(env, static_cast<double>(item->missed)));
  fn.Call({o, env.Null()});
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
}

// new WasapiDeviceWatch({}, onEvent(event | null, error | null)): its own device thread with an
// IMMNotificationClient registered; events (added / removed / default-changed) until close(). While open it keeps
// the event loop alive (like fs.watch). The COM callbacks only queue; the device thread calls the TSFN.
class WasapiDeviceWatch : public Napi::ObjectWrap<WasapiDeviceWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "WasapiDeviceWatch", {InstanceMethod<&WasapiDeviceWatch::Close>("close")});
  }

  explicit WasapiDeviceWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<WasapiDeviceWatch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "new WasapiDeviceWatch(options, onEvent) needs a function"));
      return;
    }
    Error err;
    if (!engine_.Start(&err)) {
      ThrowError(env, err);
      return;
    }
    auto* alive = new std::shared_ptr<std::atomic<bool>>(tsfn_alive_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "loopcheck-wasapi-watch", kWatchQueue, 1, alive,
                                          [](Napi::Env, std::shared_ptr<std::atomic<bool>>* a) {
                                            (*a)->store(false);
                                            delete a;
                                          });
    Napi::ThreadSafeFunction tsfn = tsfn_;
    std::shared_ptr<std::atomic<uint64_t>> missed = missed_;
    auto on_event = [tsfn, missed](WasapiDeviceEvent&& e) mutable {
      auto* item = new WatchItem();
      item->event = std::move(e);
      item->missed = missed->exchange(0);
      if (tsfn.NonBlockingCall(item, CallWatchJs) != napi_ok) {
        missed->fetch_add(item->missed + 1);
        delete item;
      }
    };
    if (!engine_.Watch(on_event, &err)) {
      Shutdown();
      ThrowError(env, err);
      return;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &WasapiDeviceWatch::OnEnvCleanup, this);
    hook_added_ = true;
  }

  ~WasapiDeviceWatch() override {
    if (hook_added_) napi_remove_env_cleanup_hook(env_, &WasapiDeviceWatch::OnEnvCleanup, this);
    Shutdown();
  }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<WasapiDeviceWatch*>(arg);
    self->hook_added_ = false;
    self->Shutdown();
  }

  // Joins the device thread (it unregisters the notification client: no event after), then lets the TSFN go.
  void Shutdown() {
    engine_.Close();
    if (!released_ && tsfn_ && tsfn_alive_->load()) tsfn_.Release();
    released_ = true;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  WasapiEngine engine_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> tsfn_alive_ = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<std::atomic<uint64_t>> missed_ = std::make_shared<std::atomic<uint64_t>>(0);
  bool released_ = false;
  napi_env env_ = nullptr;
  bool hook_added_ = false;
};

}  // namespace

void RegisterBackendExports(Napi::Env env, Napi::Object exports) {
  exports.Set("WasapiSession", WasapiSession::Define(env));
  exports.Set("WasapiDeviceWatch", WasapiDeviceWatch::Define(env));
}

}  // namespace loopcheck
