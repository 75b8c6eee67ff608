// JS surface of the pulse backend: class PulseSession (one connection, at most one capture and one playback
// stream). Errors are thrown as JS Errors carrying code / hint / osCode (src/native.ts turns them into
// LoopcheckError). Capture chunks arrive through the StreamPump's bounded ThreadSafeFunction.
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
#include "linux/pulse_api.h"
#include "linux/pulse_engine.h"

namespace loopcheck {

BackendInfo GetNativeBackendInfo() {
  BackendInfo info;
  info.name = "pulse";
  Error err;
  info.available = pa::LoadApi(&err) != nullptr;
  if (!info.available) info.unavailable = err;
  return info;
}

namespace {

constexpr double kRingSeconds = 2.0;  // capture ring: 2 s of audio between libpulse's thread and the pump

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

Napi::Object StreamInfoToJs(Napi::Env env, const PulseStreamInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", info.device);
  o.Set("sampleRate", Napi::Number::New(env, info.sample_rate));
  o.Set("channels", Napi::Number::New(env, info.channels));
  o.Set("bufferMs", Napi::Number::New(env, info.buffer_ms));
  return o;
}

struct PlayContext {
  Napi::Promise::Deferred deferred;
  explicit PlayContext(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

class PulseSession : public Napi::ObjectWrap<PulseSession> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PulseSession",
                       {
                           InstanceMethod<&PulseSession::ListDevices>("listDevices"),
                           InstanceMethod<&PulseSession::LibraryVersion>("libraryVersion"),
                           InstanceMethod<&PulseSession::OpenCapture>("openCapture"),
                           InstanceMethod<&PulseSession::StopCapture>("stopCapture"),
                           InstanceMethod<&PulseSession::OpenPlayback>("openPlayback"),
                           InstanceMethod<&PulseSession::Play>("play"),
                           InstanceMethod<&PulseSession::ClosePlayback>("closePlayback"),
                           InstanceMethod<&PulseSession::Close>("close"),
                       });
  }

  // new PulseSession({ timeoutMs? })
  explicit PulseSession(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PulseSession>(info) {
    Napi::Env env = info.Env();
    int timeout_ms = 3000;
    if (info.Length() > 0 && info[0].IsObject()) timeout_ms = static_cast<int>(OptUint(info[0].As<Napi::Object>(), "timeoutMs", 3000));
    Error err;
    if (!conn_.Connect(timeout_ms, &err)) {
      ThrowError(env, err);
      return;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &PulseSession::OnEnvCleanup, this);
    hook_added_ = true;
  }

  ~PulseSession() override {
    if (hook_added_) napi_remove_env_cleanup_hook(env_, &PulseSession::OnEnvCleanup, this);
    Shutdown(false);
  }

 private:
  // Process exit with open streams: stop libpulse's thread, force the pump out and join it (bounded).
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PulseSession*>(arg);
    self->hook_added_ = false;
    self->Shutdown(true);
  }

  void Shutdown(bool join_pump) {
    conn_.Close();
    if (pump_) {
      if (join_pump) pump_->StopNowAndJoin();
      else pump_->RequestStop();
      pump_.reset();
    }
  }

  Napi::Value ListDevices(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<PulseDevice> devices;
    Error err;
    if (!conn_.ListDevices(&devices, &err)) {
      ThrowError(env, err);
      return env.Undefined();
    }
    Napi::Array out = Napi::Array::New(env, devices.size());
    for (size_t i = 0; i < devices.size(); i++) {
      const PulseDevice& d = devices[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("id", d.id);
      o.Set("name", d.name);
      o.Set("kind", d.kind);
      o.Set("isDefault", d.is_default);
      o.Set("sampleRate", Napi::Number::New(env, d.sample_rate));
      o.Set("channels", Napi::Number::New(env, d.channels));
      o.Set("related", d.related);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  }

  Napi::Value LibraryVersion(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), conn_.LibraryVersion()); }

  // Resolves the sink: explicit id, or the server's default sink.
  bool ResolveSink(Napi::Env env, const Napi::Object& opts, std::string* sink) {
    *sink = OptString(opts, "device");
    if (!sink->empty()) return true;
    Error err;
    if (!conn_.DefaultSink(sink, &err)) {
      ThrowError(env, err);
      return false;
    }
    return true;
  }

