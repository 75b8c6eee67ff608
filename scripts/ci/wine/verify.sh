#!/bin/sh
# npm run verify:wine — `loopcheck verify --backend wasapi --out reports/wine` with the Windows node.exe under
# Wine 10: set-up (cached) and the mingw build first, so it works on a fresh machine; extra arguments go to
# verify. Exit status: verify's (0 pass, 1 fail, 2 bad input), or 1 when set-up/build failed.
set -eu
. "$(dirname "$0")/common.sh"
sh "$PROJECT/scripts/ci/wine/setup.sh" >/dev/null 2>&1 || sh "$PROJECT/scripts/ci/wine/setup.sh" || exit 1
sh "$PROJECT/scripts/ci/wine/build.sh" >/dev/null || exit 1
(cd "$PROJECT" && npm run --silent build:ts) || exit 1
cd "$PROJECT"
# --render-period-ms 20: Wine's PulseAudio stream then buffers 60 ms instead of 30 (README "Windows").
exec sh scripts/ci/wine/run.sh bin/loopcheck.js verify --backend wasapi --render-period-ms 20 --out reports/wine "$@"
