// Node-API glue shared by the native backends' JS classes (native/linux/pulse_binding.cc,
// native/win/wasapi_binding.cc): option parsing, the capture pump, the env cleanup hook, play()'s promise and the
// device watch's bounded ThreadSafeFunction. Templated on the backend's outcome / event type where they differ
// (the fields JS sees are the same). Header-only: each addon build includes it from one binding file.
#pragma once
#include <napi.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/binding.h"
#include "common/errors.h"
#include "common/stream_pump.h"
#include "common/write_marks.h"

namespace loopcheck {

inline void ThrowError(Napi::Env env, const Error& e) { MakeJsError(env, e).ThrowAsJavaScriptException(); }

// ---- options: a missing or mistyped key is the fallback ----

inline uint32_t OptUint(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : fallback;
}
inline double OptDouble(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
}
inline std::string OptString(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
inline bool OptBool(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsBoolean() && v.As<Napi::Boolean>().Value();
}
// info[0] when it is an object, else {} (openPlayback() with no options).
inline Napi::Object OptionsArg(const Napi::CallbackInfo& info) {
  return info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(info.Env());
}

// The stream format every backend accepts; throws INVALID_ARGUMENT(`message`) outside it.
inline bool CheckStreamFormat(Napi::Env env, uint32_t rate, uint32_t channels, double buffer_ms, const char* message) {
  if (rate < 8000 || rate > 384000 || channels < 1 || channels > 32 || !(buffer_ms > 0 && buffer_ms <= 2000)) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, message, "use sampleRate 8000-384000, channels 1-32, bufferMs in (0, 2000]"));
    return false;
  }
  return true;
}

// ---- capture: openCapture(options, onChunk) ----

// Throws unless the call is openCapture(object, function) on a session without an open capture.
inline bool CheckOpenCaptureArgs(const Napi::CallbackInfo& info, bool capture_open) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
    ThrowError(env, MakeError(ErrorCode::INVALID_ARGUMENT, "openCapture(options, onChunk) needs an options object and a function"));
    return false;
  }
  if (capture_open) {
    ThrowError(env, MakeError(ErrorCode::DEVICE_BUSY, "a capture stream is already open on this session", "stop it first"));
    return false;
  }
  return true;
}

// The ring between the device thread and the pump (2 s of audio), and the pump that hands 10–20 ms chunks to
// onChunk through a TSFN queue of at most 64.
struct CapturePump {
  static constexpr double kRingSeconds = 2.0;

  std::shared_ptr<CaptureQueue> queue;
  std::shared_ptr<StreamPump> pump;

  CapturePump(Napi::Env env, Napi::Function on_chunk, uint32_t channels, uint32_t rate)
      : queue(std::make_shared<CaptureQueue>(channels, rate, static_cast<size_t>(kRingSeconds * rate))) {
    PumpOptions po;
    po.min_frames = rate / 100;  // 10 ms
    po.max_frames = rate / 50;   // 20 ms
    po.poll_ms = 10;
    po.max_queue = 64;
    pump = StreamPump::Create(env, on_chunk, queue, po);
  }

  // The engine's on_error (its thread): the stream failed; the pump delivers the error after pending data.
  std::function<void(const Error&)> OnError() const {
    std::weak_ptr<StreamPump> weak = pump;
    return [weak](const Error& e) {
      if (auto p = weak.lock()) p->SetError(e);
    };
  }
};

// Lets a session's pump go: `join` at env teardown (force it out and join, bounded), else a non-blocking stop
// (pending chunks are still delivered, then onChunk(null, null)).
inline void ReleasePump(std::shared_ptr<StreamPump>* pump, bool join) {
  if (!*pump) return;
  if (join) (*pump)->StopNowAndJoin();
  else (*pump)->RequestStop();
  pump->reset();
}

// ---- lifecycle ----

// Process exit with the object still alive: napi calls `on_cleanup(self)` at env teardown (stop the OS thread,
// join the pump) unless the object's destructor removed the hook first.
class EnvCleanupHook {
 public:
  EnvCleanupHook() = default;
  EnvCleanupHook(const EnvCleanupHook&) = delete;
  EnvCleanupHook& operator=(const EnvCleanupHook&) = delete;
  ~EnvCleanupHook() { Remove(); }

  void Add(napi_env env, void (*on_cleanup)(void*), void* self) {
    env_ = env;
    on_cleanup_ = on_cleanup;
    self_ = self;
    napi_add_env_cleanup_hook(env, &EnvCleanupHook::Run, this);
    added_ = true;
  }
  void Remove() {
    if (added_) napi_remove_env_cleanup_hook(env_, &EnvCleanupHook::Run, this);
    added_ = false;
  }

 private:
  static void Run(void* arg) {
    auto* hook = static_cast<EnvCleanupHook*>(arg);
    hook->added_ = false;
    hook->on_cleanup_(hook->self_);
  }

  napi_env env_ = nullptr;
  void (*on_cleanup_)(void*) = nullptr;
  void* self_ = nullptr;
  bool added_ = false;
};

// ---- play(interleaved Float32Array) -> Promise<{ writeTimeMs, framesWritten, underruns, writeMarks, … }> ----

