#include "common/stream_pump.h"

#include <chrono>
#include <cstring>
#include <string>
#include <utility>

#include "common/clock.h"

namespace loopcheck {

namespace {

// One queued call: a chunk, an error, or the end marker.
struct PumpItem {
  enum Kind { kChunk, kError, kEnd } kind = kChunk;
  Chunk chunk;
  unsigned channels = 0;
  unsigned sample_rate = 0;
  Error error;
};

void CallJs(Napi::Env env, Napi::Function fn, PumpItem* item) {
  std::unique_ptr<PumpItem> owned(item);
  if (env == nullptr || fn.IsEmpty()) return;  // TSFN aborted at teardown: just free
  const int64_t received_ns = MonotonicNowNs();
  if (item->kind == PumpItem::kChunk) {
    const Chunk& c = item->chunk;
    Napi::Float32Array samples = Napi::Float32Array::New(env, c.samples.size());
    if (!c.samples.empty()) std::memcpy(samples.Data(), c.samples.data(), c.samples.size() * sizeof(float));
    Napi::Object o = Napi::Object::New(env);
    o.Set("samples", samples);
    o.Set("frames", Napi::Number::New(env, static_cast<double>(c.frames)));
    o.Set("channels", Napi::Number::New(env, item->channels));
    o.Set("sampleRate", Napi::Number::New(env, item->sample_rate));
    o.Set("framePosition", Napi::Number::New(env, static_cast<double>(c.frame_position)));
    o.Set("deviceTimeMs", Napi::Number::New(env, static_cast<double>(c.device_time_ns) / 1e6));
    o.Set("receivedAtMs", Napi::Number::New(env, static_cast<double>(received_ns) / 1e6));
    o.Set("flags", Napi::Number::New(env, c.flags));
    o.Set("overruns", Napi::Number::New(env, static_cast<double>(c.overruns)));
    o.Set("underruns", Napi::Number::New(env, static_cast<double>(c.underruns)));
    // Device-reported capture latency (µs → ms, signed), only when the backend measured one.
    if (c.server_latency_us != kNoServerLatency) {
      o.Set("serverLatencyMs", Napi::Number::New(env, static_cast<double>(c.server_latency_us) / 1000.0));
    }
    fn.Call({o});
  } else if (item->kind == PumpItem::kError) {
    fn.Call({env.Null(), MakeJsError(env, item->error).Value()});
  } else {
    fn.Call({env.Null(), env.Null()});
  }
  // An exception thrown by the JS callback must not stay pending in the TSFN call.
  if (env.IsExceptionPending()) env.GetAndClearPendingException();
}

}  // namespace

Napi::Error MakeJsError(Napi::Env env, const Error& e) {
  std::string message = e.message ? e.message : "";
  if (e.detail && *e.detail) message += std::string(": ") + e.detail;
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, ErrorCodeName(e.code)));
  err.Set("hint", Napi::String::New(env, e.hint ? e.hint : ""));
  if (e.has_os_code) err.Set("osCode", Napi::Number::New(env, static_cast<double>(e.os_code)));
  return err;
}

StreamPump::StreamPump(std::shared_ptr<CaptureQueue> queue, PumpOptions options)
    : queue_(std::move(queue)), options_(options) {}

StreamPump::~StreamPump() {
  if (thread_.joinable()) {
    stop_now_ = true;
    stop_ = true;
    cv_.notify_all();
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
    else thread_.join();
  }
}

std::shared_ptr<StreamPump> StreamPump::Create(Napi::Env env, Napi::Function on_chunk,
                                               std::shared_ptr<CaptureQueue> queue, PumpOptions options) {
  std::shared_ptr<StreamPump> pump(new StreamPump(std::move(queue), options));
  // The finalizer owns one reference: the pump lives until the TSFN is gone, then joins its thread.
  auto* keep = new std::shared_ptr<StreamPump>(pump);
  pump->tsfn_ = Napi::ThreadSafeFunction::New(
      env, on_chunk, "loopcheck-capture-pump", options.max_queue, 1, keep,
      [](Napi::Env, std::shared_ptr<StreamPump>* self) {
        // Normally the thread has released and is exiting. At environment teardown the TSFN is closed
        // under a running thread: force it out (it polls every poll_ms) so it never touches a freed TSFN.
        StreamPump& p = **self;
        p.stop_now_ = true;
        p.RequestStop();
        if (p.thread_.joinable()) p.thread_.join();
        delete self;
      });
  pump->thread_ = std::thread([raw = pump.get()] { raw->Run(); });
  return pump;
}

void StreamPump::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
}

void StreamPump::StopNowAndJoin() {
  stop_now_ = true;
  RequestStop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

void StreamPump::SetError(const Error& e) {
  // First caller wins: claim (0 -> 1), write error_, publish (has_error_). Readers check has_error_ first.
  int expected = 0;
  if (!error_claim_.compare_exchange_strong(expected, 1)) return;
  error_ = e;
  has_error_.store(true);
  cv_.notify_all();
}

bool StreamPump::Emit(Chunk&& chunk) {
  const size_t frames = chunk.frames;
  auto* item = new PumpItem();
  item->kind = PumpItem::kChunk;
  item->chunk = std::move(chunk);
  item->channels = queue_->channels();
  item->sample_rate = queue_->sampleRate();
  const napi_status status = tsfn_.NonBlockingCall(item, CallJs);
  if (status == napi_ok) {
    delivered_++;
    return true;
  }
  delete item;
  if (status == napi_queue_full) {
    dropped_++;
    queue_->AddConsumerDrop(frames);
    return true;
  }
  return false;  // napi_closing: JS is gone
}

bool StreamPump::EmitControl(bool is_error) {
  auto* item = new PumpItem();
  item->kind = is_error ? PumpItem::kError : PumpItem::kEnd;
  if (is_error) item->error = error_;
  // Control items must arrive: retry while the queue is full, for at most ~2 s, unless tearing down.
  for (int attempt = 0; attempt < 1000; attempt++) {
    const napi_status status = tsfn_.NonBlockingCall(item, CallJs);
    if (status == napi_ok) return true;
    if (status != napi_queue_full || stop_now_) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  delete item;
  return false;
}

void StreamPump::Run() {
  bool open = true;
  while (open && !stop_ && !has_error_) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms), [this] { return stop_.load() || has_error_.load(); });
    }
    Chunk chunk;
    while (open && !stop_now_ && queue_->PopChunk(chunk, options_.min_frames, options_.max_frames, false)) {
      open = Emit(std::move(chunk));
      chunk = Chunk();
    }
  }
  if (open && !stop_now_) {
    Chunk chunk;
    while (open && queue_->PopChunk(chunk, options_.min_frames, options_.max_frames, true)) {
      open = Emit(std::move(chunk));
      chunk = Chunk();
    }
    if (open && has_error_) open = EmitControl(true);
    if (open) EmitControl(false);
  }
  tsfn_.Release();
}

}  // namespace loopcheck
