// The closed list of error codes; mirrors src/errors.ts ERROR_CODES. Extend both together.
#pragma once

namespace loopcheck {

enum class ErrorCode {
  DEVICE_NOT_FOUND,
  DEVICE_LOST,
  DEVICE_BUSY,
  FORMAT_UNSUPPORTED,
  BACKEND_UNAVAILABLE,
  SERVICE_UNAVAILABLE,
  TIMEOUT,
  INVALID_ARGUMENT,
  INVALID_FILE,
  INTERRUPTED,
  INTERNAL,
};

inline const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::DEVICE_NOT_FOUND: return "DEVICE_NOT_FOUND";
    case ErrorCode::DEVICE_LOST: return "DEVICE_LOST";
    case ErrorCode::DEVICE_BUSY: return "DEVICE_BUSY";
    case ErrorCode::FORMAT_UNSUPPORTED: return "FORMAT_UNSUPPORTED";
    case ErrorCode::BACKEND_UNAVAILABLE: return "BACKEND_UNAVAILABLE";
    case ErrorCode::SERVICE_UNAVAILABLE: return "SERVICE_UNAVAILABLE";
    case ErrorCode::TIMEOUT: return "TIMEOUT";
    case ErrorCode::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case ErrorCode::INVALID_FILE: return "INVALID_FILE";
    case ErrorCode::INTERRUPTED: return "INTERRUPTED";
    case ErrorCode::INTERNAL: return "INTERNAL";
  }
  return "INTERNAL";
}

// An error as the backend reports it: code from the closed list, OS code (HRESULT / pa errno / errno), text.
struct Error {
  ErrorCode code = ErrorCode::INTERNAL;
  long long os_code = 0;
  bool has_os_code = false;
  const char* message = "";  // static string; backends never allocate to describe an error
  const char* hint = "";
  const char* detail = "";   // static text from the OS/library (e.g. pa_strerror), appended to message
};

inline Error MakeError(ErrorCode code, const char* message, const char* hint = "") {
  Error e;
  e.code = code;
  e.message = message;
  e.hint = hint;
  return e;
}

}  // namespace loopcheck
