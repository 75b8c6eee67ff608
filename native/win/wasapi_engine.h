// The WASAPI engine (no Node-API): one device thread per session owns COM (MTA) and every COM object; the JS
// thread hands it commands and waits for their result. While a loopback capture is open a shared-mode render
// stream on the same endpoint keeps running (silence when nothing plays), because Windows delivers no loopback
// packets when nothing renders. Streams are event-driven (EVENTCALLBACK) with a polling fallback: the device
// thread also wakes every half period, and polls only when Initialize refused the event mode or when asked.
// The device thread never allocates while streaming, never calls JS, and takes the command lock only briefly.
// Capture modes: loopback of a render endpoint (default), plain capture of a capture endpoint (microphone), or
// process loopback (one process tree, Windows 10 2004+, ActivateAudioInterfaceAsync). Render and endpoint capture
// may run in exclusive mode or on IAudioClient3's smallest shared period; loopback never (the engine refuses).
// A device watch (Watch) registers an IMMNotificationClient; its callbacks only queue notes, which the device
// thread turns into events (endpoint_events.h) and hands to `on_event` (a ThreadSafeFunction in the binding).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/capture_queue.h"
#include "common/errors.h"
#include "common/write_marks.h"
#include "win/packet.h"

namespace loopcheck {

struct WasapiDevice {
  std::string id;        // IMMDevice::GetId (UTF-8)
  std::string name;      // PKEY_Device_FriendlyName
  std::string kind;      // "render" | "capture"
  uint32_t state = 0;    // DEVICE_STATE_*: 1 active, 2 disabled, 4 not present, 8 unplugged
  bool is_default = false;  // default console endpoint of its data flow
  uint32_t sample_rate = 0; // mix format (active endpoints only)
  uint32_t channels = 0;
};

enum class WasapiCaptureMode { kLoopback, kEndpoint, kProcess };

struct WasapiStreamOptions {
  std::string device;    // endpoint id; empty: the default endpoint (render; capture for kEndpoint)
  uint32_t sample_rate = 48000;
  uint32_t channels = 2;
  double buffer_ms = 20;
  bool polling = false;  // force the polling fallback
  WasapiCaptureMode mode = WasapiCaptureMode::kLoopback;  // capture streams only
  bool exclusive = false;   // AUDCLNT_SHAREMODE_EXCLUSIVE (render / endpoint capture only)
  bool min_period = false;  // IAudioClient3::InitializeSharedAudioStream at the engine's minimum period (same)
  double period_ms = 0;     // IAudioClient3::InitializeSharedAudioStream at this engine period (same; 0: default)
  uint32_t process_id = 0;  // kProcess: the target process (its whole tree is captured)
  bool reopen = false;      // capture: on AUDCLNT_E_DEVICE_INVALIDATED re-open on the new default endpoint
};

struct WasapiStreamInfo {
  std::string device;     // endpoint id
  std::string name;
  uint32_t sample_rate = 0;
  uint32_t channels = 0;
  double buffer_ms = 0;   // IAudioClient::GetBufferSize (capture) / the render queue target (render)
  double period_ms = 0;   // IAudioClient::GetDevicePeriod (shared default)
  bool event_driven = false;
  bool converted = false; // AUTOCONVERTPCM was needed (the format differs from the mix format)
  bool exclusive = false;
  bool min_period = false;
  std::string mode;       // "render" | "loopback" | "capture" | "process"
  std::string sample_format;  // what the client delivers / takes: "f32", "s16", "s24", "s32"
};

// One hot-plug event (devices --watch): type added | removed | default-changed, kind render | capture.
struct WasapiDeviceEvent {
  std::string type;
  std::string kind;
  std::string id;
  std::string name;
  int64_t time_ns = 0;  // monotonic clock, when the notification callback ran
};

struct WasapiStats {
  PacketStats capture;
  uint64_t render_frames = 0;        // frames handed to the render client (signal + silence)
  uint64_t render_empty_polls = 0;   // padding 0 found while a signal was playing (a likely underrun)
  uint64_t wakeups = 0;
  uint64_t reopens = 0;              // captures re-opened on a new default endpoint (--reopen)
};

struct WasapiPlayOutcome {
  bool ok = true;
  Error error;
  int64_t write_time_ns = 0;  // monotonic clock, right after the ReleaseBuffer that handed over frame 0
  uint64_t frames_written = 0;
  uint32_t underruns = 0;     // render queue found empty while the signal still had data
  WriteMarks marks;           // one per ReleaseBuffer that carried signal frames (reserved by Play())
};

class WasapiEngine {
 public:
  WasapiEngine();
  ~WasapiEngine();
  WasapiEngine(const WasapiEngine&) = delete;
  WasapiEngine& operator=(const WasapiEngine&) = delete;

  // Starts the device thread (COM MTA + IMMDeviceEnumerator). BACKEND_UNAVAILABLE when COM/MMDevice fail.
  bool Start(Error* err);
  bool ListDevices(std::vector<WasapiDevice>* out, Error* err);
  // "WASAPI" plus " (Wine 10.0)" when ntdll exports wine_get_version.
  std::string Version() const;

  bool OpenCapture(const WasapiStreamOptions& o, std::shared_ptr<CaptureQueue> queue,
                   std::function<void(const Error&)> on_error, WasapiStreamInfo* info, Error* err);
  void CloseCapture();
  bool OpenPlayback(const WasapiStreamOptions& o, WasapiStreamInfo* info, Error* err);
  // Plays interleaved float32 (moved in). `done` runs on the device thread. DEVICE_BUSY while one plays.
  bool Play(std::vector<float>&& samples, std::function<void(WasapiPlayOutcome&)> done, Error* err);
  void ClosePlayback();
  WasapiStats Stats();
  // Registers an IMMNotificationClient (on the device thread); `on_event` runs on the device thread.
  bool Watch(std::function<void(WasapiDeviceEvent&&)> on_event, Error* err);
  // Stops every stream and joins the device thread. Idempotent.
  void Close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopcheck
