// libpulse, loaded at run time with dlopen("libpulse.so.0"): hand-declared types, constants and a table
// of function pointers, so the addon builds without libpulse-dev and loads without libpulse.
// Layouts match PulseAudio 16.1's headers; test/native/pulse_layout_check.cc re-checks them against
// <pulse/pulseaudio.h> whenever libpulse-dev is installed.
#pragma once
#include <sys/time.h>

#include <cstddef>
#include <cstdint>

#include "common/errors.h"

namespace loopcheck {
namespace pa {

struct threaded_mainloop;
struct mainloop_api;
struct context;
struct stream;
struct operation;
struct proplist;

using usec_t = uint64_t;
using volume_t = uint32_t;

enum : int { CONTEXT_UNCONNECTED = 0, CONTEXT_CONNECTING, CONTEXT_AUTHORIZING, CONTEXT_SETTING_NAME, CONTEXT_READY,
             CONTEXT_FAILED, CONTEXT_TERMINATED };
enum : int { STREAM_UNCONNECTED = 0, STREAM_CREATING, STREAM_READY, STREAM_FAILED, STREAM_TERMINATED };
enum : int { OPERATION_RUNNING = 0, OPERATION_DONE, OPERATION_CANCELLED };
enum : int { CONTEXT_NOAUTOSPAWN = 0x1 };
enum : int {
  STREAM_INTERPOLATE_TIMING = 0x0002,
  STREAM_AUTO_TIMING_UPDATE = 0x0008,
  STREAM_DONT_MOVE = 0x0200,
  STREAM_ADJUST_LATENCY = 0x2000,
};
enum : int { SAMPLE_FLOAT32LE = 5 };
// Hot-plug (pulse/def.h pa_subscription_mask_t / pa_subscription_event_type_t).
enum : int { SUBSCRIPTION_MASK_SINK = 0x0001, SUBSCRIPTION_MASK_SOURCE = 0x0002, SUBSCRIPTION_MASK_SERVER = 0x0080 };
enum : int {
  SUBSCRIPTION_EVENT_SINK = 0x0000,
  SUBSCRIPTION_EVENT_SOURCE = 0x0001,
  SUBSCRIPTION_EVENT_SERVER = 0x0007,
  SUBSCRIPTION_EVENT_FACILITY_MASK = 0x000F,
  SUBSCRIPTION_EVENT_NEW = 0x0000,
  SUBSCRIPTION_EVENT_CHANGE = 0x0010,
  SUBSCRIPTION_EVENT_REMOVE = 0x0020,
  SUBSCRIPTION_EVENT_TYPE_MASK = 0x0030,
};
enum : int { SEEK_RELATIVE = 0 };
enum : int { CHANNELS_MAX = 32 };
// pa errno values we map (pulse/def.h).
enum : int { ERR_ACCESS = 1, ERR_CONNECTIONREFUSED = 6, ERR_NOENTITY = 5, ERR_TIMEOUT = 8, ERR_CONNECTIONTERMINATED = 11,
             ERR_KILLED = 12, ERR_BADSTATE = 15, ERR_NOTSUPPORTED = 19 };

struct sample_spec {
  int format;  // pa_sample_format_t
  uint32_t rate;
  uint8_t channels;
};

struct buffer_attr {
  uint32_t maxlength;
  uint32_t tlength;
  uint32_t prebuf;
  uint32_t minreq;
  uint32_t fragsize;
};

struct channel_map {
  uint8_t channels;
  int map[CHANNELS_MAX];
};

struct cvolume {
  uint8_t channels;
  volume_t values[CHANNELS_MAX];
};

struct timing_info {
  struct timeval timestamp;
  int synchronized_clocks;
  usec_t sink_usec;
  usec_t source_usec;
  usec_t transport_usec;
  int playing;
  int write_index_corrupt;
  int64_t write_index;
  int read_index_corrupt;
  int64_t read_index;
  usec_t configured_sink_usec;
  usec_t configured_source_usec;
  int64_t since_underrun;
};

// Prefix of pa_sink_info up to `state` (we only read these fields; libpulse owns the struct).
struct sink_info {
  const char* name;
  uint32_t index;
  const char* description;
  sample_spec sample_spec_;
  channel_map channel_map_;
  uint32_t owner_module;
  cvolume volume;
  int mute;
  uint32_t monitor_source;
  const char* monitor_source_name;
  usec_t latency;
  const char* driver;
  int flags;
  proplist* proplist_;
  usec_t configured_latency;
  volume_t base_volume;
  int state;
};

// Prefix of pa_source_info up to `state`.
struct source_info {
  const char* name;
  uint32_t index;
  const char* description;
  sample_spec sample_spec_;
  channel_map channel_map_;
  uint32_t owner_module;
  cvolume volume;
  int mute;
  uint32_t monitor_of_sink;
  const char* monitor_of_sink_name;
  usec_t latency;
  const char* driver;
  int flags;
  proplist* proplist_;
  usec_t configured_latency;
  volume_t base_volume;
  int state;
};

struct server_info {
  const char* user_name;
  const char* host_name;
  const char* server_version;
  const char* server_name;
  sample_spec sample_spec_;
  const char* default_sink_name;
  const char* default_source_name;
  uint32_t cookie;
  channel_map channel_map_;
};

using context_notify_cb = void (*)(context*, void*);
using context_success_cb = void (*)(context*, int, void*);
using stream_notify_cb = void (*)(stream*, void*);
using stream_request_cb = void (*)(stream*, size_t, void*);
using stream_success_cb = void (*)(stream*, int, void*);
using sink_info_cb = void (*)(context*, const sink_info*, int, void*);
using source_info_cb = void (*)(context*, const source_info*, int, void*);
using server_info_cb = void (*)(context*, const server_info*, void*);
using free_cb = void (*)(void*);
using context_subscribe_cb = void (*)(context*, int /* pa_subscription_event_type_t */, uint32_t, void*);

// The function table. Every entry is resolved at load; a missing symbol makes the load fail.
struct Api {
  threaded_mainloop* (*threaded_mainloop_new)();
  void (*threaded_mainloop_free)(threaded_mainloop*);
  int (*threaded_mainloop_start)(threaded_mainloop*);
  void (*threaded_mainloop_stop)(threaded_mainloop*);
  void (*threaded_mainloop_lock)(threaded_mainloop*);
  void (*threaded_mainloop_unlock)(threaded_mainloop*);
  mainloop_api* (*threaded_mainloop_get_api)(threaded_mainloop*);
  int (*threaded_mainloop_in_thread)(threaded_mainloop*);

