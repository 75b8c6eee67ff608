#include "linux/pulse_engine.h"

#include <chrono>
#include <thread>
#include <utility>

#include "common/clock.h"

namespace loopcheck {

namespace {

constexpr const char* kServerHint =
    "start a PulseAudio server (scripts/ci/pulse.sh start) and export PULSE_SERVER, or use --backend virtual";
constexpr int kOpenTimeoutMs = 5000;
// Smallest write block assumed when reserving write marks (a 5 ms buffer at 8 kHz asks for ~40 frames).
constexpr uint64_t kMinWriteBlockFrames = 32;

// The mainloop lock as a scope guard (the JS thread holds it while it touches pulse objects).
class Locked {
 public:
  Locked(const pa::Api* api, pa::threaded_mainloop* loop) : api_(api), loop_(loop) { api_->threaded_mainloop_lock(loop_); }
  ~Locked() { api_->threaded_mainloop_unlock(loop_); }
  void Unlock() { api_->threaded_mainloop_unlock(loop_); }
  void Lock() { api_->threaded_mainloop_lock(loop_); }

 private:
  const pa::Api* api_;
  pa::threaded_mainloop* loop_;
};

// Waits (lock held) until pred() holds, dropping the lock while sleeping 1 ms so callbacks can run.
template <typename Pred>
bool PollLocked(Locked& lock, int timeout_ms, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    lock.Unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lock.Lock();
  }
  return true;
}

uint32_t MsToBytes(double ms, uint32_t rate, uint32_t frame_bytes) {
  double frames = ms * rate / 1000.0;
  if (frames < 1) frames = 1;
  return static_cast<uint32_t>(frames + 0.5) * frame_bytes;
}

double BytesToMs(uint32_t bytes, uint32_t rate, uint32_t frame_bytes) {
  return static_cast<double>(bytes / frame_bytes) * 1000.0 / rate;
}

}  // namespace

struct PulseConnection::Record {
  PulseConnection* owner = nullptr;
  pa::stream* stream = nullptr;
  std::shared_ptr<CaptureQueue> queue;
  std::function<void(const Error&)> on_error;
  uint32_t rate = 0;
  uint32_t frame_bytes = 0;
  bool closing = false;
  bool failed = false;
};

struct PulseConnection::Playback {
  PulseConnection* owner = nullptr;
  pa::stream* stream = nullptr;
  uint32_t rate = 0;
  uint32_t frame_bytes = 0;
  bool closing = false;
  bool failed = false;
  // The current play job: samples preallocated by Play() before the mainloop thread sees them.
  std::vector<float> samples;
  uint64_t frames = 0;
  uint64_t position = 0;
  bool active = false;
  PlayOutcome outcome;
  std::function<void(PlayOutcome&)> done;
};

PulseConnection::PulseConnection() = default;
PulseConnection::~PulseConnection() { Close(); }

const char* PulseConnection::LibraryVersion() const { return api_ ? api_->get_library_version() : ""; }

Error PulseConnection::StreamError(ErrorCode code, const char* message, const char* hint) const {
  Error e = MakeError(code, message, hint);
  if (api_ && ctx_) {
    const int pa_errno = api_->context_errno(ctx_);
    e.os_code = pa_errno;
    e.has_os_code = true;
    e.detail = api_->strerror(pa_errno);
  }
  return e;
}

bool PulseConnection::Connect(int timeout_ms, Error* err) {
  api_ = pa::LoadApi(err);
  if (!api_) return false;
  loop_ = api_->threaded_mainloop_new();
  if (!loop_) {
    *err = MakeError(ErrorCode::INTERNAL, "pa_threaded_mainloop_new failed");
    return false;
  }
  ctx_ = api_->context_new(api_->threaded_mainloop_get_api(loop_), "loopcheck");
  if (!ctx_ || api_->threaded_mainloop_start(loop_) < 0) {
    *err = MakeError(ErrorCode::INTERNAL, "could not start the PulseAudio client main loop");
    Close();
    return false;
  }
  bool ok;
  {
    Locked lock(api_, loop_);
    // NULL server: $PULSE_SERVER or the default socket. NOAUTOSPAWN: never start a daemon behind the user's back.
    if (api_->context_connect(ctx_, nullptr, pa::CONTEXT_NOAUTOSPAWN, nullptr) < 0) {
      *err = StreamError(ErrorCode::SERVICE_UNAVAILABLE, "no PulseAudio server answered", kServerHint);
      ok = false;
    } else {
      int state = pa::CONTEXT_UNCONNECTED;
      const bool settled = PollLocked(lock, timeout_ms, [&] {
        state = api_->context_get_state(ctx_);
        return state == pa::CONTEXT_READY || state == pa::CONTEXT_FAILED || state == pa::CONTEXT_TERMINATED;
      });
      ok = settled && state == pa::CONTEXT_READY;
      if (!ok) {
        *err = settled ? StreamError(ErrorCode::SERVICE_UNAVAILABLE, "no PulseAudio server answered", kServerHint)
                       : MakeError(ErrorCode::SERVICE_UNAVAILABLE, "the PulseAudio server did not answer in time", kServerHint);
      }
    }
  }
  if (!ok) Close();
  return ok;
}

