// Hot-plug on a PulseAudio connection: pa_context_subscribe(SINK | SOURCE | SERVER).
//
// State (index → device tables, the current defaults, pending info queries) lives in WatchState and is
// touched only under the mainloop lock: by libpulse's mainloop thread in callbacks, or by the caller's thread
// in Watch() / DetachWatch(). Events:
//   sink/source NEW     → info query by index → "added" if the index is new (kind: render / monitor / capture)
//   sink/source CHANGE  → info query by index → "changed", or "added" if the index is new (pulse sends
//                         CHANGE before NEW for a freshly loaded sink)
//   sink/source REMOVE  → "removed" from the table (the server no longer knows the name)
//   SERVER CHANGE       → server info query → "default-changed" per default sink / source that differs
// This is a watch connection, not an audio thread: allocating here is fine.
#include <list>
#include <map>
#include <utility>

#include "common/clock.h"
#include "linux/pulse_engine.h"

namespace loopcheck {

namespace {

constexpr int kWatchTimeoutMs = 5000;

struct Entry {
  std::string id;    // pulse name
  std::string name;  // description
  std::string kind;  // render | monitor | capture
};

}  // namespace

struct PulseConnection::WatchState {
  PulseConnection* owner = nullptr;
  std::function<void(DeviceEvent&&)> on_event;
  std::function<void(const Error&)> on_lost;
  std::map<uint32_t, Entry> sinks;
  std::map<uint32_t, Entry> sources;
  std::string default_sink;
  std::string default_source;
  bool detached = false;
  bool lost = false;
  // An info query in flight: what asked for it and when the subscription event arrived.
  struct Query {
    WatchState* w;
    int type;  // SUBSCRIPTION_EVENT_NEW / CHANGE, or -1 for the initial snapshot
    int64_t time_ns;
  };
  std::list<Query> queries;  // stable addresses; erased when the query's callback ends

  void Emit(const char* type, const Entry& e, int64_t time_ns) {
    if (detached || !on_event) return;
    DeviceEvent ev;
    ev.type = type;
    ev.kind = e.kind;
    ev.id = e.id;
    ev.name = e.name;
    ev.time_ns = time_ns;
    on_event(std::move(ev));
  }

  Query* NewQuery(int type, int64_t time_ns) {
    queries.push_back(Query{this, type, time_ns});
    return &queries.back();
  }
  void EndQuery(Query* q) {
    for (auto it = queries.begin(); it != queries.end(); ++it) {
      if (&*it == q) {
        queries.erase(it);
        return;
      }
    }
  }

  // A sink/source info reply: update the table, emit added / changed (not for the initial snapshot).
  void Update(std::map<uint32_t, Entry>& table, uint32_t index, Entry e, const Query& q) {
    auto it = table.find(index);
    const bool known = it != table.end();
    table[index] = e;
    if (q.type < 0) return;
    // PulseAudio sends CHANGE before NEW for a freshly loaded sink/source: whichever reply first finds the
    // index unknown reports "added"; a later NEW for a known index says nothing new.
    if (!known) Emit("added", e, q.time_ns);
    else if (q.type == pa::SUBSCRIPTION_EVENT_CHANGE) Emit("changed", e, q.time_ns);
  }

  const Entry* FindByName(const std::map<uint32_t, Entry>& table, const std::string& id) const {
    for (const auto& kv : table) {
      if (kv.second.id == id) return &kv.second;
    }
    return nullptr;
  }

