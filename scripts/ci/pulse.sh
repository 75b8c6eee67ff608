#!/bin/sh
# Private PulseAudio daemon with a null sink `loop` for loopcheck's real-audio tests (recipe verified in
# docs: norewinds=1, float32le/48000/2, no D-Bus, private dirs). Idempotent; stops only the pid it started.
#   scripts/ci/pulse.sh start   install (root, apt-get) if missing, start, wait for `loop`, set it default
#   scripts/ci/pulse.sh stop    kill the daemon this script started (pid file + cmdline check)
#   scripts/ci/pulse.sh env     print `export PULSE_SERVER=…` lines for clients
# State lives in $LOOPCHECK_PULSE_DIR (default /tmp/loopcheck-pulse).
# Options for other clients (the Wine tests, scripts/ci/wine/run.sh), off by default:
#   LOOPCHECK_PULSE_RESAMPLE=trivial   --resample-method=trivial (Wine opens VARIABLE_RATE streams: with the
#                                      default speex resampler even 48k→48k is not bit-exact)
#   LOOPCHECK_PULSE_MONITOR_READER=1   keep `parec --latency-msec=5` reading loop.monitor (an idle null sink
#                                      otherwise stalls Wine's loopback for 0.35–2 s)
set -eu

DIR="${LOOPCHECK_PULSE_DIR:-/tmp/loopcheck-pulse}"
SOCKDIR="$DIR/sock"
SOCKET="$SOCKDIR/native"
PIDFILE="$DIR/pulseaudio.pid"
READER_PIDFILE="$DIR/monitor-reader.pid"
RESAMPLE="${LOOPCHECK_PULSE_RESAMPLE:-}"
MONITOR_READER="${LOOPCHECK_PULSE_MONITOR_READER:-0}"
LOG="$DIR/pulseaudio.log"
SERVER="unix:$SOCKET"

log() { printf 'pulse.sh: %s\n' "$*" >&2; }

# The pid from the pid file, if that process is alive and is our daemon (cmdline names our socket).
our_pid() {
  [ -f "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "socket=$SOCKET" || return 1
  printf '%s\n' "$pid"
}

client() { env -u DBUS_SESSION_BUS_ADDRESS PULSE_SERVER="$SERVER" HOME="$DIR/home" XDG_RUNTIME_DIR="$DIR/runtime" "$@"; }

# The monitor reader's pid, if alive and a parec of ours.
reader_pid() {
  [ -f "$READER_PIDFILE" ] || return 1
  pid=$(cat "$READER_PIDFILE" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "parec" || return 1
  printf '%s\n' "$pid"
}

start_reader() {
  [ "$MONITOR_READER" = 1 ] || return 0
  reader_pid >/dev/null && return 0
  # exec: the background job IS parec (its pid in the pid file), and it does not inherit the lock (fd 9).
  (exec 9>&- >/dev/null 2>&1 </dev/null
    exec env -u DBUS_SESSION_BUS_ADDRESS PULSE_SERVER="$SERVER" HOME="$DIR/home" XDG_RUNTIME_DIR="$DIR/runtime" \
      parec --latency-msec="${LOOPCHECK_PULSE_MONITOR_LATENCY_MS:-5}" -d loop.monitor) &
  echo $! >"$READER_PIDFILE"
}

stop_reader() {
  if pid=$(reader_pid); then kill "$pid" 2>/dev/null || true; fi
  rm -f "$READER_PIDFILE"
}

ready() { client pactl list short sinks 2>/dev/null | awk '{print $2}' | grep -qx loop; }

install_if_missing() {
  command -v pulseaudio >/dev/null 2>&1 && command -v pactl >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    log "pulseaudio/pactl missing and not root. Fix: apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils"
    exit 2
  fi
  log "installing pulseaudio pulseaudio-utils"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils >&2 || {
    apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends pulseaudio pulseaudio-utils >&2
  }
}

start() {
  mkdir -p "$DIR"
  exec 9>"$DIR/lock"
  flock -w 30 9 || { log "could not lock $DIR/lock"; exit 2; }
  if our_pid >/dev/null && ready; then
    start_reader
    log "already running (pid $(our_pid)), $SERVER"
    return 0
  fi
  if pid=$(our_pid); then kill "$pid" 2>/dev/null || true; sleep 0.2; fi
  install_if_missing
  mkdir -p "$DIR/home" "$DIR/runtime" "$DIR/config" "$DIR/state" "$SOCKDIR"
  chmod 0700 "$DIR/runtime"
  chmod 0755 "$DIR" "$SOCKDIR"
  rm -f "$SOCKET"
  resample=""
  [ -n "$RESAMPLE" ] && resample="--resample-method=$RESAMPLE"
  realtime=false
  [ "$(id -u)" = 0 ] && realtime=true  # SCHED_RR for the sink thread without rtkit, root only
  env -u DBUS_SESSION_BUS_ADDRESS -u DISPLAY -u PULSE_SERVER \
    HOME="$DIR/home" XDG_RUNTIME_DIR="$DIR/runtime" XDG_CONFIG_HOME="$DIR/config" \
    PULSE_RUNTIME_PATH="$DIR/runtime" PULSE_STATE_PATH="$DIR/state" \
    pulseaudio --daemonize=no --system=false -n --fail=true --exit-idle-time=-1 --disallow-exit \
      --use-pid-file=false --no-cpu-limit --realtime=$realtime --high-priority=true --log-target=stderr $resample \
      --load="module-native-protocol-unix socket=$SOCKET auth-anonymous=1" \
      --load="module-null-sink sink_name=loop rate=48000 channels=2 format=float32le norewinds=1 sink_properties=device.description=loopcheck-loop" \
      --load="module-always-sink" \
      >"$LOG" 2>&1 9>&- &
  echo $! >"$PIDFILE"
  i=0
  while ! ready; do
    i=$((i + 1))
    if [ $i -gt 200 ] || ! our_pid >/dev/null; then
      log "the daemon did not come up; log follows"; tail -n 30 "$LOG" >&2 || true
      exit 2
    fi
    sleep 0.05
  done
  client pactl set-default-sink loop
  client pactl set-default-source loop.monitor
  start_reader
  log "running (pid $(our_pid)), PULSE_SERVER=$SERVER"
}

stop() {
  mkdir -p "$DIR"
  exec 9>"$DIR/lock"
  flock -w 30 9 || true
  stop_reader
  if pid=$(our_pid); then
    kill "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    log "stopped pid $pid"
  else
    log "not running"
  fi
  rm -f "$PIDFILE" "$SOCKET"
}

print_env() {
  printf 'export PULSE_SERVER=%s\n' "$SERVER"
  printf 'export PULSE_SINK=loop\n'
  printf 'export PULSE_SOURCE=loop.monitor\n'
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