  context* (*context_new)(mainloop_api*, const char*);
  int (*context_connect)(context*, const char*, int, const void*);
  void (*context_set_state_callback)(context*, context_notify_cb, void*);
  int (*context_get_state)(const context*);
  int (*context_errno)(const context*);
  void (*context_disconnect)(context*);
  void (*context_unref)(context*);
  operation* (*context_get_server_info)(context*, server_info_cb, void*);
  operation* (*context_get_sink_info_list)(context*, sink_info_cb, void*);
  operation* (*context_get_source_info_list)(context*, source_info_cb, void*);
  operation* (*context_get_sink_info_by_name)(context*, const char*, sink_info_cb, void*);
  operation* (*context_get_sink_info_by_index)(context*, uint32_t, sink_info_cb, void*);
  operation* (*context_get_source_info_by_index)(context*, uint32_t, source_info_cb, void*);
  void (*context_set_subscribe_callback)(context*, context_subscribe_cb, void*);
  operation* (*context_subscribe)(context*, int /* pa_subscription_mask_t */, context_success_cb, void*);

  int (*operation_get_state)(const operation*);
  void (*operation_unref)(operation*);
  const char* (*strerror)(int);
  const char* (*get_library_version)();

  stream* (*stream_new)(context*, const char*, const sample_spec*, const channel_map*);
  void (*stream_set_state_callback)(stream*, stream_notify_cb, void*);
  int (*stream_get_state)(const stream*);
  void (*stream_set_read_callback)(stream*, stream_request_cb, void*);
  void (*stream_set_write_callback)(stream*, stream_request_cb, void*);
  void (*stream_set_underflow_callback)(stream*, stream_notify_cb, void*);
  void (*stream_set_overflow_callback)(stream*, stream_notify_cb, void*);
  int (*stream_connect_record)(stream*, const char*, const buffer_attr*, int);
  int (*stream_connect_playback)(stream*, const char*, const buffer_attr*, int, const cvolume*, stream*);
  int (*stream_peek)(stream*, const void**, size_t*);
  int (*stream_drop)(stream*);
  int (*stream_write)(stream*, const void*, size_t, free_cb, int64_t, int);
  size_t (*stream_writable_size)(const stream*);
  int (*stream_get_latency)(stream*, usec_t*, int*);
  int (*stream_get_time)(stream*, usec_t*);
  const buffer_attr* (*stream_get_buffer_attr)(const stream*);
  operation* (*stream_trigger)(stream*, stream_success_cb, void*);
  int (*stream_disconnect)(stream*);
  void (*stream_unref)(stream*);
};

// Loads libpulse once (thread-safe); nullptr with *error filled (BACKEND_UNAVAILABLE) when it cannot.
// The table is immutable after loading.
const Api* LoadApi(Error* error);

}  // namespace pa
}  // namespace loopcheck
