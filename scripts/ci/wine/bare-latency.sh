#!/bin/sh
# The bare WASAPI latency reference (test/native/wasapi_bare_latency.cc) under Wine 10 in the chroot, and its
# comparison with loopcheck (issue 5: "latency under Wine within 2 ms of a bare C++ test program"):
#   scripts/ci/wine/bare-latency.sh [--compare] [--sessions N] [--private] [ARGS…]
#     ARGS        for both programs: --runs N (15) --queue-ms MS (20) --capture-ms MS (20) --polling
#     --compare   then run test/wine/latency-compare.mjs (loopcheck's addon, same ARGS) with the Windows node.exe
#                 and print both medians and their difference
#     --sessions N  N alternating sessions of each (bare, loopcheck, bare, …), runs pooled: under Wine the figure
#                 depends on the phase between the render and capture streams' 10 ms timers, which is set anew
#                 in every session (steps of up to a period), so one session each is a coin toss
#     --private   a PulseAudio daemon of our own (same pulse.sh configuration as run.sh's: trivial resampler,
#                 monitor reader), stopped at the end: other Wine tests sharing run.sh's daemon mix their audio
#                 into the bursts (not bit-exact) and move the figures
# Build: mingw-w64 -posix g++, -O2 -static (as the addon, cmake/mingw-w64.cmake) → build/win32-x64/wasapi_bare_latency.exe.
# Both programs run like run.sh runs node.exe (its lines, copied: mounts, daemon, persistent wineserver, clean
# chroot environment, output to files printed afterwards — Windows programs cannot write to Unix pipes).
# Exit: 0 all runs bit-exact (and, with --compare, medians within 2 ms); 1 otherwise; 2 set-up error.
set -eu
. "$(dirname "$0")/common.sh"
cd "$PROJECT"
compare=0
private=0
sessions=1
while [ $# -gt 0 ]; do
  case "$1" in
    --compare) compare=1 ;;
    --private) private=1 ;;
    --sessions) sessions=${2:?--sessions N}; shift ;;
    *) break ;;
  esac
  shift
done

command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || {
  wlog "x86_64-w64-mingw32-g++-posix missing; run scripts/ci/wine/setup.sh or apt-get install -y mingw-w64"; exit 2; }
exe=build/win32-x64/wasapi_bare_latency.exe
mkdir -p build/win32-x64
x86_64-w64-mingw32-g++-posix -O2 -std=c++17 -Wall -static -o "$exe" test/native/wasapi_bare_latency.cc -lole32 -lavrt

[ -x "$ROOT/usr/lib/wine/wineserver" ] && [ -f "$ROOT$NODE_WIN_DIR/node.exe" ] ||
  { wlog "no Wine chroot at $ROOT: run scripts/ci/wine/setup.sh first"; exit 2; }
if [ "$private" = 1 ]; then  # common.sh's daemon paths, redirected (chroot_env reads PULSE_SERVER_IN when called)
  PULSE_DIR_IN=/run/loopcheck-pulse-bare
  PULSE_DIR_HOST="$ROOT$PULSE_DIR_IN"
  PULSE_SERVER_IN="unix:$PULSE_DIR_IN/sock/native"
  trap 'LOOPCHECK_PULSE_DIR="$PULSE_DIR_HOST" sh "$PROJECT/scripts/ci/pulse.sh" stop 2>/dev/null || true' EXIT
fi
# As run.sh: mounts, PulseAudio for Wine, persistent wineserver.
mount_all
mkdir -p "$ROOT/run/xdg" && chmod 0700 "$ROOT/run/xdg"
LOOPCHECK_PULSE_DIR="$PULSE_DIR_HOST" LOOPCHECK_PULSE_RESAMPLE=trivial LOOPCHECK_PULSE_MONITOR_READER=1 \
  sh "$PROJECT/scripts/ci/pulse.sh" start 2>/dev/null ||
  { wlog "PulseAudio for Wine did not start (see $PULSE_DIR_HOST/pulseaudio.log)"; exit 2; }
chroot_env wineserver -p >/dev/null 2>&1 || true
[ "$private" = 1 ] && wlog "private PulseAudio for Wine: $PULSE_SERVER_IN"

# wine PROGRAM ARGS… in the chroot, cwd = the project; prints its stdout/stderr; the last stdout line → $last.
last=""
run_wine() {
  busy=$(PULSE_SERVER="unix:$PULSE_DIR_HOST/sock/native" pactl list short sink-inputs 2>/dev/null | wc -l)
  [ "$busy" = 0 ] || wlog "warning: $busy other stream(s) play into this PulseAudio sink: expect failed runs (--private avoids them)"
  out=$(mktemp -d "$ROOT/tmp/bare.XXXXXX")
  rel="/tmp/$(basename "$out")"
  status=0
  chroot_env sh -c 'cd "$1" && shift && exec wine "$@" </dev/null >'"$rel"'/stdout 2>'"$rel"'/stderr' \
    sh "$PROJECT" "$@" || status=$?
  cat "$out/stdout"
  cat "$out/stderr" >&2
  last=$(tail -n 1 "$out/stdout")
  rm -rf "$out"
  return $status
}

rc=0
summaries=$(mktemp)
i=0
while [ $i -lt "$sessions" ]; do
  i=$((i + 1))
  [ "$sessions" = 1 ] || wlog "session $i/$sessions"
  run_wine "$PROJECT/$exe" "$@" || rc=1
  printf '%s\n' "$last" >>"$summaries"
  [ "$compare" = 1 ] || continue
  run_wine "$NODE_WIN_DIR/node.exe" test/wine/latency-compare.mjs "$@" || rc=1
  printf '%s\n' "$last" >>"$summaries"
done
# The last lines are JSON summaries (runsMs: the bit-exact runs' write→capture figures); pool them per program.
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  const all = lines.map((s) => { try { return JSON.parse(s); } catch { return {}; } });
  const median = (v) => { const s = [...v].sort((a, b) => a - b), n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };
  const pool = (name) => {
    const own = all.filter((s) => s.program === name);
    const v = own.flatMap((s) => s.runsMs ?? []);
    return { v, runs: own.reduce((n, s) => n + (s.runs ?? 0), 0), sessions: own.map((s) => s.medianMs?.toFixed(2) ?? "-").join(" ") };
  };
  const f = (p) => p.v.length ? `${median(p.v).toFixed(2)} ms (${Math.min(...p.v).toFixed(2)}, ${Math.max(...p.v).toFixed(2)}) over ${p.v.length}/${p.runs} runs [session medians ${p.sessions}]` : `no bit-exact run of ${p.runs}`;
  const b = pool("bare"), l = pool("loopcheck"), mode = all.find((s) => s.mode) ?? {};
  console.log(`bare: median ${f(b)}`);
  if (process.argv[2] !== "1") process.exit(b.v.length ? 0 : 1);
  console.log(`loopcheck: median ${f(l)}`);
  if (!b.v.length || !l.v.length) process.exit(1);
  const d = median(l.v) - median(b.v), ok = Math.abs(d) <= 2;
  console.log(`compare: loopcheck − bare = ${d >= 0 ? "+" : ""}${d.toFixed(2)} ms: ${ok ? "within" : "NOT within"} 2 ms [${mode.mode}, ${mode.queueMs} ms queue, ${mode.captureMs} ms capture buffer]`);
  process.exit(ok ? 0 : 1);
' "$summaries" "$compare" || rc=1
rm -f "$summaries"
exit $rc
