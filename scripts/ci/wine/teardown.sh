#!/bin/sh
# Undoes what setup.sh / run.sh left running: stops the Wine PulseAudio daemon and the wineserver, then unmounts
# everything under the chroot, deepest first. With --purge also deletes the cache, but only when nothing is
# mounted there any more (deleting with live bind mounts would delete the project and /dev).
set -eu
. "$(dirname "$0")/common.sh"

if [ -d "$PULSE_DIR_HOST" ]; then
  LOOPCHECK_PULSE_DIR="$PULSE_DIR_HOST" sh "$PROJECT/scripts/ci/pulse.sh" stop 2>/dev/null || true
fi
if [ -x "$ROOT/usr/lib/wine/wineserver" ] && mountpoint -q "$ROOT/proc"; then
  chroot_env wineserver -k >/dev/null 2>&1 || true
fi
umount_all
left=$(mounted_under_root)
if [ -n "$left" ]; then
  wlog "still mounted, not touching the cache: $left"
  exit 1
fi
wlog "nothing mounted under $ROOT"
if [ "${1:-}" = "--purge" ]; then
  rm -rf --one-file-system "$WINE_DIR"
  wlog "deleted $WINE_DIR"
fi
