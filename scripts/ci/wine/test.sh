#!/bin/sh
# npm run test:wine — the WASAPI test subset with the Windows node.exe under Wine 10, against PulseAudio:
#   setup.sh (cached chroot, Wine, node.exe, Windows node_modules) → build.sh (mingw addon) → vitest's `wasapi`
#   and `wasapi-loss` projects (test/wine/*.test.ts, test/wine/loss/*.test.ts; they exist only on win32).
# A host agent answers what Windows code cannot do itself (unload the PulseAudio sink behind Wine's endpoint):
# the tests drop `<id>.req` files into $LOOPCHECK_WINE_AGENT, the agent runs a whitelisted action and writes
# `<id>.done` (exit code, output). Prints the time of each phase. Exit status: vitest's (or setup's/build's).
# JUnit: reports/wine-junit.xml.
set -eu
. "$(dirname "$0")/common.sh"
T0=$(date +%s)
since() { echo "$(( $(date +%s) - T0 )) s"; }

sh "$PROJECT/scripts/ci/wine/setup.sh" || { wlog "Wine set-up failed ($(since))"; exit 1; }
wlog "Wine set-up done ($(since))"
sh "$PROJECT/scripts/ci/wine/build.sh" || { wlog "mingw build failed"; exit 1; }
(cd "$PROJECT" && npm run --silent build:ts) || { wlog "tsc failed"; exit 1; }  # test/wine/*.mjs drive the CLI in dist/
wlog "Windows addon and dist/ built ($(since))"

AGENT_IN=/tmp/loopcheck-agent
AGENT_HOST="$ROOT$AGENT_IN"
rm -rf "$AGENT_HOST" && mkdir -p "$AGENT_HOST"
wine_pactl() { PULSE_SERVER="unix:$PULSE_DIR_HOST/sock/native" pactl "$@"; }
agent() {
  while [ -d "$AGENT_HOST" ]; do
    for req in "$AGENT_HOST"/*.req; do
      [ -e "$req" ] || continue
      action=$(head -n 1 "$req")
      rm -f "$req"
      verb=${action%% *}
      sink=${action#* }
      [ "$sink" != "$action" ] || sink=loop
      out=$(
        case "$sink" in *[!a-z0-9_]*|"") echo "bad sink name: $sink"; exit 1 ;; esac
        case "$verb" in
          unload-sink)
            id=$(wine_pactl list short modules | awk -v s="sink_name=$sink" '$2 == "module-null-sink" && index($0, s " ") { print $1; exit }')
            [ -n "$id" ] && wine_pactl unload-module "$id" && echo "unloaded module $id (sink $sink)" ;;
          load-sink)
            wine_pactl load-module module-null-sink "sink_name=$sink" rate=48000 channels=2 format=float32le norewinds=1 \
              "sink_properties=device.description=$sink" ;;
          *) echo "unknown action: $action"; false ;;
        esac 2>&1
      ) && rc=0 || rc=$?
      printf '%s\n%s\n' "$rc" "$out" >"${req%.req}.tmp" && mv "${req%.req}.tmp" "${req%.req}.done"
      wlog "agent: $action -> $rc $out"
    done
    sleep 0.05
  done
}
agent &
AGENT_PID=$!
cleanup() {
  kill "$AGENT_PID" 2>/dev/null || true
  rm -rf "$AGENT_HOST"
  # The loss test removed the sink: stop Wine's daemon so the next run.sh starts a fresh one.
  LOOPCHECK_PULSE_DIR="$PULSE_DIR_HOST" sh "$PROJECT/scripts/ci/pulse.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

mkdir -p "$PROJECT/reports"
rc=0
LOOPCHECK_WINE_AGENT="$AGENT_IN" sh "$PROJECT/scripts/ci/wine/run.sh" node_modules/vitest/vitest.mjs run \
  --project wasapi --project wasapi-loss --reporter=verbose --reporter=junit --outputFile.junit=reports/wine-junit.xml || rc=$?
wlog "vitest under Wine exited $rc ($(since) in all)"
exit $rc
