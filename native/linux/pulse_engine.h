// The PulseAudio engine (no Node-API): one pa_threaded_mainloop + context per session, a record stream on a
// sink's monitor that copies into a CaptureQueue, and a playback stream fed from a preallocated buffer.
// Threads: the caller's thread (JS) opens/closes under the mainloop lock; libpulse's mainloop thread runs the
// callbacks, which never allocate, never block beyond the mainloop lock and never touch JS.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/capture_queue.h"
#include "common/errors.h"
#include "common/write_marks.h"
#include "linux/pulse_api.h"

namespace loopcheck {

struct PulseDevice {
  std::string id;           // pulse name ("loop", "loop.monitor")
  std::string name;         // description
  std::string kind;         // "render" (sink) | "monitor" (a sink's monitor source) | "capture" (other source)
  bool is_default = false;
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  std::string related;      // sink: its monitor source; monitor: the sink it monitors
};

struct PulseStreamInfo {
  std::string device;       // the stream's device name
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  double buffer_ms = 0;     // granted: fragsize (record) or tlength (playback)
};

// One hot-plug event (pulse_watch.cc). `id` is the pulse name (what listDevices calls id), `name` its
// description when known. type: "added" | "removed" | "changed" | "default-changed";
// kind: "render" (sink) | "monitor" (a sink's monitor source) | "capture" (other source).
struct DeviceEvent {
  std::string type;
  std::string kind;
  std::string id;
  std::string name;
  int64_t time_ns = 0;  // monotonic clock, when libpulse delivered the subscription event
};

struct PlayOutcome {
  bool ok = true;
  Error error;
  int64_t write_time_ns = 0;  // monotonic clock, when frame 0 was handed to pa_stream_write
  uint64_t frames_written = 0;
  uint32_t underruns = 0;     // underflows while the signal still had data to write
  WriteMarks marks;           // one per pa_stream_write of the signal (reserved by Play())
};

class PulseConnection {
 public:
  PulseConnection();
  ~PulseConnection();
  PulseConnection(const PulseConnection&) = delete;
  PulseConnection& operator=(const PulseConnection&) = delete;

  // Loads libpulse and connects (server from $PULSE_SERVER, never autospawns). SERVICE_UNAVAILABLE when no
  // server answers within timeout_ms, BACKEND_UNAVAILABLE without libpulse.
  bool Connect(int timeout_ms, Error* err);
  bool ListDevices(std::vector<PulseDevice>* out, Error* err);
  bool DefaultSink(std::string* name, Error* err);
  const char* LibraryVersion() const;

  // Record stream on `source` (a sink's monitor). Blocks until READY (<= timeout). Errors later go to on_error.
  bool OpenRecord(const std::string& sink, uint32_t rate, uint32_t channels, double buffer_ms,
                  std::shared_ptr<CaptureQueue> queue, std::function<void(const Error&)> on_error,
                  PulseStreamInfo* info, Error* err);
  void CloseRecord();

  bool OpenPlayback(const std::string& sink, uint32_t rate, uint32_t channels, double buffer_ms, PulseStreamInfo* info,
                    Error* err);
  // Starts playing interleaved float32 (moved in: preallocated before any callback sees it). `done` runs on the
  // mainloop thread when the last frame was written, or when the stream failed. DEVICE_BUSY while one plays.
  bool Play(std::vector<float>&& samples, std::function<void(PlayOutcome&)> done, Error* err);
  void ClosePlayback();

  // Hot-plug (pulse_watch.cc): snapshots sinks, sources and the defaults, then subscribes to SINK | SOURCE |
  // SERVER events; returns once the subscription is active. Use a connection dedicated to watching.
  // on_event / on_lost run on libpulse's mainloop thread (never JS); on_lost fires once when the server
  // connection fails. Both stop before Close() returns.
  bool Watch(std::function<void(DeviceEvent&&)> on_event, std::function<void(const Error&)> on_lost, Error* err);

  void Close();

  // Opaque watch state (pulse_watch.cc); public only so that file's C callbacks can name it.
  struct WatchState;
  struct WatchStateDeleter {
    void operator()(WatchState* w) const;
  };

 private:
  struct Record;
  struct Playback;
  void DetachWatch();  // lock held
  static void OnSubscribe(pa::context* c, int event, uint32_t index, void* self);
  static void OnWatchContextState(pa::context* c, void* self);
  bool WaitOperation(pa::operation* op, int timeout_ms, Error* err);  // lock held; unrefs op
  bool LookupSink(const std::string& name, uint32_t* rate, std::string* monitor, Error* err);  // lock held
  Error StreamError(ErrorCode code, const char* message, const char* hint) const;
  static void OnRecordRead(pa::stream* s, size_t nbytes, void* self);
  static void OnRecordState(pa::stream* s, void* self);
  static void OnPlaybackWrite(pa::stream* s, size_t nbytes, void* self);
  static void OnPlaybackUnderflow(pa::stream* s, void* self);
  static void OnPlaybackState(pa::stream* s, void* self);
  void FillPlayback();  // mainloop thread or lock held

  const pa::Api* api_ = nullptr;
  pa::threaded_mainloop* loop_ = nullptr;
  pa::context* ctx_ = nullptr;
  std::unique_ptr<Record> record_;
  std::unique_ptr<Playback> playback_;
  std::unique_ptr<WatchState, WatchStateDeleter> watch_;
};

}  // namespace loopcheck
