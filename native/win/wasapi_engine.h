// The WASAPI engine (no Node-API): one device thread per session owns COM (MTA) and every COM object; the JS
// thread hands it commands and waits for their result. While a loopback capture is open a shared-mode render
// stream on the same endpoint keeps running (silence when nothing plays), because Windows delivers no loopback
// packets when nothing renders. Streams are event-driven (EVENTCALLBACK) with a polling fallback: the device
// thread also wakes every half period, and polls only when Initialize refused the event mode or when asked.
// The device thread never allocates while streaming, never calls JS, and takes the command lock only briefly.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/capture_queue.h"
#include "common/errors.h"
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

struct WasapiStreamOptions {
  std::string device;    // endpoint id; empty: the default render endpoint
  uint32_t sample_rate = 48000;
  uint32_t channels = 2;
  double buffer_ms = 20;
  bool polling = false;  // force the polling fallback
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
};

struct WasapiStats {
  PacketStats capture;
  uint64_t render_frames = 0;        // frames handed to the render client (signal + silence)
  uint64_t render_empty_polls = 0;   // padding 0 found while a signal was playing (a likely underrun)
  uint64_t wakeups = 0;
};

struct WasapiPlayOutcome {
  bool ok = true;
  Error error;
  int64_t write_time_ns = 0;  // monotonic clock, right after the ReleaseBuffer that handed over frame 0
  uint64_t frames_written = 0;
  uint32_t underruns = 0;     // render queue found empty while the signal still had data
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
  bool Play(std::vector<float>&& samples, std::function<void(const WasapiPlayOutcome&)> done, Error* err);
  void ClosePlayback();
  WasapiStats Stats();
  // Stops every stream and joins the device thread. Idempotent.
  void Close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace loopcheck
