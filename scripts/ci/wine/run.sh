#!/bin/sh
# Runs the Windows node.exe under Wine 10 in the chroot (set up by setup.sh):
#   scripts/ci/wine/run.sh test/wine/smoke.mjs [args…]      → wine node.exe test/wine/smoke.mjs [args…]
# Clean environment (recipe), cwd = the caller's cwd (the project is mounted at the same path), PULSE_SERVER →
# a private PulseAudio daemon whose socket lives inside the chroot (started here if needed, with
# --resample-method=trivial and a low-latency monitor reader: bit-exact, no idle stall). LOOPCHECK_* variables
# pass through. node.exe cannot write to a Unix pipe (EBADF): its output goes to files, printed afterwards.
# Exit status: node.exe's.
set -eu
. "$(dirname "$0")/common.sh"

[ -x "$ROOT/usr/lib/wine/wineserver" ] && [ -f "$ROOT$NODE_WIN_DIR/node.exe" ] ||
  { wlog "no Wine chroot at $ROOT: run scripts/ci/wine/setup.sh first"; exit 2; }
[ $# -ge 1 ] || { wlog "usage: $0 SCRIPT.mjs [ARGS…]  (arguments for node.exe)"; exit 2; }
mount_all
mkdir -p "$ROOT/run/xdg" && chmod 0700 "$ROOT/run/xdg"
LOOPCHECK_PULSE_DIR="$PULSE_DIR_HOST" LOOPCHECK_PULSE_RESAMPLE=trivial LOOPCHECK_PULSE_MONITOR_READER=1 \
  sh "$PROJECT/scripts/ci/pulse.sh" start 2>/dev/null ||
  { wlog "PulseAudio for Wine did not start (see $PULSE_DIR_HOST/pulseaudio.log): endpoints would be 'not present'"; exit 2; }
# Audio priority for wineserver and node.exe (see chroot_env in common.sh).
LOOPCHECK_WINE_NICE="${LOOPCHECK_WINE_NICE:--10}"
export LOOPCHECK_WINE_NICE
# A persistent wineserver: each wine start then takes ~0.2 s instead of ~1.5 s.
chroot_env wineserver -p >/dev/null 2>&1 || true

cwd=$(pwd -P)
case "$cwd" in "$PROJECT"|"$PROJECT"/*) ;; *) cwd="$PROJECT" ;; esac
passthrough=$(env | grep -E '^LOOPCHECK_[A-Z0-9_]+=' | grep -vE '^LOOPCHECK_(WINE_DIR|PULSE_DIR)=' || true)
out=$(mktemp -d "$ROOT/tmp/run.XXXXXX")
rel="/tmp/$(basename "$out")"
rc=0
# shellcheck disable=SC2086
chroot_env $passthrough sh -c 'cd "$1" && shift && exec wine '"$NODE_WIN_DIR"'/node.exe "$@" </dev/null >'"$rel"'/stdout 2>'"$rel"'/stderr' \
  sh "$cwd" "$@" || rc=$?
cat "$out/stdout"
cat "$out/stderr" >&2
rm -rf "$out"
exit $rc
