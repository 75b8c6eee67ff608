#!/bin/sh
# Cross-builds the addon for Windows x64 with mingw-w64 (cmake/mingw-w64.cmake) → build/win32-x64/loopcheck.node.
# Needs: mingw-w64 (setup.sh installs it), cmake, node_modules (cmake-js, node-addon-api, node-api-headers).
set -eu
cd "$(dirname "$0")/../../.."
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || {
  echo "build.sh: x86_64-w64-mingw32-g++-posix missing; run scripts/ci/wine/setup.sh or apt-get install -y mingw-w64" >&2; exit 2; }
npx cmake-js compile --out build/win32-x64/cmake --log-level warn \
  --CDCMAKE_TOOLCHAIN_FILE="$PWD/cmake/mingw-w64.cmake"
out=$(find build/win32-x64/cmake -name loopcheck.node -newer cmake/mingw-w64.cmake | head -1)
[ -n "$out" ] || { echo "build.sh: no loopcheck.node under build/win32-x64/cmake" >&2; exit 1; }
cp "$out" build/win32-x64/loopcheck.node
echo "build.sh: build/win32-x64/loopcheck.node ($(wc -c <build/win32-x64/loopcheck.node) bytes)"