  // Server info reply: the defaults, compared with what we knew (q.type < 0: initial snapshot, no events).
  void UpdateDefaults(const pa::server_info* i, const Query& q) {
    const std::string sink = i && i->default_sink_name ? i->default_sink_name : "";
    const std::string source = i && i->default_source_name ? i->default_source_name : "";
    const bool sink_changed = sink != default_sink;
    const bool source_changed = source != default_source;
    default_sink = sink;
    default_source = source;
    if (q.type < 0) return;
    if (sink_changed && !sink.empty()) {
      const Entry* e = FindByName(sinks, sink);
      Emit("default-changed", e ? *e : Entry{sink, "", "render"}, q.time_ns);
    }
    if (source_changed && !source.empty()) {
      const Entry* e = FindByName(sources, source);
      Emit("default-changed", e ? *e : Entry{source, "", "capture"}, q.time_ns);
    }
  }
};

void PulseConnection::WatchStateDeleter::operator()(WatchState* w) const { delete w; }

namespace {

Entry SinkEntry(const pa::sink_info* i) {
  Entry e;
  e.id = i->name ? i->name : "";
  e.name = i->description ? i->description : e.id;
  e.kind = "render";
  return e;
}

Entry SourceEntry(const pa::source_info* i) {
  Entry e;
  e.id = i->name ? i->name : "";
  e.name = i->description ? i->description : e.id;
  // A monitor names the sink it monitors (pulseaudio.md); any other source is a capture device.
  e.kind = i->monitor_of_sink_name && *i->monitor_of_sink_name ? "monitor" : "capture";
  return e;
}

using Query = PulseConnection::WatchState::Query;

}  // namespace

// The three info callbacks (mainloop thread). eol != 0 ends the query (eol < 0: error, e.g. already gone).
static void OnSinkInfo(pa::context*, const pa::sink_info* i, int eol, void* ud) {
  auto* q = static_cast<Query*>(ud);
  auto* w = q->w;
  if (eol != 0 || !i) {
    w->EndQuery(q);
    return;
  }
  w->Update(w->sinks, i->index, SinkEntry(i), *q);
}

static void OnSourceInfo(pa::context*, const pa::source_info* i, int eol, void* ud) {
  auto* q = static_cast<Query*>(ud);
  auto* w = q->w;
  if (eol != 0 || !i) {
    w->EndQuery(q);
    return;
  }
  w->Update(w->sources, i->index, SourceEntry(i), *q);
}

static void OnServerInfo(pa::context*, const pa::server_info* i, void* ud) {
  auto* q = static_cast<Query*>(ud);
  auto* w = q->w;
  w->UpdateDefaults(i, *q);
  w->EndQuery(q);
}

void PulseConnection::OnSubscribe(pa::context* c, int event, uint32_t index, void* self) {
  auto* w = static_cast<WatchState*>(self);
  if (w->detached) return;
  const int64_t now_ns = MonotonicNowNs();
  const pa::Api* api = w->owner->api_;
  const int facility = event & pa::SUBSCRIPTION_EVENT_FACILITY_MASK;
  const int type = event & pa::SUBSCRIPTION_EVENT_TYPE_MASK;
  pa::operation* op = nullptr;
  Query* q = nullptr;
  if (facility == pa::SUBSCRIPTION_EVENT_SERVER) {
    q = w->NewQuery(type, now_ns);
    op = api->context_get_server_info(c, OnServerInfo, q);
  } else if (facility == pa::SUBSCRIPTION_EVENT_SINK || facility == pa::SUBSCRIPTION_EVENT_SOURCE) {
    auto& table = facility == pa::SUBSCRIPTION_EVENT_SINK ? w->sinks : w->sources;
    if (type == pa::SUBSCRIPTION_EVENT_REMOVE) {
      auto it = table.find(index);
      if (it == table.end()) return;  // never seen (added and removed before its info arrived): nothing to report
      const Entry e = it->second;
      table.erase(it);
      w->Emit("removed", e, now_ns);
      return;
    }
    q = w->NewQuery(type, now_ns);
    op = facility == pa::SUBSCRIPTION_EVENT_SINK ? api->context_get_sink_info_by_index(c, index, OnSinkInfo, q)
                                                 : api->context_get_source_info_by_index(c, index, OnSourceInfo, q);
  } else {
    return;
  }
  if (op) api->operation_unref(op);
  else w->EndQuery(q);  // the context is failing; the state callback reports it
}

void PulseConnection::OnWatchContextState(pa::context* c, void* self) {
  auto* w = static_cast<WatchState*>(self);
  const pa::Api* api = w->owner->api_;
  const int state = api->context_get_state(c);
  if ((state == pa::CONTEXT_FAILED || state == pa::CONTEXT_TERMINATED) && !w->detached && !w->lost) {
    w->lost = true;
    if (w->on_lost) {
      w->on_lost(w->owner->StreamError(ErrorCode::SERVICE_UNAVAILABLE, "the connection to the PulseAudio server was lost",
                                       "the server stopped or crashed; restart it and watch again"));
    }
  }
}

bool PulseConnection::Watch(std::function<void(DeviceEvent&&)> on_event, std::function<void(const Error&)> on_lost,
                            Error* err) {
  if (!ctx_) {
    *err = MakeError(ErrorCode::SERVICE_UNAVAILABLE, "not connected to PulseAudio",
                     "start a PulseAudio server (scripts/ci/pulse.sh start) and export PULSE_SERVER");
    return false;
  }
  if (watch_) {
    *err = MakeError(ErrorCode::DEVICE_BUSY, "this connection is already watching devices");
    return false;
  }
  api_->threaded_mainloop_lock(loop_);
  std::unique_ptr<WatchState, WatchStateDeleter> w(new WatchState());
  w->owner = this;
  w->on_event = std::move(on_event);
  w->on_lost = std::move(on_lost);
  WatchState* raw = w.get();
  // Subscribe first, then snapshot: a device that appears meanwhile is reported by its NEW event.
  api_->context_set_subscribe_callback(ctx_, OnSubscribe, raw);
  api_->context_set_state_callback(ctx_, OnWatchContextState, raw);
  watch_ = std::move(w);
  bool ok = WaitOperation(api_->context_subscribe(ctx_,
                                                  pa::SUBSCRIPTION_MASK_SINK | pa::SUBSCRIPTION_MASK_SOURCE |
                                                      pa::SUBSCRIPTION_MASK_SERVER,
                                                  nullptr, nullptr),
                          kWatchTimeoutMs, err);
  if (ok) {
    ok = WaitOperation(api_->context_get_server_info(ctx_, OnServerInfo, raw->NewQuery(-1, 0)), kWatchTimeoutMs, err) &&
         WaitOperation(api_->context_get_sink_info_list(ctx_, OnSinkInfo, raw->NewQuery(-1, 0)), kWatchTimeoutMs, err) &&
         WaitOperation(api_->context_get_source_info_list(ctx_, OnSourceInfo, raw->NewQuery(-1, 0)), kWatchTimeoutMs, err);
  }
  if (!ok) DetachWatch();
  api_->threaded_mainloop_unlock(loop_);
  return ok;
}

void PulseConnection::DetachWatch() {
  if (!watch_ || !ctx_) return;
  watch_->detached = true;
  api_->context_set_subscribe_callback(ctx_, nullptr, nullptr);
  api_->context_set_state_callback(ctx_, nullptr, nullptr);
}

}  // namespace loopcheck
