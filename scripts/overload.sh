#!/bin/sh
# Overload, long version (issue 7 item 3; the CI version is test/integration/pulse-overload.test.ts): CPU hogs
# busy-loop on every core while `loopcheck verify --backend pulse --suite dropouts --duration SECONDS
# --buffer-ms 10` runs. Checks that the run completes (exit 0 or 1, not interrupted, report.json written, within a
# hang guard of 2 × SECONDS + 120 s) and that detection agrees with the streams' own counters: render underruns,
# capture overruns or discontinuities ⇒ at least one dropout found, and every dropout lies inside the stimulus.
# Prints one summary line.
#   scripts/overload.sh [SECONDS]            (default 300)
# Environment: LOOPCHECK_OVERLOAD_HOGS (default: one per core; 0 = the same run without load, a baseline),
#   LOOPCHECK_OVERLOAD_BUFFER_MS (default 10), LOOPCHECK_OVERLOAD_OUT (default reports/overload).
#   PULSE_SERVER: when unset, scripts/ci/pulse.sh's daemon ($LOOPCHECK_PULSE_DIR or /tmp/loopcheck-pulse).
# Exit 0 completed and consistent; 1 completed but detection disagrees with the counters; 2 usage or setup
# error, crash (exit other than 0/1), hang, or no report.
set -eu
SECONDS_ARG="${1:-300}"
case "$SECONDS_ARG" in '' | *[!0-9]*) echo "usage: $0 [SECONDS] (whole seconds, 1-3600)" >&2; exit 2 ;; esac
[ "$SECONDS_ARG" -ge 1 ] && [ "$SECONDS_ARG" -le 3600 ] || { echo "usage: $0 [SECONDS] (whole seconds, 1-3600)" >&2; exit 2; }
HOGS="${LOOPCHECK_OVERLOAD_HOGS:-$(nproc 2>/dev/null || echo 2)}"
BUFFER_MS="${LOOPCHECK_OVERLOAD_BUFFER_MS:-10}"
cd "$(dirname "$0")/.."
OUT="${LOOPCHECK_OVERLOAD_OUT:-reports/overload}"
if [ -z "${PULSE_SERVER:-}" ]; then
  sock="${LOOPCHECK_PULSE_DIR:-/tmp/loopcheck-pulse}/sock/native"
  [ -S "$sock" ] || { echo "overload: no PulseAudio server: set PULSE_SERVER or run scripts/ci/pulse.sh start" >&2; exit 2; }
  export PULSE_SERVER="unix:$sock"
fi
mkdir -p "$OUT"
rm -f "$OUT/report.json"

# Hogs: each busy-loops until its own deadline (a bound even if this script is killed -9), and is killed by pid
# when the run ends.
HOG_PIDS=""
stop_hogs() {
  for pid in $HOG_PIDS; do kill "$pid" 2>/dev/null || true; done
  HOG_PIDS=""
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT
trap 'stop_hogs; exit 143' TERM
deadline_ms=$(((SECONDS_ARG + 120) * 1000))
i=0
while [ "$i" -lt "$HOGS" ]; do
  node -e "const end = Date.now() + $deadline_ms; let x = 0; while (Date.now() < end) x = Math.sqrt(x + 1.5);" &
  HOG_PIDS="$HOG_PIDS $!"
  i=$((i + 1))
done

start=$(date +%s)
rc=0
timeout --foreground --kill-after=10 $((2 * SECONDS_ARG + 120)) \
  node --import tsx test/support/cli-entry.ts verify --backend pulse --suite dropouts --duration "$SECONDS_ARG" \
  --buffer-ms "$BUFFER_MS" --out "$OUT" >"$OUT/verify.log" 2>&1 || rc=$?
elapsed=$(($(date +%s) - start))
stop_hogs
case "$rc" in
  0 | 1) ;;
  124 | 137) echo "overload: HANG: verify did not finish within $((2 * SECONDS_ARG + 120)) s (log: $OUT/verify.log)" >&2; exit 2 ;;
  *) echo "overload: verify exited $rc (crash or setup error); last lines of $OUT/verify.log:" >&2; tail -n 5 "$OUT/verify.log" >&2; exit 2 ;;
esac
[ -f "$OUT/report.json" ] || { echo "overload: verify exited $rc without $OUT/report.json" >&2; exit 2; }

# The consistency check and the summary line (the same rules as the test).
node - "$OUT/report.json" "$SECONDS_ARG" "$BUFFER_MS" "$HOGS" "$rc" "$elapsed" <<'EOF'
const fs = require('node:fs');
const [file, seconds, bufferMs, hogs, rc, elapsed] = process.argv.slice(2);
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const rate = report.format.sampleRate;
// Dropout positions are printed to 0.1 ms and boundaries are refined to the sample; 10 ms (two 5 ms analysis
// blocks) is room for both without accepting a position outside the stimulus.
const TOL_S = 0.01;
const problems = [];
if (report.interrupted) problems.push(`report interrupted: ${report.error}`);
let dropouts = 0, underruns = 0, overruns = 0, discontinuities = 0;
const kinds = { gap: 0, silence: 0, click: 0 };
for (const c of report.cases) {
  const m = c.metrics;
  const list = m.dropouts ?? [];
  dropouts += list.length; underruns += m.underruns ?? 0; overruns += m.overruns ?? 0; discontinuities += m.discontinuities ?? 0;
  for (const d of list) kinds[d.kind] = (kinds[d.kind] ?? 0) + 1;
  if (typeof m.latencySamples !== 'number') { problems.push(`${c.name}: stimulus not found`); continue; }
  if ((m.underruns ?? 0) + (m.overruns ?? 0) + (m.discontinuities ?? 0) > 0 && list.length === 0) {
    problems.push(`${c.name}: counters say audio was lost (underruns ${m.underruns}, overruns ${m.overruns}, discontinuities ${m.discontinuities}) but no dropout was found`);
  }
  // The stimulus spans [start, start + SECONDS], lengthened by inserted audio (at most the dropouts' total).
  const start = m.latencySamples / rate;
  const end = start + Number(seconds) + list.reduce((s, d) => s + d.durationMs / 1000, 0);
  for (const d of list) {
    if (d.atSeconds < start - TOL_S || d.atSeconds > end + TOL_S) problems.push(`${c.name}: dropout at ${d.atSeconds} s lies outside the stimulus (${start.toFixed(3)}–${end.toFixed(3)} s)`);
  }
}
if (report.summary.dropouts !== dropouts) problems.push(`summary.dropouts ${report.summary.dropouts} ≠ ${dropouts} in the cases`);
for (const p of problems) console.error(`overload: ${p}`);
console.log(
  `overload: ${seconds} s stimulus at ${bufferMs} ms (granted ${report.format.bufferMs} ms), ${hogs} hog(s): exit ${rc} in ${elapsed} s; ` +
    `dropouts ${dropouts} (gap ${kinds.gap}, silence ${kinds.silence}, click ${kinds.click}), render underruns ${underruns}, ` +
    `capture overruns ${overruns} frames, discontinuities ${discontinuities}; ${problems.length ? 'INCONSISTENT' : 'consistent'}`,
);
process.exitCode = problems.length ? 1 : 0;
EOF
