// HRESULTs the WASAPI backend meets, named, and mapped onto loopcheck's closed error list. No Windows headers
// (the values are restated from winerror.h / audioclient.h), so the table is unit-tested on Linux.
#pragma once
#include <cstdint>

#include "common/errors.h"

namespace loopcheck {

constexpr uint32_t kAudclntEDeviceInvalidated = 0x88890004u;
constexpr uint32_t kAudclntEWrongEndpointType = 0x88890003u;
constexpr uint32_t kAudclntEUnsupportedFormat = 0x88890008u;
constexpr uint32_t kAudclntEDeviceInUse = 0x8889000Au;
constexpr uint32_t kAudclntEExclusiveModeNotAllowed = 0x8889000Eu;
constexpr uint32_t kAudclntEServiceNotRunning = 0x88890010u;
constexpr uint32_t kAudclntEBufferSizeNotAligned = 0x88890019u;
constexpr uint32_t kENotFound = 0x80070490u;  // HRESULT_FROM_WIN32(ERROR_NOT_FOUND)

// "AUDCLNT_E_DEVICE_INVALIDATED (0x88890004)"; "unrecognised HRESULT" for others (the code is in osCode).
const char* HresultName(uint32_t hr);

// The error a failed call becomes: code from the HRESULT (DEVICE_INVALIDATED ⇒ DEVICE_LOST, E_NOTFOUND ⇒
// DEVICE_NOT_FOUND, …), `what` as the message (static text naming the call), the HRESULT name as detail.
Error HresultError(uint32_t hr, const char* what);

}  // namespace loopcheck
