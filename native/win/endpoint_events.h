// IMMNotificationClient notes → device events, without COM (unit-tested on Linux in test/native/engine_test.cc).
// The notification callbacks run on a COM thread of Windows' choosing: they only queue an EndpointNote. The
// device thread looks the endpoint up (kind, name, state) and asks EndpointTracker what to report, so the rules
// live here:
//   - only ACTIVE endpoints count as present (listDevices shows only those): OnDeviceAdded or a state change
//     to ACTIVE of an unknown endpoint is "added"; OnDeviceRemoved or a state change away from ACTIVE of a
//     known one is "removed" (Windows reports an unplugged device as a state change, not a removal);
//   - OnDefaultDeviceChanged arrives once per role: only eConsole (the role listDevices marks) is reported, as
//     "default-changed" with the flow's kind (id empty: the flow has no default any more).
// Header-only so the addon's and the tests' CMake source lists need no change.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>

namespace loopcheck {

constexpr uint32_t kEndpointStateActive = 1;  // DEVICE_STATE_ACTIVE
constexpr int kRoleConsole = 0;               // eConsole

struct EndpointNote {
  enum class Type { kAdded, kRemoved, kStateChanged, kDefaultChanged } type = Type::kAdded;
  std::string id;
  uint32_t state = 0;  // kStateChanged: the new state
  int flow = 0;        // kDefaultChanged: 0 eRender, 1 eCapture
  int role = 0;        // kDefaultChanged: 0 eConsole, 1 eMultimedia, 2 eCommunications
  int64_t time_ns = 0;
};

// What the device thread found out about the note's endpoint (empty kind: it could not be opened).
struct EndpointLookup {
  std::string kind;  // "render" | "capture"
  std::string name;
  uint32_t state = 0;
};

struct EndpointEvent {
  std::string type;  // added | removed | default-changed
  std::string kind;
  std::string id;
  std::string name;
};

class EndpointTracker {
 public:
  // The snapshot taken when the watch starts (no events for it).
  void Seed(const std::string& id, const EndpointLookup& e) {
    if (e.state == kEndpointStateActive) known_[id] = e;
  }

  bool Apply(const EndpointNote& n, const EndpointLookup& look, EndpointEvent* out) {
    out->id = n.id;
    switch (n.type) {
      case EndpointNote::Type::kAdded:
        return look.state == kEndpointStateActive && Add(n.id, look, out);
      case EndpointNote::Type::kRemoved:
        return Remove(n.id, out);
      case EndpointNote::Type::kStateChanged:
        return n.state == kEndpointStateActive ? Add(n.id, look, out) : Remove(n.id, out);
      case EndpointNote::Type::kDefaultChanged: {
        if (n.role != kRoleConsole || (n.flow != 0 && n.flow != 1)) return false;
        out->type = "default-changed";
        out->kind = n.flow == 0 ? "render" : "capture";
        auto it = known_.find(n.id);
        out->name = it != known_.end() ? it->second.name : look.name;
        return true;
      }
    }
    return false;
  }

  size_t size() const { return known_.size(); }

 private:
  bool Add(const std::string& id, const EndpointLookup& look, EndpointEvent* out) {
    if (known_.count(id) || look.kind.empty()) return false;
    known_[id] = look;
    out->type = "added";
    out->kind = look.kind;
    out->name = look.name;
    return true;
  }
  bool Remove(const std::string& id, EndpointEvent* out) {
    auto it = known_.find(id);
    if (it == known_.end()) return false;
    out->type = "removed";
    out->kind = it->second.kind;
    out->name = it->second.name;
    known_.erase(it);
    return true;
  }

  std::map<std::string, EndpointLookup> known_;  // active endpoints by id
};

}  // namespace loopcheck