  // openCapture({ device?, sampleRate, channels, bufferMs }, onChunk) -> { device, sampleRate, channels, bufferMs }
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
    Napi::Object opts = info[0].As<Napi::Object>();
    std::string sink;
    if (!ResolveSink(env, opts, &sink)) return env.Undefined();
    const uint32_t rate = OptUint(opts, "sampleRate", 48000);
    const uint32_t channels = OptUint(opts, "channels", 2);
    const double buffer_ms = OptDouble(opts, "bufferMs", 20);
    if (rate < 8000 || rate > 384000 || channels < 1 || channels > 32 || !(buffer_ms > 0 && buffer_ms <= 2000)) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "capture format out of range",
                                "use sampleRate 8000-384000, channels 1-32, bufferMs in (0, 2000]"));
      return env.Undefined();
    }
    auto queue = std::make_shared<CaptureQueue>(channels, rate, static_cast<size_t>(kRingSeconds * rate));
    PumpOptions po;
    po.min_frames = rate / 100;  // 10 ms
    po.max_frames = rate / 50;   // 20 ms
    po.poll_ms = 10;
    po.max_queue = 64;
    std::shared_ptr<StreamPump> pump = StreamPump::Create(env, info[1].As<Napi::Function>(), queue, po);
    std::weak_ptr<StreamPump> weak = pump;
    PulseStreamInfo si;
    Error err;
    if (!conn_.OpenRecord(sink, rate, channels, buffer_ms, queue,
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

  // stopCapture(): no more device data; pending chunks are still delivered, then onChunk(null, null).
  Napi::Value StopCapture(const Napi::CallbackInfo& info) {
    conn_.CloseRecord();
    if (pump_) {
      pump_->RequestStop();
      pump_.reset();
    }
    return info.Env().Undefined();
  }

  Napi::Value OpenPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    std::string sink;
    if (!ResolveSink(env, opts, &sink)) return env.Undefined();
    const uint32_t rate = OptUint(opts, "sampleRate", 48000);
    const uint32_t channels = OptUint(opts, "channels", 2);
    const double buffer_ms = OptDouble(opts, "bufferMs", 20);
    if (rate < 8000 || rate > 384000 || channels < 1 || channels > 32 || !(buffer_ms > 0 && buffer_ms <= 2000)) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "playback format out of range",
                                "use sampleRate 8000-384000, channels 1-32, bufferMs in (0, 2000]"));
      return env.Undefined();
    }
    PulseStreamInfo si;
    Error err;
    if (!conn_.OpenPlayback(sink, rate, channels, buffer_ms, &si, &err)) {
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
    std::vector<float> samples(arr.Data(), arr.Data() + arr.ElementLength());  // preallocated on the JS thread
    auto* ctx = new PlayContext(env);
    Napi::Promise promise = ctx->deferred.Promise();
    Napi::ThreadSafeFunction tsfn = Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "loopcheck-play", 2, 1, ctx,
        [](Napi::Env, PlayContext* c) { delete c; });
    auto done = [tsfn, ctx](PlayOutcome& o) mutable {
      auto* result = new PlayOutcome(std::move(o));  // moves the reserved marks, no copy
      napi_status st = tsfn.NonBlockingCall(result, [ctx](Napi::Env env, Napi::Function, PlayOutcome* r) {
        std::unique_ptr<PlayOutcome> owned(r);
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
    if (!conn_.Play(std::move(samples), done, &err)) {
      tsfn.Release();
      ThrowError(env, err);
      return env.Undefined();
    }
    return promise;
  }

  Napi::Value ClosePlayback(const Napi::CallbackInfo& info) {
    conn_.ClosePlayback();
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown(false);
    return info.Env().Undefined();
  }

  PulseConnection conn_;
  std::shared_ptr<StreamPump> pump_;
  napi_env env_ = nullptr;
  bool hook_added_ = false;
};

// ---- hot-plug ----

constexpr size_t kWatchQueue = 256;  // bounded TSFN queue of device events; beyond it events are counted as missed

// One queued watch call: an event, or the connection-lost error.
struct WatchItem {
  bool is_error = false;
  DeviceEvent event;
  Error error;
  uint64_t missed = 0;  // events dropped (full queue) before this one
};

void CallWatchJs(Napi::Env env, Napi::Function fn, WatchItem* item) {
  std::unique_ptr<WatchItem> owned(item);
  if (env == nullptr || fn.IsEmpty()) return;
  if (item->is_error) {
    fn.Call({env.Null(), MakeJsError(env, item->error).Value()});
  } else {
    const DeviceEvent& e = item->event;
    Napi::Object o = Napi::Object::New(env);
    o.Set("type", e.type);
    o.Set("kind", e.kind);
    o.Set("id", e.id);
    if (!e.name.empty()) o.Set("name", e.name);
    o.Set("timeMs", Napi::Number::New(env, static_cast<double>(e.time_ns) / 1e6));
    if (item->missed > 0) o.Set("missed", Napi::Number::New(env, static_cast<double>(item->missed)));
    fn.Call({o, env.Null()});
  }
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
}

// new PulseDeviceWatch({ timeoutMs? }, onEvent(event | null, error | null)): a dedicated connection that
// reports sink/source hot-plug and default changes until close(). While open it keeps the event loop alive
// (like fs.watch). onEvent(null, error) once when the server connection is lost; then call close().
class PulseDeviceWatch : public Napi::ObjectWrap<PulseDeviceWatch> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PulseDeviceWatch", {InstanceMethod<&PulseDeviceWatch::Close>("close")});
  }

  explicit PulseDeviceWatch(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PulseDeviceWatch>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[1].IsFunction()) {
      ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "new PulseDeviceWatch(options, onEvent) needs a function"));
      return;
    }
    int timeout_ms = 3000;
    if (info[0].IsObject()) timeout_ms = static_cast<int>(OptUint(info[0].As<Napi::Object>(), "timeoutMs", 3000));
    Error err;
    if (!conn_.Connect(timeout_ms, &err)) {
      ThrowError(env, err);
      return;
    }
    auto* alive = new std::shared_ptr<std::atomic<bool>>(tsfn_alive_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "loopcheck-device-watch", kWatchQueue, 1, alive,
                                          [](Napi::Env, std::shared_ptr<std::atomic<bool>>* a) {
                                            (*a)->store(false);
                                            delete a;
                                          });
    Napi::ThreadSafeFunction tsfn = tsfn_;
    std::shared_ptr<std::atomic<uint64_t>> missed = missed_;
    auto on_event = [tsfn, missed](DeviceEvent&& e) mutable {
      auto* item = new WatchItem();
      item->event = std::move(e);
      item->missed = missed->exchange(0);
      if (tsfn.NonBlockingCall(item, CallWatchJs) != napi_ok) {
        missed->fetch_add(item->missed + 1);
        delete item;
      }
    };
    auto on_lost = [tsfn](const Error& e) mutable {
      auto* item = new WatchItem();
      item->is_error = true;
      item->error = e;
      // The error must arrive: retry a full queue for up to ~1 s (this is the watch connection's own thread).
      for (int attempt = 0; attempt < 200; attempt++) {
        const napi_status st = tsfn.NonBlockingCall(item, CallWatchJs);
        if (st == napi_ok) return;
        if (st != napi_queue_full) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      delete item;
    };
    if (!conn_.Watch(on_event, on_lost, &err)) {
      Shutdown();
      ThrowError(env, err);
      return;
    }
    env_ = env;
    napi_add_env_cleanup_hook(env, &PulseDeviceWatch::OnEnvCleanup, this);
    hook_added_ = true;
  }

  ~PulseDeviceWatch() override {
    if (hook_added_) napi_remove_env_cleanup_hook(env_, &PulseDeviceWatch::OnEnvCleanup, this);
    Shutdown();
  }

 private:
  static void OnEnvCleanup(void* arg) {
    auto* self = static_cast<PulseDeviceWatch*>(arg);
    self->hook_added_ = false;
    self->Shutdown();
  }

  // Stops libpulse's thread (no callback can run after), then lets the TSFN go (the loop may exit).
  void Shutdown() {
    conn_.Close();
    if (!released_ && tsfn_ && tsfn_alive_->load()) tsfn_.Release();
    released_ = true;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  PulseConnection conn_;
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> tsfn_alive_ = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<std::atomic<uint64_t>> missed_ = std::make_shared<std::atomic<uint64_t>>(0);
  bool released_ = false;
  napi_env env_ = nullptr;
  bool hook_added_ = false;
};

}  // namespace

void RegisterBackendExports(Napi::Env env, Napi::Object exports) {
  exports.Set("PulseSession", PulseSession::Define(env));
  exports.Set("PulseDeviceWatch", PulseDeviceWatch::Define(env));
}

}  // namespace loopcheck
