// JS surface of the pulse backend: class PulseSession (one connection, at most one capture and one playback
// stream). Errors are thrown as JS Errors carrying code / hint / osCode (src/native.ts turns them into
// LoopcheckError). Capture chunks arrive through the StreamPump's bounded ThreadSafeFunction.
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "common/backend.h"
#include "common/js_glue.h"
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

Napi::Object StreamInfoToJs(Napi::Env env, const PulseStreamInfo& info) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("device", info.device);
  o.Set("sampleRate", Napi::Number::New(env, info.sample_rate));
  o.Set("channels", Napi::Number::New(env, info.channels));
  o.Set("bufferMs", Napi::Number::New(env, info.buffer_ms));
  return o;
}

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
    // Process exit with open streams: stop libpulse's thread, force the pump out and join it (bounded).
    cleanup_.Add(env, [](void* self) { static_cast<PulseSession*>(self)->Shutdown(true); }, this);
  }

  ~PulseSession() override {
    cleanup_.Remove();
    Shutdown(false);
  }

 private:
  void Shutdown(bool join_pump) {
    conn_.Close();
    ReleasePump(&pump_, join_pump);
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

  // Resolves the sink (explicit id, or the server's default sink) and the format of { device?, sampleRate,
  // channels, bufferMs }; throws INVALID_ARGUMENT(`range_message`) when the format is out of range.
  bool ParseStream(Napi::Env env, const Napi::Object& opts, const char* range_message, std::string* sink, uint32_t* rate,
                   uint32_t* channels, double* buffer_ms) {
    *sink = OptString(opts, "device");
    Error err;
    if (sink->empty() && !conn_.DefaultSink(sink, &err)) {
      ThrowError(env, err);
      return false;
    }
    *rate = OptUint(opts, "sampleRate", 48000);
    *channels = OptUint(opts, "channels", 2);
    *buffer_ms = OptDouble(opts, "bufferMs", 20);
    return CheckStreamFormat(env, *rate, *channels, *buffer_ms, range_message);
  }

  // openCapture({ device?, sampleRate, channels, bufferMs }, onChunk) -> { device, sampleRate, channels, bufferMs }
  Napi::Value OpenCapture(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!CheckOpenCaptureArgs(info, pump_ != nullptr)) return env.Undefined();
    std::string sink;
    uint32_t rate, channels;
    double buffer_ms;
    if (!ParseStream(env, info[0].As<Napi::Object>(), "capture format out of range", &sink, &rate, &channels, &buffer_ms)) {
      return env.Undefined();
    }
    CapturePump cp(env, info[1].As<Napi::Function>(), channels, rate);
    PulseStreamInfo si;
    Error err;
    if (!conn_.OpenRecord(sink, rate, channels, buffer_ms, cp.queue, cp.OnError(), &si, &err)) {
      cp.pump->StopNowAndJoin();
      ThrowError(env, err);
      return env.Undefined();
    }
    pump_ = cp.pump;
    return StreamInfoToJs(env, si);
  }

  // stopCapture(): no more device data; pending chunks are still delivered, then onChunk(null, null).
  Napi::Value StopCapture(const Napi::CallbackInfo& info) {
    conn_.CloseRecord();
    ReleasePump(&pump_, false);
    return info.Env().Undefined();
  }

  Napi::Value OpenPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string sink;
    uint32_t rate, channels;
    double buffer_ms;
    if (!ParseStream(env, OptionsArg(info), "playback format out of range", &sink, &rate, &channels, &buffer_ms)) {
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

  // play(interleaved Float32Array) -> Promise<{ writeTimeMs, framesWritten, underruns, writeMarks, … }>
  Napi::Value Play(const Napi::CallbackInfo& info) { return PlayPromise(info, "loopcheck-play", conn_, &PulseConnection::Play); }

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
  EnvCleanupHook cleanup_;
};

// ---- hot-plug ----

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
    if (!CheckWatchArgs(info, "new PulseDeviceWatch(options, onEvent) needs a function")) return;
    int timeout_ms = 3000;
    if (info[0].IsObject()) timeout_ms = static_cast<int>(OptUint(info[0].As<Napi::Object>(), "timeoutMs", 3000));
    Error err;
    if (!conn_.Connect(timeout_ms, &err)) {
      ThrowError(env, err);
      return;
    }
    channel_.Open(env, info[1].As<Napi::Function>(), "loopcheck-device-watch");
    if (!conn_.Watch(channel_.OnEvent(), channel_.OnLost(), &err)) {
      Shutdown();
      ThrowError(env, err);
      return;
    }
    cleanup_.Add(env, [](void* self) { static_cast<PulseDeviceWatch*>(self)->Shutdown(); }, this);
  }

  ~PulseDeviceWatch() override {
    cleanup_.Remove();
    Shutdown();
  }

 private:
  // Stops libpulse's thread (no callback can run after), then lets the TSFN go (the loop may exit).
  void Shutdown() {
    conn_.Close();
    channel_.Release();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  PulseConnection conn_;
  WatchChannel<DeviceEvent> channel_;
  EnvCleanupHook cleanup_;
};

}  // namespace

void RegisterBackendExports(Napi::Env env, Napi::Object exports) {
  exports.Set("PulseSession", PulseSession::Define(env));
  exports.Set("PulseDeviceWatch", PulseDeviceWatch::Define(env));
}

}  // namespace loopcheck
