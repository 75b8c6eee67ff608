#!/usr/bin/env bash
# valgrind memcheck of the PulseAudio engine without Node (test/native/capture_driver.cc, built in its own dir
# build/valgrind, RelWithDebInfo) against the running daemon — start one first:
#   bash scripts/ci/pulse.sh start; eval "$(bash scripts/ci/pulse.sh env)"; bash scripts/ci/valgrind.sh
#   1. memcheck: a 10 s capture — record + playback of a sine on one connection, a second record stream on the
#      same monitor, a device watch on a third; every stream must see the sine;
#   2. memcheck: 1,000 record streams opened and closed on one connection;
#   3. no valgrind: the same 1,000 with an RSS bound (growth after 100 warm-up cycles ≤ MAX_GROWTH_KB; measured
#      68–136 KiB on the CI machine, flat from 1,000 to 5,000 cycles).
# Exit 1 on any memcheck error or definite/possible leak (--error-exitcode), on a failed driver check or RSS
# growth. Suppressions: scripts/ci/valgrind.supp when it exists (none were needed with PulseAudio 16.1).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=build/valgrind
MAX_GROWTH_KB=${LOOPCHECK_RSS_GROWTH_KB:-512}
SECONDS_CAPTURE=${LOOPCHECK_VALGRIND_SECONDS:-10}
t0=$(date +%s)
say() { echo "valgrind.sh [$(( $(date +%s) - t0 )) s] $*"; }

command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind missing. Fix: bash scripts/ci/deps.sh (root)" >&2; exit 1; }
[ -n "${PULSE_SERVER:-}" ] || eval "$(bash scripts/ci/pulse.sh env)"
if ! timeout 10 pactl info >/dev/null 2>&1; then
  echo "valgrind.sh: no PulseAudio server answers at $PULSE_SERVER. Fix: bash scripts/ci/pulse.sh start" >&2
  exit 1
fi

say "build $BUILD"
cmake -S . -B "$BUILD" -DLOOPCHECK_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" --target loopcheck_capture_driver -j 2 >/dev/null
driver="$BUILD/loopcheck_capture_driver"

supp=()
[ -f scripts/ci/valgrind.supp ] && supp=(--suppressions=scripts/ci/valgrind.supp)
# definite and possible leaks are errors; "still reachable" is libpulse, dlopen'ed once and never closed.
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,possible
    --show-leak-kinds=definite,possible --track-origins=yes --num-callers=30 "${supp[@]}")

rc=0
memcheck() {  # name, driver args…: the driver's lines, then valgrind's summary (full log kept in $BUILD)
  local name=$1 log="$BUILD/memcheck-$1.log"
  shift
  say "memcheck $name: $driver $*"
  if "${vg[@]}" --log-file="$log" "$driver" "$@"; then :; else rc=1; say "memcheck $name FAILED (log: $log)"; fi
  grep -E "ERROR SUMMARY|definitely lost|possibly lost" "$log" | sed 's/^==[0-9]*== */  /'
}

memcheck capture capture "$SECONDS_CAPTURE"
memcheck loop loop 1000 -1 100   # RSS under valgrind is valgrind's own: no bound here (step 3)
say "RSS: $driver loop 1000 $MAX_GROWTH_KB 100 (no valgrind)"
"$driver" loop 1000 "$MAX_GROWTH_KB" 100 || rc=1
say "done: exit $rc"
exit $rc
