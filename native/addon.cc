// Registers the addon's functions and classes only; behaviour lives in common/ and the backend folders.
#include <napi.h>

#include "common/backend.h"
#include "common/binding.h"
#include "common/clock.h"

#ifndef LOOPCHECK_VERSION
#define LOOPCHECK_VERSION "0.1.0"
#endif

namespace {

using loopcheck::BackendInfo;

Napi::Value Version(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), LOOPCHECK_VERSION); }

// now(): monotonic clock in nanoseconds as a BigInt (exact), the clock chunk `receivedAt` is measured on.
Napi::Value Now(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), static_cast<int64_t>(loopcheck::MonotonicNowNs()));
}

// backendInfo(): { name, available, error?: { code, message, hint, osCode? } }
Napi::Value GetBackendInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  BackendInfo b = loopcheck::GetNativeBackendInfo();
  Napi::Object out = Napi::Object::New(env);
  out.Set("name", b.name);
  out.Set("available", b.available);
  if (!b.available) {
    Napi::Object err = Napi::Object::New(env);
    err.Set("code", loopcheck::ErrorCodeName(b.unavailable.code));
    err.Set("message", b.unavailable.message);
    err.Set("hint", b.unavailable.hint);
    if (b.unavailable.has_os_code) err.Set("osCode", Napi::Number::New(env, static_cast<double>(b.unavailable.os_code)));
    out.Set("error", err);
  }
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("now", Napi::Function::New(env, Now, "now"));
  exports.Set("backendInfo", Napi::Function::New(env, GetBackendInfo, "backendInfo"));
  loopcheck::RegisterBackendExports(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(loopcheck, Init)
