#include "win/hresult.h"

namespace loopcheck {

namespace {
struct Named {
  uint32_t hr;
  const char* name;
  ErrorCode code;
  const char* hint;
};

const char kHintLost[] = "the audio endpoint went away (unplugged, disabled, or its sink unloaded): open a new session";
const char kHintFormat[] = "use the endpoint's mix format (listDevices() shows it) or shared mode";

// Values from audioclient.h (AUDCLNT_ERR(n) = 0x88890000 + n) and winerror.h.
constexpr Named kTable[] = {
    {0x88890001u, "AUDCLNT_E_NOT_INITIALIZED (0x88890001)", ErrorCode::INTERNAL, ""},
    {0x88890002u, "AUDCLNT_E_ALREADY_INITIALIZED (0x88890002)", ErrorCode::INTERNAL, ""},
    {0x88890003u, "AUDCLNT_E_WRONG_ENDPOINT_TYPE (0x88890003)", ErrorCode::INVALID_ARGUMENT,
     "loopback capture needs a render endpoint, plain capture a capture endpoint (kind in listDevices())"},
    {0x88890004u, "AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)", ErrorCode::DEVICE_LOST, kHintLost},
    {0x88890005u, "AUDCLNT_E_NOT_STOPPED (0x88890005)", ErrorCode::INTERNAL, ""},
    {0x88890006u, "AUDCLNT_E_BUFFER_TOO_LARGE (0x88890006)", ErrorCode::INTERNAL, ""},
    {0x88890007u, "AUDCLNT_E_OUT_OF_ORDER (0x88890007)", ErrorCode::INTERNAL, ""},
    {0x88890008u, "AUDCLNT_E_UNSUPPORTED_FORMAT (0x88890008)", ErrorCode::FORMAT_UNSUPPORTED, kHintFormat},
    {0x88890009u, "AUDCLNT_E_INVALID_SIZE (0x88890009)", ErrorCode::INTERNAL, ""},
    {0x8889000Au, "AUDCLNT_E_DEVICE_IN_USE (0x8889000A)", ErrorCode::DEVICE_BUSY,
     "another application holds the endpoint in exclusive mode (or exclusive mode is unavailable, e.g. under Wine): use shared mode"},
    {0x8889000Bu, "AUDCLNT_E_BUFFER_OPERATION_PENDING (0x8889000B)", ErrorCode::INTERNAL, ""},
    {0x8889000Cu, "AUDCLNT_E_THREAD_NOT_REGISTERED (0x8889000C)", ErrorCode::INTERNAL, ""},
    {0x8889000Eu, "AUDCLNT_E_EXCLUSIVE_MODE_NOT_ALLOWED (0x8889000E)", ErrorCode::FORMAT_UNSUPPORTED,
     "exclusive mode is disabled for this endpoint (or unsupported, e.g. under Wine): drop --exclusive"},
    {0x8889000Fu, "AUDCLNT_E_ENDPOINT_CREATE_FAILED (0x8889000F)", ErrorCode::DEVICE_LOST, kHintLost},
    {0x88890010u, "AUDCLNT_E_SERVICE_NOT_RUNNING (0x88890010)", ErrorCode::SERVICE_UNAVAILABLE,
     "the Windows Audio service (audiosrv) is not running"},
    {0x88890011u, "AUDCLNT_E_EVENTHANDLE_NOT_EXPECTED (0x88890011)", ErrorCode::INTERNAL, ""},
    {0x88890012u, "AUDCLNT_E_EXCLUSIVE_MODE_ONLY (0x88890012)", ErrorCode::FORMAT_UNSUPPORTED,
     "this endpoint works in exclusive mode only: add --exclusive"},
    {0x88890013u, "AUDCLNT_E_BUFDURATION_PERIOD_NOT_EQUAL (0x88890013)", ErrorCode::INVALID_ARGUMENT,
     "exclusive event-driven streams need buffer duration = period"},
    {0x88890014u, "AUDCLNT_E_EVENTHANDLE_NOT_SET (0x88890014)", ErrorCode::INTERNAL, ""},
    {0x88890015u, "AUDCLNT_E_INCORRECT_BUFFER_SIZE (0x88890015)", ErrorCode::INTERNAL, ""},
    {0x88890016u, "AUDCLNT_E_BUFFER_SIZE_ERROR (0x88890016)", ErrorCode::INVALID_ARGUMENT, "choose another --buffer-ms"},
    {0x88890017u, "AUDCLNT_E_CPUUSAGE_EXCEEDED (0x88890017)", ErrorCode::INTERNAL, ""},
    {0x88890018u, "AUDCLNT_E_BUFFER_ERROR (0x88890018)", ErrorCode::INTERNAL, ""},
    {0x88890019u, "AUDCLNT_E_BUFFER_SIZE_NOT_ALIGNED (0x88890019)", ErrorCode::FORMAT_UNSUPPORTED,
     "exclusive mode: the buffer must be a multiple of the device's alignment (choose another --buffer-ms)"},
    {0x88890020u, "AUDCLNT_E_INVALID_DEVICE_PERIOD (0x88890020)", ErrorCode::INVALID_ARGUMENT,
     "the period is outside what the engine allows (GetSharedModeEnginePeriod / GetDevicePeriod)"},
    {0x88890021u, "AUDCLNT_E_INVALID_STREAM_FLAG (0x88890021)", ErrorCode::INTERNAL, ""},
    {0x88890024u, "AUDCLNT_E_OFFLOAD_MODE_ONLY (0x88890024)", ErrorCode::FORMAT_UNSUPPORTED, ""},
    {0x88890026u, "AUDCLNT_E_RESOURCES_INVALIDATED (0x88890026)", ErrorCode::DEVICE_LOST, kHintLost},
    {0x88890028u, "AUDCLNT_E_ENGINE_PERIODICITY_LOCKED (0x88890028)", ErrorCode::DEVICE_BUSY,
     "another stream has set the engine period: drop --min-period or stop that stream"},
    {0x88890029u, "AUDCLNT_E_ENGINE_FORMAT_LOCKED (0x88890029)", ErrorCode::DEVICE_BUSY,
     "another stream has locked the engine format"},
    {0x80070490u, "E_NOTFOUND (0x80070490)", ErrorCode::DEVICE_NOT_FOUND,
     "no such endpoint (on Wine: is PulseAudio reachable through PULSE_SERVER?)"},
    {0x80070002u, "HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND) (0x80070002)", ErrorCode::DEVICE_NOT_FOUND, ""},
    {0x80004001u, "E_NOTIMPL (0x80004001)", ErrorCode::FORMAT_UNSUPPORTED, ""},
    {0x80004002u, "E_NOINTERFACE (0x80004002)", ErrorCode::BACKEND_UNAVAILABLE, ""},
    {0x80004005u, "E_FAIL (0x80004005)", ErrorCode::INTERNAL, ""},
    {0x80070005u, "E_ACCESSDENIED (0x80070005)", ErrorCode::BACKEND_UNAVAILABLE,
     "access denied (microphone privacy settings, or a protected process)"},
    {0x8000000Au, "E_PENDING (0x8000000A)", ErrorCode::TIMEOUT, ""},
    {0x8007000Eu, "E_OUTOFMEMORY (0x8007000E)", ErrorCode::INTERNAL, ""},
    {0x80070057u, "E_INVALIDARG (0x80070057)", ErrorCode::INVALID_ARGUMENT, ""},
    {0x80004003u, "E_POINTER (0x80004003)", ErrorCode::INTERNAL, ""},
    {0x800401F0u, "CO_E_NOTINITIALIZED (0x800401F0)", ErrorCode::INTERNAL, ""},
    {0x80040154u, "REGDB_E_CLASSNOTREG (0x80040154)", ErrorCode::BACKEND_UNAVAILABLE,
     "the MMDevice API is not registered (no Windows audio stack)"},
};

const Named* Find(uint32_t hr) {
  for (const Named& n : kTable)
    if (n.hr == hr) return &n;
  return nullptr;
}
}  // namespace

const char* HresultName(uint32_t hr) {
  const Named* n = Find(hr);
  return n ? n->name : "unrecognised HRESULT";
}

Error HresultError(uint32_t hr, const char* what) {
  Error e;
  const Named* n = Find(hr);
  e.code = n ? n->code : ErrorCode::INTERNAL;
  e.hint = n ? n->hint : "";
  e.message = what;
  e.detail = HresultName(hr);
  e.os_code = static_cast<long long>(hr);  // unsigned 32-bit value, as Windows prints it
  e.has_os_code = true;
  return e;
}

}  // namespace loopcheck
