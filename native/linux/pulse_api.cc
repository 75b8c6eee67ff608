#include "linux/pulse_api.h"

#include <dlfcn.h>

#include <mutex>

namespace loopcheck {
namespace pa {

namespace {

struct Loaded {
  Api api{};
  bool ok = false;
  Error error;
};

template <typename F>
bool Resolve(void* lib, const char* name, F* slot) {
  void* sym = dlsym(lib, name);
  *slot = reinterpret_cast<F>(sym);
  return sym != nullptr;
}

Loaded LoadOnce() {
  Loaded out;
  out.error.code = ErrorCode::BACKEND_UNAVAILABLE;
  out.error.hint = "install libpulse (Debian: apt-get install libpulse0; for a server: pulseaudio), or use --backend virtual";
  void* lib = dlopen("libpulse.so.0", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) {
    out.error.message = "libpulse.so.0 could not be loaded (dlopen failed)";
    return out;
  }
  Api& a = out.api;
  bool ok = true;
#define LC_RESOLVE(field) ok = Resolve(lib, "pa_" #field, &a.field) && ok
  LC_RESOLVE(threaded_mainloop_new);
  LC_RESOLVE(threaded_mainloop_free);
  LC_RESOLVE(threaded_mainloop_start);
  LC_RESOLVE(threaded_mainloop_stop);
  LC_RESOLVE(threaded_mainloop_lock);
  LC_RESOLVE(threaded_mainloop_unlock);
  LC_RESOLVE(threaded_mainloop_get_api);
  LC_RESOLVE(threaded_mainloop_in_thread);
  LC_RESOLVE(context_new);
  LC_RESOLVE(context_connect);
  LC_RESOLVE(context_set_state_callback);
  LC_RESOLVE(context_get_state);
  LC_RESOLVE(context_errno);
  LC_RESOLVE(context_disconnect);
  LC_RESOLVE(context_unref);
  LC_RESOLVE(context_get_server_info);
  LC_RESOLVE(context_get_sink_info_list);
  LC_RESOLVE(context_get_source_info_list);
  LC_RESOLVE(context_get_sink_info_by_name);
  LC_RESOLVE(context_get_sink_info_by_index);
  LC_RESOLVE(context_get_source_info_by_index);
  LC_RESOLVE(context_set_subscribe_callback);
  LC_RESOLVE(context_subscribe);
  LC_RESOLVE(operation_get_state);
  LC_RESOLVE(operation_unref);
  LC_RESOLVE(strerror);
  LC_RESOLVE(get_library_version);
  LC_RESOLVE(stream_new);
  LC_RESOLVE(stream_set_state_callback);
  LC_RESOLVE(stream_get_state);
  LC_RESOLVE(stream_set_read_callback);
  LC_RESOLVE(stream_set_write_callback);
  LC_RESOLVE(stream_set_underflow_callback);
  LC_RESOLVE(stream_set_overflow_callback);
  LC_RESOLVE(stream_connect_record);
  LC_RESOLVE(stream_connect_playback);
  LC_RESOLVE(stream_peek);
  LC_RESOLVE(stream_drop);
  LC_RESOLVE(stream_write);
  LC_RESOLVE(stream_writable_size);
  LC_RESOLVE(stream_get_latency);
  LC_RESOLVE(stream_get_time);
  LC_RESOLVE(stream_get_buffer_attr);
  LC_RESOLVE(stream_trigger);
  LC_RESOLVE(stream_disconnect);
  LC_RESOLVE(stream_unref);
#undef LC_RESOLVE
  if (!ok) {
    out.error.message = "libpulse.so.0 is too old: a required pa_* function is missing";
    dlclose(lib);
    return out;
  }
  out.ok = true;  // the library stays loaded for the life of the process
  return out;
}

}  // namespace

const Api* LoadApi(Error* error) {
  static const Loaded loaded = LoadOnce();  // C++11 magic static: thread-safe, loaded once
  if (!loaded.ok) {
    if (error) *error = loaded.error;
    return nullptr;
  }
  return &loaded.api;
}

}  // namespace pa
}  // namespace loopcheck
