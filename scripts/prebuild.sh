#!/bin/sh
# `npm run prebuilds` (and `prepack`): the addons shipped inside the package (docs/prebuilds.md),
#   prebuilds/linux-x64/loopcheck.node  cmake-js, the same build as `npm run build` (build/Release-cmake)
#   prebuilds/win32-x64/loopcheck.node  the mingw-w64 cross build (scripts/ci/wine/build.sh → build/win32-x64)
# Symbols are stripped (the load-bearing code is unchanged; the package gets smaller).
#   LOOPCHECK_PREBUILD_TARGETS  which ones (default "linux-x64 win32-x64"; a missing one fails, so a tarball
#                               never ships without it by accident)
#   LOOPCHECK_PREBUILD_REUSE=1  copy the existing build outputs, compile nothing (warns when native/ is newer)
set -eu
cd "$(dirname "$0")/.."
reuse="${LOOPCHECK_PREBUILD_REUSE:-0}"
say() { printf 'prebuild: %s\n' "$*" >&2; }

for t in ${LOOPCHECK_PREBUILD_TARGETS:-linux-x64 win32-x64}; do
  case "$t" in
    linux-x64)
      host=$(node -p 'process.platform + "-" + process.arch')
      [ "$host" = linux-x64 ] || { say "linux-x64 is built natively: this host is $host"; exit 1; }
      out=build/Release-cmake/Release/loopcheck.node strip=strip
      [ "$reuse" = 1 ] || npx cmake-js compile --out build/Release-cmake --log-level warn ;;
    win32-x64)
      out=build/win32-x64/loopcheck.node strip=x86_64-w64-mingw32-strip
      [ "$reuse" = 1 ] || sh scripts/ci/wine/build.sh ;;
    *) say "unknown target $t (known: linux-x64 win32-x64)"; exit 2 ;;
  esac
  [ -f "$out" ] || { say "$out missing: run \`npm run prebuilds\` (LOOPCHECK_PREBUILD_REUSE=1 compiles nothing)"; exit 1; }
  newer=$(find native CMakeLists.txt -newer "$out" -type f | head -3)
  [ -z "$newer" ] || say "warning: $out is older than $(echo "$newer" | tr '\n' ' ')"
  mkdir -p "prebuilds/$t"
  "$strip" --strip-unneeded -o "prebuilds/$t/loopcheck.node" "$out"
  say "prebuilds/$t/loopcheck.node ($(wc -c <"prebuilds/$t/loopcheck.node") bytes, from $out)"
done
# The host's own prebuild must load (the install script and the loader rely on it).
host=$(node -p 'process.platform + "-" + process.arch')
[ ! -f "prebuilds/$host/loopcheck.node" ] || node -e 'require(process.argv[1]).version()' "$PWD/prebuilds/$host/loopcheck.node"
