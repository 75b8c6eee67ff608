// JS surface of the WASAPI backend: class WasapiSession, the same shape as PulseSession (native/linux/
// pulse_binding.cc) so src/backends/wasapi.ts mirrors src/backends/pulse.ts. One device thread per session
// (WasapiEngine), at most one loopback capture and one render stream. Errors are JS Errors with code / hint /
// osCode (the HRESULT); capture chunks arrive through the StreamPump's bounded ThreadSafeFunction.
#include <napi.h>

#include <memory>
#include <string>
#include <utility>

#include "common/backend.h"
#include "common/js_glue.h"
#include "win/wasapi_engine.h"

namespace loopcheck {

BackendInfo GetNativeBackendInfo() {
  BackendInfo info;
  info.name = "wasapi";
  info.available = true;  // COM failures surface when a session starts (new WasapiSession)
  return info;
}

namespace {

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
  o->period_ms = OptDouble(opts, "periodMs", 0);
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
  if (!(o->period_ms >= 0 && o->period_ms <= 1000) || (o->period_ms > 0 && (o->exclusive || o->min_period))) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "periodMs must be in [0, 1000] and excludes exclusive and minPeriod",
                              "pick one of periodMs, minPeriod, exclusive"));
    return false;
  }
  if (o->exclusive && o->min_period) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "exclusive and minPeriod exclude each other",
                              "minPeriod is a shared-mode setting; pick one"));
    return false;
  }
  return CheckStreamFormat(env, o->sample_rate, o->channels, o->buffer_ms, "stream format out of range");
}

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
    // Process exit with open streams: stop the device thread, force the pump out and join it (bounded).
    cleanup_.Add(env, [](void* self) { static_cast<WasapiSession*>(self)->Shutdown(true); }, this);
  }

  ~WasapiSession() override {
    cleanup_.Remove();
    Shutdown(false);
  }

 private:
  void Shutdown(bool join_pump) {
    engine_.Close();
    ReleasePump(&pump_, join_pump);
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
    if (!CheckOpenCaptureArgs(info, pump_ != nullptr)) return env.Undefined();
    WasapiStreamOptions o;
    if (!ParseStreamOptions(env, info[0].As<Napi::Object>(), &o)) return env.Undefined();
    CapturePump cp(env, info[1].As<Napi::Function>(), o.channels, o.sample_rate);
    WasapiStreamInfo si;
    Error err;
    if (!engine_.OpenCapture(o, cp.queue, cp.OnError(), &si, &err)) {
      cp.pump->StopNowAndJoin();
      ThrowError(env, err);
      return env.Undefined();
    }
    pump_ = cp.pump;
    return StreamInfoToJs(env, si);
  }

  Napi::Value StopCapture(const Napi::CallbackInfo& info) {
    engine_.CloseCapture();
    ReleasePump(&pump_, false);
    return info.Env().Undefined();
  }

  Napi::Value OpenPlayback(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    WasapiStreamOptions o;
    if (!ParseStreamOptions(env, OptionsArg(info), &o)) return env.Undefined();
    WasapiStreamInfo si;
    Error err;
    if (!engine_.OpenPlayback(o, &si, &err)) {
      ThrowError(env, err);
      return env.Undefined();
    }
    return StreamInfoToJs(env, si);
  }

  // play(interleaved Float32Array) -> Promise<{ writeTimeMs, framesWritten, underruns, writeMarks, … }>
  Napi::Value Play(const Napi::CallbackInfo& info) {
    return PlayPromise(info, "loopcheck-wasapi-play", engine_, &WasapiEngine::Play);
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
  EnvCleanupHook cleanup_;
};

// ---- hot-plug ----

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
    if (!CheckWatchArgs(info, "new WasapiDeviceWatch(options, onEvent) needs a function")) return;
    Error err;
    if (!engine_.Start(&err)) {
      ThrowError(env, err);
      return;
    }
    channel_.Open(env, info[1].As<Napi::Function>(), "loopcheck-wasapi-watch");
    if (!engine_.Watch(channel_.OnEvent(), &err)) {
      Shutdown();
      ThrowError(env, err);
      return;
    }
    cleanup_.Add(env, [](void* self) { static_cast<WasapiDeviceWatch*>(self)->Shutdown(); }, this);
  }

  ~WasapiDeviceWatch() override {
    cleanup_.Remove();
    Shutdown();
  }

 private:
  // Joins the device thread (it unregisters the notification client: no event after), then lets the TSFN go.
  void Shutdown() {
    engine_.Close();
    channel_.Release();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  WasapiEngine engine_;
  WatchChannel<WasapiDeviceEvent> channel_;
  EnvCleanupHook cleanup_;
};

}  // namespace

void RegisterBackendExports(Napi::Env env, Napi::Object exports) {
  exports.Set("WasapiSession", WasapiSession::Define(env));
  exports.Set("WasapiDeviceWatch", WasapiDeviceWatch::Define(env));
}

}  // namespace loopcheck
