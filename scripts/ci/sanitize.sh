#!/usr/bin/env bash
# AddressSanitizer + UBSan (-fsanitize=address,undefined -fno-sanitize-recover=all, CMake option
# LOOPCHECK_SANITIZE) in build dirs of their own; never touches build/Release-cmake or build/native-tests.
#   1. build/asan: the native unit tests (loopcheck_native_tests), LeakSanitizer on;
#   2. build/asan: the PulseAudio engine driver (test/native/capture_driver.cc): a 5 s capture with two record
#      streams, playback and a device watch, then 1,000 record streams opened and closed; LeakSanitizer on;
#   3. build/asan-addon: the Node-API addon, loaded by node with libasan preloaded (node itself is not built with
#      ASan, so the runtime must come first), running test/integration/pulse-streams-loop.test.ts (1,000 capture
#      streams, 100 sessions, two captures at once): covers the pump, the TSFN and the binding. detect_leaks=0
#      there: node and V8 deliberately leave their heap to the OS at exit, so LeakSanitizer reports thousands of
#      blocks that are node's own; native leaks are covered by steps 1–2 and scripts/ci/valgrind.sh.
# Steps 2–3 need the PulseAudio daemon (bash scripts/ci/pulse.sh start); without one they are skipped with a
# note, or fail under LOOPCHECK_REQUIRE_REAL_AUDIO=1. Every sanitizer report goes to a file under
# build/asan/reports (log_path: also catches reports from vitest's worker processes); any file there, or any
# failed step, exits 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
BUILD=build/asan
ADDON_OUT=build/asan-addon
REPORTS="$ROOT/$BUILD/reports"
t0=$(date +%s)
say() { echo "sanitize.sh [$(( $(date +%s) - t0 )) s] $*"; }

export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$REPORTS/ubsan"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*

rc=0
step() {  # name, command…
  local name=$1
  shift
  say "$name: $*"
  if "$@"; then say "$name: ok"; else rc=1; say "$name: FAILED"; fi
}

say "build $BUILD (Debug, LOOPCHECK_SANITIZE=ON)"
cmake -S . -B "$BUILD" -DLOOPCHECK_BUILD_TESTS=ON -DLOOPCHECK_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$BUILD" --target loopcheck_native_tests loopcheck_capture_driver -j 2 >/dev/null

step "native unit tests" "$BUILD/loopcheck_native_tests"

[ -n "${PULSE_SERVER:-}" ] || eval "$(bash scripts/ci/pulse.sh env)"
if timeout 10 pactl info >/dev/null 2>&1; then
  step "engine driver: capture" "$BUILD/loopcheck_capture_driver" capture 5
  # RSS is not checked here: ASan's quarantine keeps freed memory on purpose (valgrind.sh checks RSS).
  step "engine driver: loop" "$BUILD/loopcheck_capture_driver" loop 1000 -1 100

  say "build $ADDON_OUT (cmake-js, LOOPCHECK_SANITIZE=ON)"
  npx cmake-js compile --out "$ADDON_OUT" --CDLOOPCHECK_SANITIZE=ON --log-level warn >/dev/null
  addon="$ROOT/$ADDON_OUT/Release/loopcheck.node"
  libasan=$(${CXX:-g++} -print-file-name=libasan.so)
  step "addon under node" env LD_PRELOAD="$libasan" LOOPCHECK_NATIVE_PATH="$addon" \
    ASAN_OPTIONS="${ASAN_OPTIONS/detect_leaks=1/detect_leaks=0}" \
    npx vitest run test/integration/pulse-streams-loop.test.ts
elif [ "${LOOPCHECK_REQUIRE_REAL_AUDIO:-}" = 1 ]; then
  say "no PulseAudio server answers at $PULSE_SERVER (LOOPCHECK_REQUIRE_REAL_AUDIO=1). Fix: bash scripts/ci/pulse.sh start"
  rc=1
else
  say "[skip] engine driver and addon: no PulseAudio server answers at $PULSE_SERVER (bash scripts/ci/pulse.sh start)"
fi

reports=$(find "$REPORTS" -type f | sort)
if [ -n "$reports" ]; then
  rc=1
  say "sanitizer reports:"
  for f in $reports; do echo "--- $f"; cat "$f"; done
fi
say "done: $(printf '%s' "$reports" | grep -c . || true) sanitizer reports, exit $rc"
exit $rc