bool PulseConnection::WaitOperation(pa::operation* op, int timeout_ms, Error* err) {
  // Called with the lock held by a Locked in the caller; re-wrap without taking it again.
  if (!op) {
    *err = StreamError(ErrorCode::DEVICE_LOST, "PulseAudio request failed", kServerHint);
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (api_->operation_get_state(op) == pa::OPERATION_RUNNING) {
    if (std::chrono::steady_clock::now() > deadline) {
      api_->operation_unref(op);
      *err = MakeError(ErrorCode::TIMEOUT, "PulseAudio did not answer a request in time", kServerHint);
      return false;
    }
    api_->threaded_mainloop_unlock(loop_);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    api_->threaded_mainloop_lock(loop_);
  }
  const bool done = api_->operation_get_state(op) == pa::OPERATION_DONE;
  api_->operation_unref(op);
  if (!done) *err = StreamError(ErrorCode::DEVICE_LOST, "PulseAudio request was cancelled", kServerHint);
  return done;
}

bool PulseConnection::ListDevices(std::vector<PulseDevice>* out, Error* err) {
  if (!ctx_) {
    *err = MakeError(ErrorCode::SERVICE_UNAVAILABLE, "not connected to PulseAudio", kServerHint);
    return false;
  }
  struct Collect {
    std::vector<PulseDevice>* out;
    std::string default_sink, default_source;
  } c{out, {}, {}};
  Locked lock(api_, loop_);
  pa::operation* op = api_->context_get_server_info(
      ctx_,
      [](pa::context*, const pa::server_info* i, void* ud) {
        auto* c = static_cast<Collect*>(ud);
        if (!i) return;
        if (i->default_sink_name) c->default_sink = i->default_sink_name;
        if (i->default_source_name) c->default_source = i->default_source_name;
      },
      &c);
  if (!WaitOperation(op, kOpenTimeoutMs, err)) return false;
  op = api_->context_get_sink_info_list(
      ctx_,
      [](pa::context*, const pa::sink_info* i, int eol, void* ud) {
        auto* c = static_cast<Collect*>(ud);
        if (eol || !i) return;
        PulseDevice d;
        d.id = i->name ? i->name : "";
        d.name = i->description ? i->description : d.id;
        d.kind = "render";
        d.is_default = d.id == c->default_sink;
        d.sample_rate = i->sample_spec_.rate;
        d.channels = i->sample_spec_.channels;
        d.related = i->monitor_source_name ? i->monitor_source_name : "";
        c->out->push_back(std::move(d));
      },
      &c);
  if (!WaitOperation(op, kOpenTimeoutMs, err)) return false;
  op = api_->context_get_source_info_list(
      ctx_,
      [](pa::context*, const pa::source_info* i, int eol, void* ud) {
        auto* c = static_cast<Collect*>(ud);
        if (eol || !i) return;
        PulseDevice d;
        d.id = i->name ? i->name : "";
        d.name = i->description ? i->description : d.id;
        d.related = i->monitor_of_sink_name ? i->monitor_of_sink_name : "";
        d.kind = d.related.empty() ? "capture" : "monitor";
        d.is_default = d.id == c->default_source;
        d.sample_rate = i->sample_spec_.rate;
        d.channels = i->sample_spec_.channels;
        c->out->push_back(std::move(d));
      },
      &c);
  return WaitOperation(op, kOpenTimeoutMs, err);
}

bool PulseConnection::DefaultSink(std::string* name, Error* err) {
  std::vector<PulseDevice> devices;
  if (!ListDevices(&devices, err)) return false;
  for (const auto& d : devices) {
    if (d.kind == "render" && d.is_default) {
      *name = d.id;
      return true;
    }
  }
  *err = MakeError(ErrorCode::DEVICE_NOT_FOUND, "PulseAudio has no default sink", "load a sink (scripts/ci/pulse.sh start creates `loop`) or pass --device");
  return false;
}

bool PulseConnection::LookupSink(const std::string& name, uint32_t* rate, std::string* monitor, Error* err) {
  struct Found {
    bool found = false;
    uint32_t rate = 0;
    std::string monitor;
  } f;
  pa::operation* op = api_->context_get_sink_info_by_name(
      ctx_, name.c_str(),
      [](pa::context*, const pa::sink_info* i, int eol, void* ud) {
        auto* f = static_cast<Found*>(ud);
        if (eol || !i) return;
        f->found = true;
        f->rate = i->sample_spec_.rate;
        f->monitor = i->monitor_source_name ? i->monitor_source_name : "";
      },
      &f);
  if (!op) {
    *err = StreamError(ErrorCode::DEVICE_LOST, "PulseAudio request failed", kServerHint);
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kOpenTimeoutMs);
  while (api_->operation_get_state(op) == pa::OPERATION_RUNNING && std::chrono::steady_clock::now() < deadline) {
    api_->threaded_mainloop_unlock(loop_);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    api_->threaded_mainloop_lock(loop_);
  }
  api_->operation_unref(op);
  if (!f.found) {
    *err = MakeError(ErrorCode::DEVICE_NOT_FOUND, "no PulseAudio sink has this name",
                     "run `loopcheck devices --backend pulse` and pass a render device id");
    return false;
  }
  *rate = f.rate;
  *monitor = f.monitor;
  return true;
}

// ---- record ----

void PulseConnection::OnRecordRead(pa::stream* s, size_t, void* self) {
  auto* r = static_cast<Record*>(self);
  const pa::Api* api = r->owner->api_;
  for (;;) {
    const void* data = nullptr;
    size_t nbytes = 0;
    if (api->stream_peek(s, &data, &nbytes) < 0 || nbytes == 0) return;
    const size_t frames = nbytes / r->frame_bytes;
    if (data == nullptr) {
      r->queue->PushHole(frames);  // a hole: no data, position advances, next block is a discontinuity
    } else {
      // get_latency(record) = get_time() - time(read index): how long ago the frame at the read index
      // (the first one peeked) was captured. Mapped onto the monotonic clock read right now.
      const int64_t now_ns = MonotonicNowNs();
      pa::usec_t latency_us = 0;
      int negative = 0;
      uint32_t flags = 0;
      int64_t device_ns;
      int64_t server_latency_us = kNoServerLatency;
      // Every frame of the block exists by now, so its first frame was captured no later than
      // now - (frames - 1) / rate. A null sink renders ahead of its clock, so the monitor's latency is
      // often shorter than the block it delivers: clamp to that bound (the device time then means "when
      // the data existed"). A negative latency (flag set) or none at all is flagged as an estimate.
      const int64_t latest_ns = now_ns - static_cast<int64_t>(frames - 1) * 1000000000LL / r->rate;
      if (api->stream_get_latency(s, &latency_us, &negative) == 0) {
        const int64_t lat_ns = static_cast<int64_t>(latency_us) * 1000;
        server_latency_us = negative ? -static_cast<int64_t>(latency_us) : static_cast<int64_t>(latency_us);
        device_ns = negative ? now_ns + lat_ns : now_ns - lat_ns;
        if (negative) flags |= kChunkTimestampError;
        if (device_ns > latest_ns) device_ns = latest_ns;
      } else {
        device_ns = latest_ns;
        flags |= kChunkTimestampError;
      }
      r->queue->PushBlock(static_cast<const float*>(data), frames, device_ns, flags, server_latency_us);
    }
    api->stream_drop(s);
  }
}

void PulseConnection::OnRecordState(pa::stream* s, void* self) {
  auto* r = static_cast<Record*>(self);
  const int state = r->owner->api_->stream_get_state(s);
  if ((state == pa::STREAM_FAILED || state == pa::STREAM_TERMINATED) && !r->closing && !r->failed) {
    r->failed = true;
    if (r->on_error) {
      const pa::Api* api = r->owner->api_;
      const bool server_gone = r->owner->ctx_ && api->context_errno(r->owner->ctx_) == pa::ERR_CONNECTIONTERMINATED;
      r->on_error(server_gone ? r->owner->StreamError(ErrorCode::DEVICE_LOST,
                                                      "the connection to the PulseAudio server was lost during capture",
                                                      "the server stopped or crashed; restart it and reopen the device")
                              : r->owner->StreamError(ErrorCode::DEVICE_LOST, "the PulseAudio capture stream was lost",
                                                      "the sink was removed or the server stopped; reopen the device"));
    }
  }
}

bool PulseConnection::OpenRecord(const std::string& sink, uint32_t rate, uint32_t channels, double buffer_ms,
                                 std::shared_ptr<CaptureQueue> queue, std::function<void(const Error&)> on_error,
                                 PulseStreamInfo* info, Error* err) {
  if (!ctx_) {
    *err = MakeError(ErrorCode::SERVICE_UNAVAILABLE, "not connected to PulseAudio", kServerHint);
    return false;
  }
  if (record_) {
    *err = MakeError(ErrorCode::DEVICE_BUSY, "a capture stream is already open on this session");
    return false;
  }
  Locked lock(api_, loop_);
  uint32_t sink_rate = 0;
  std::string monitor;
  if (!LookupSink(sink, &sink_rate, &monitor, err)) return false;
  auto r = std::make_unique<Record>();
  r->owner = this;
  r->rate = rate ? rate : sink_rate;
  r->frame_bytes = 4 * channels;
  r->queue = std::move(queue);
  r->on_error = std::move(on_error);
  pa::sample_spec spec{pa::SAMPLE_FLOAT32LE, r->rate, static_cast<uint8_t>(channels)};
  r->stream = api_->stream_new(ctx_, "loopcheck capture", &spec, nullptr);
  if (!r->stream) {
    *err = StreamError(ErrorCode::FORMAT_UNSUPPORTED, "PulseAudio rejected the capture format", "use 1-32 channels");
    return false;
  }
  api_->stream_set_state_callback(r->stream, OnRecordState, r.get());
  api_->stream_set_read_callback(r->stream, OnRecordRead, r.get());
  pa::buffer_attr attr{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, MsToBytes(buffer_ms, r->rate, r->frame_bytes)};
  const int flags = pa::STREAM_ADJUST_LATENCY | pa::STREAM_AUTO_TIMING_UPDATE | pa::STREAM_INTERPOLATE_TIMING | pa::STREAM_DONT_MOVE;
  int state = pa::STREAM_UNCONNECTED;
  bool ready = api_->stream_connect_record(r->stream, monitor.c_str(), &attr, flags) == 0 &&
               PollLocked(lock, kOpenTimeoutMs, [&] {
                 state = api_->stream_get_state(r->stream);
                 return state != pa::STREAM_CREATING && state != pa::STREAM_UNCONNECTED;
               }) &&
               state == pa::STREAM_READY;
  if (!ready) {
    *err = StreamError(ErrorCode::DEVICE_NOT_FOUND, "could not open a capture stream on the sink's monitor", "check the device id");
    r->closing = true;
    api_->stream_set_state_callback(r->stream, nullptr, nullptr);
    api_->stream_set_read_callback(r->stream, nullptr, nullptr);
    api_->stream_disconnect(r->stream);
    api_->stream_unref(r->stream);
    return false;
  }
  const pa::buffer_attr* granted = api_->stream_get_buffer_attr(r->stream);
  info->device = monitor;
  info->sample_rate = r->rate;
  info->channels = channels;
  info->buffer_ms = granted ? BytesToMs(granted->fragsize, r->rate, r->frame_bytes) : buffer_ms;
  record_ = std::move(r);
  return true;
}

void PulseConnection::CloseRecord() {
  if (!record_ || !loop_) return;
  std::unique_ptr<Record> r;
  {
    Locked lock(api_, loop_);
    r = std::move(record_);
    r->closing = true;
    api_->stream_set_read_callback(r->stream, nullptr, nullptr);
    api_->stream_set_state_callback(r->stream, nullptr, nullptr);
    api_->stream_disconnect(r->stream);
    api_->stream_unref(r->stream);
  }
}

// ---- playback ----

void PulseConnection::FillPlayback() {
  Playback* p = playback_.get();
  if (!p || !p->active || p->failed) return;
  const size_t writable = api_->stream_writable_size(p->stream);
  if (writable == static_cast<size_t>(-1)) return;  // stream failed; the state callback reports it
  uint64_t frames = writable / p->frame_bytes;
  const uint64_t remaining = p->frames - p->position;
  if (frames > remaining) frames = remaining;
  if (frames == 0) return;
  if (p->position == 0) p->outcome.write_time_ns = MonotonicNowNs();
  // free_cb NULL: libpulse copies the data, our buffer stays ours.
  if (api_->stream_write(p->stream, p->samples.data() + p->position * (p->frame_bytes / 4), frames * p->frame_bytes,
                         nullptr, 0, pa::SEEK_RELATIVE) < 0) {
    return;  // the state callback reports the failure
  }
  p->outcome.marks.Add(p->position, MonotonicNowNs());
  p->position += frames;
  if (p->position == p->frames) {
    p->active = false;
    // Start playback even if the tail is shorter than prebuf.
    pa::operation* op = api_->stream_trigger(p->stream, nullptr, nullptr);
    if (op) api_->operation_unref(op);
    p->outcome.ok = true;
    p->outcome.frames_written = p->frames;
    if (p->done) p->done(p->outcome);
  }
}

void PulseConnection::OnPlaybackWrite(pa::stream*, size_t, void* self) { static_cast<Playback*>(self)->owner->FillPlayback(); }

void PulseConnection::OnPlaybackUnderflow(pa::stream*, void* self) {
  auto* p = static_cast<Playback*>(self);
  if (p->active) p->outcome.underruns++;  // only while the signal still has data (one always fires at the end)
}

void PulseConnection::OnPlaybackState(pa::stream* s, void* self) {
  auto* p = static_cast<Playback*>(self);
  const int state = p->owner->api_->stream_get_state(s);
  if ((state == pa::STREAM_FAILED || state == pa::STREAM_TERMINATED) && !p->closing && !p->failed) {
    p->failed = true;
    if (p->active) {
      p->active = false;
      PlayOutcome& o = p->outcome;  // no copy: the binding moves it out
      o.ok = false;
      o.error = p->owner->StreamError(ErrorCode::DEVICE_LOST, "the PulseAudio playback stream was lost",
                                      "the sink was removed or the server stopped; reopen the device");
      o.frames_written = p->position;
      if (p->done) p->done(o);
    }
  }
}

bool PulseConnection::OpenPlayback(const std::string& sink, uint32_t rate, uint32_t channels, double buffer_ms,
                                   PulseStreamInfo* info, Error* err) {
  if (!ctx_) {
    *err = MakeError(ErrorCode::SERVICE_UNAVAILABLE, "not connected to PulseAudio", kServerHint);
    return false;
  }
  if (playback_) {
    *err = MakeError(ErrorCode::DEVICE_BUSY, "a playback stream is already open on this session");
    return false;
  }
  Locked lock(api_, loop_);
  uint32_t sink_rate = 0;
  std::string monitor;
  if (!LookupSink(sink, &sink_rate, &monitor, err)) return false;
  auto p = std::make_unique<Playback>();
  p->owner = this;
  p->rate = rate ? rate : sink_rate;
  p->frame_bytes = 4 * channels;
  pa::sample_spec spec{pa::SAMPLE_FLOAT32LE, p->rate, static_cast<uint8_t>(channels)};
  p->stream = api_->stream_new(ctx_, "loopcheck render", &spec, nullptr);
  if (!p->stream) {
    *err = StreamError(ErrorCode::FORMAT_UNSUPPORTED, "PulseAudio rejected the playback format", "use 1-32 channels");
    return false;
  }
  Playback* raw = p.get();
  playback_ = std::move(p);  // callbacks look it up through playback_
  api_->stream_set_state_callback(raw->stream, OnPlaybackState, raw);
  api_->stream_set_write_callback(raw->stream, OnPlaybackWrite, raw);
  api_->stream_set_underflow_callback(raw->stream, OnPlaybackUnderflow, raw);
  const uint32_t tlength = MsToBytes(buffer_ms, raw->rate, raw->frame_bytes);
  pa::buffer_attr attr{0xffffffffu, tlength, 0xffffffffu, 0xffffffffu, 0xffffffffu};
  const int flags = pa::STREAM_ADJUST_LATENCY | pa::STREAM_AUTO_TIMING_UPDATE | pa::STREAM_INTERPOLATE_TIMING | pa::STREAM_DONT_MOVE;
  int state = pa::STREAM_UNCONNECTED;
  bool ready = api_->stream_connect_playback(raw->stream, sink.c_str(), &attr, flags, nullptr, nullptr) == 0 &&
               PollLocked(lock, kOpenTimeoutMs, [&] {
                 state = api_->stream_get_state(raw->stream);
                 return state != pa::STREAM_CREATING && state != pa::STREAM_UNCONNECTED;
               }) &&
               state == pa::STREAM_READY;
  if (!ready) {
    *err = StreamError(ErrorCode::DEVICE_NOT_FOUND, "could not open a playback stream on the sink", "check the device id");
    raw->closing = true;
    api_->stream_set_state_callback(raw->stream, nullptr, nullptr);
    api_->stream_set_write_callback(raw->stream, nullptr, nullptr);
    api_->stream_set_underflow_callback(raw->stream, nullptr, nullptr);
    api_->stream_disconnect(raw->stream);
    api_->stream_unref(raw->stream);
    playback_.reset();
    return false;
  }
  const pa::buffer_attr* granted = api_->stream_get_buffer_attr(raw->stream);
  info->device = sink;
  info->sample_rate = raw->rate;
  info->channels = channels;
  info->buffer_ms = granted ? BytesToMs(granted->tlength, raw->rate, raw->frame_bytes) : buffer_ms;
  return true;
}

bool PulseConnection::Play(std::vector<float>&& samples, std::function<void(PlayOutcome&)> done, Error* err) {
  if (!playback_) {
    *err = MakeError(ErrorCode::INVALID_ARGUMENT, "no playback stream is open", "call openPlayback() first");
    return false;
  }
  std::vector<float> old;  // freed after the lock is released
  std::function<void(PlayOutcome&)> old_done;
  {
    Locked lock(api_, loop_);
    Playback* p = playback_.get();
    if (p->failed) {
      *err = StreamError(ErrorCode::DEVICE_LOST, "the PulseAudio playback stream was lost", "reopen the device");
      return false;
    }
    if (p->active) {
      *err = MakeError(ErrorCode::DEVICE_BUSY, "a play() is still in progress on this stream", "await the previous play()");
      return false;
    }
    old.swap(p->samples);
    old_done.swap(p->done);
    p->samples = std::move(samples);
    p->frames = p->samples.size() / (p->frame_bytes / 4);
    p->position = 0;
    p->outcome = PlayOutcome();
    p->outcome.marks.Reserve(p->frames, kMinWriteBlockFrames);
    p->done = std::move(done);
    p->active = p->frames > 0;
    if (!p->active) {
      if (p->done) p->done(p->outcome);
      return true;
    }
    FillPlayback();
  }
  return true;
}

void PulseConnection::ClosePlayback() {
  if (!playback_ || !loop_) return;
  std::unique_ptr<Playback> p;
  {
    Locked lock(api_, loop_);
    p = std::move(playback_);
    p->closing = true;
    api_->stream_set_state_callback(p->stream, nullptr, nullptr);
    api_->stream_set_write_callback(p->stream, nullptr, nullptr);
    api_->stream_set_underflow_callback(p->stream, nullptr, nullptr);
    api_->stream_disconnect(p->stream);
    api_->stream_unref(p->stream);
    if (p->active && p->done) {
      PlayOutcome& o = p->outcome;  // no copy: the binding moves it out
      o.ok = false;
      o.error = MakeError(ErrorCode::INTERRUPTED, "the playback stream was closed during play()");
      o.frames_written = p->position;
      p->active = false;
      p->done(o);
    }
  }
}

void PulseConnection::Close() {
  CloseRecord();
  ClosePlayback();
  if (loop_) {
    if (ctx_) {
      api_->threaded_mainloop_lock(loop_);
      DetachWatch();  // no subscription / state callback may run past this point
      api_->context_disconnect(ctx_);
      api_->threaded_mainloop_unlock(loop_);
    }
    api_->threaded_mainloop_stop(loop_);  // joins libpulse's thread
  }
  if (ctx_) api_->context_unref(ctx_);
  if (loop_) api_->threaded_mainloop_free(loop_);
  ctx_ = nullptr;
  loop_ = nullptr;
  watch_.reset();  // after the thread is gone: pending info queries die with it
}

}  // namespace loopcheck