struct PlayContext {
  Napi::Promise::Deferred deferred;
  explicit PlayContext(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
};

// The samples are copied on the JS thread; `(engine.*play)(samples, done, err)` queues them. `done(outcome)` runs
// once on the engine's audio thread: it moves the outcome (with its reserved write marks, no copy) into the one
// TSFN call that settles the promise on the JS thread, then releases the TSFN. Outcome: ok, error, write_time_ns,
// frames_written, underruns, marks.
template <typename Engine, typename Outcome>
Napi::Value PlayPromise(const Napi::CallbackInfo& info, const char* tsfn_name, Engine& engine,
                        bool (Engine::*play)(std::vector<float>&&, std::function<void(Outcome&)>, Error*)) {
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
      env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), tsfn_name, 2, 1, ctx,
      [](Napi::Env, PlayContext* c) { delete c; });
  auto done = [tsfn, ctx](Outcome& o) mutable {
    auto* result = new Outcome(std::move(o));  // moves the reserved marks, no copy
    napi_status st = tsfn.NonBlockingCall(result, [ctx](Napi::Env env, Napi::Function, Outcome* r) {
      std::unique_ptr<Outcome> owned(r);
      if (env == nullptr) return;
      if (!r->ok) {
        ctx->deferred.Reject(MakeJsError(env, r->error).Value());
        return;
      }
      Napi::Object out = Napi::Object::New(env);
      out.Set("writeTimeMs", Napi::Number::New(env, static_cast<double>(r->write_time_ns) / 1e6));
      out.Set("framesWritten", Napi::Number::New(env, static_cast<double>(r->frames_written)));
      out.Set("underruns", Napi::Number::New(env, r->underruns));
      // writeMarks = Float64Array [frame, timeMs, frame, timeMs, …]: one pair per write call (monotonic ms).
      const auto& marks = r->marks.marks();
      Napi::Float64Array arr = Napi::Float64Array::New(env, marks.size() * 2);
      for (size_t i = 0; i < marks.size(); i++) {
        arr[i * 2] = static_cast<double>(marks[i].frame);
        arr[i * 2 + 1] = static_cast<double>(marks[i].time_ns) / 1e6;
      }
      out.Set("writeMarks", arr);
      out.Set("writeMarksDropped", Napi::Number::New(env, static_cast<double>(r->marks.dropped())));
      ctx->deferred.Resolve(out);
    });
    if (st != napi_ok) delete result;
    tsfn.Release();
  };
  Error err;
  if (!(engine.*play)(std::move(samples), done, &err)) {
    tsfn.Release();
    ThrowError(env, err);
    return env.Undefined();
  }
  return promise;
}

// ---- device watch: onEvent(event | null, error | null) ----

constexpr size_t kWatchQueue = 256;  // bounded TSFN queue of device events; beyond it events are counted as missed

// One queued watch call: an event, or the connection-lost error. Event: type, kind, id, name, time_ns.
template <typename Event>
struct WatchItem {
  bool is_error = false;
  Event event;
  Error error;
  uint64_t missed = 0;  // events dropped (full queue) before this one
};

template <typename Event>
void CallWatchJs(Napi::Env env, Napi::Function fn, WatchItem<Event>* item) {
  std::unique_ptr<WatchItem<Event>> owned(item);
  if (env == nullptr || fn.IsEmpty()) return;
  if (item->is_error) {
    fn.Call({env.Null(), MakeJsError(env, item->error).Value()});
  } else {
    const Event& e = item->event;
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

// The watch's TSFN: Open() on the JS thread (it keeps the event loop alive, like fs.watch), OnEvent() / OnLost()
// as the engine's callbacks (they run on its thread and only queue), Release() once the engine's thread is joined.
// Throws INVALID_ARGUMENT(`message`) unless onEvent (info[1]) is a function.
inline bool CheckWatchArgs(const Napi::CallbackInfo& info, const char* message) {
  if (info.Length() >= 2 && info[1].IsFunction()) return true;
  ThrowError(info.Env(), MakeError(ErrorCode::INVALID_ARGUMENT, message));
  return false;
}

template <typename Event>
class WatchChannel {
 public:
  void Open(Napi::Env env, Napi::Function on_event, const char* name) {
    auto* alive = new std::shared_ptr<std::atomic<bool>>(alive_);
    tsfn_ = Napi::ThreadSafeFunction::New(env, on_event, name, kWatchQueue, 1, alive,
                                          [](Napi::Env, std::shared_ptr<std::atomic<bool>>* a) {
                                            (*a)->store(false);
                                            delete a;
                                          });
  }

  // One event: queued, or counted as missed when the queue is full (reported with the next one that gets through).
  std::function<void(Event&&)> OnEvent() const {
    Napi::ThreadSafeFunction tsfn = tsfn_;
    std::shared_ptr<std::atomic<uint64_t>> missed = missed_;
    return [tsfn, missed](Event&& e) mutable {
      auto* item = new WatchItem<Event>();
      item->event = std::move(e);
      item->missed = missed->exchange(0);
      if (tsfn.NonBlockingCall(item, CallWatchJs<Event>) != napi_ok) {
        missed->fetch_add(item->missed + 1);
        delete item;
      }
    };
  }

  // The connection is lost: the error must arrive, so a full queue is retried for up to ~1 s (the engine's own
  // thread, not an audio thread).
  std::function<void(const Error&)> OnLost() const {
    Napi::ThreadSafeFunction tsfn = tsfn_;
    return [tsfn](const Error& e) mutable {
      auto* item = new WatchItem<Event>();
      item->is_error = true;
      item->error = e;
      for (int attempt = 0; attempt < 200; attempt++) {
        const napi_status st = tsfn.NonBlockingCall(item, CallWatchJs<Event>);
        if (st == napi_ok) return;
        if (st != napi_queue_full) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      delete item;
    };
  }

  // No callback may run after this (the engine's thread is joined): lets the TSFN go, the loop may exit. Idempotent.
  void Release() {
    if (!released_ && tsfn_ && alive_->load()) tsfn_.Release();
    released_ = true;
  }

 private:
  Napi::ThreadSafeFunction tsfn_;
  std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
  std::shared_ptr<std::atomic<uint64_t>> missed_ = std::make_shared<std::atomic<uint64_t>>(0);
  bool released_ = false;
};

}  // namespace loopcheck
