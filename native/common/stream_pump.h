// The pump thread: drains a CaptureQueue every poll interval, batches min..max frames into chunks and
// hands them to JS through a BOUNDED ThreadSafeFunction with NonBlockingCall. A full JS queue never
// blocks the pump: the batch is dropped, its frames are counted as overruns and the next chunk is
// flagged as a discontinuity. Lifecycle (node-pty style): Start() spawns the thread; RequestStop()
// never blocks; the thread flushes what is left, reports an error if one was set, sends the end
// marker, releases the TSFN; the TSFN finalizer (JS thread) joins the already-finished thread.
// JS callback: onChunk(chunk) for data, onChunk(null, error) for an error, onChunk(null, null) at end.
#pragma once
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/capture_queue.h"
#include "common/errors.h"

namespace loopcheck {

struct PumpOptions {
  size_t min_frames = 480;  // 10 ms at 48 kHz
  size_t max_frames = 960;  // 20 ms at 48 kHz
  int poll_ms = 10;
  size_t max_queue = 64;    // TSFN queue bound (chunks)
};

// Builds the JS error object every native error becomes: Error with code, message, hint, osCode.
Napi::Error MakeJsError(Napi::Env env, const Error& e);

class StreamPump : public std::enable_shared_from_this<StreamPump> {
 public:
  static std::shared_ptr<StreamPump> Create(Napi::Env env, Napi::Function on_chunk, std::shared_ptr<CaptureQueue> queue,
                                            PumpOptions options);
  ~StreamPump();

  // Non-blocking: asks the thread to flush, end and release.
  void RequestStop();
  // Environment teardown: stop without waiting for JS to drain the end marker, then join.
  void StopNowAndJoin();
  // Any thread: the stream failed; delivered after pending data, then the stream ends. First one wins.
  void SetError(const Error& e);

  uint64_t chunksDelivered() const { return delivered_.load(); }
  uint64_t chunksDropped() const { return dropped_.load(); }

 private:
  StreamPump(std::shared_ptr<CaptureQueue> queue, PumpOptions options);
  void Run();
  bool Emit(Chunk&& chunk);  // false: the TSFN is closing
  bool EmitControl(bool is_error);

  std::shared_ptr<CaptureQueue> queue_;
  PumpOptions options_;
  Napi::ThreadSafeFunction tsfn_;
  std::thread thread_;
  std::mutex mutex_;  // pump <-> JS thread only (never the audio thread)
  std::condition_variable cv_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> stop_now_{false};
  std::atomic<int> error_claim_{0};
  std::atomic<bool> has_error_{false};
  Error error_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace loopcheck
