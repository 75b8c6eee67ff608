#!/usr/bin/env bash
# Installs the Debian packages the test suite needs (sox for WAV cross-checks, chromium for the report
# browser test, python3-scipy for the
# benchmark and reader cross-check, PulseAudio + headers for the real-audio tests, cmake/g++ for the addon).
# Idempotent: installs only what is missing. Needs root (CI runs as root).
set -euo pipefail
want=(sox python3-scipy pulseaudio pulseaudio-utils libpulse-dev cmake g++ make chromium valgrind)
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all present (${want[*]})"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "deps: missing ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
