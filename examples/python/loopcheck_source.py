"""System-audio source for a transcriber: spawns `loopcheck record -` and yields 16 kHz mono frames.

Drop-in replacement for a capture stub that returns silence:

    from loopcheck_source import LoopcheckSource

    with LoopcheckSource(frame_ms=20) as source:
        for frame in source:          # bytes: 320 samples of little-endian int16 (20 ms at 16 kHz)
            transcriber.feed(frame)

loopcheck does the capture (WASAPI loopback on Windows, PulseAudio monitor on Linux), the mono downmix, the
band-limited resampling and the s16 conversion; this class only frames the byte stream. Standard library only.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from typing import Iterator, List, Optional


class LoopcheckError(RuntimeError):
    """loopcheck exited with an error; `exit_code` and the one-line `message` from its stderr."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(f"loopcheck exited with {exit_code}: {message}")
        self.exit_code = exit_code
        self.message = message


class LoopcheckSource:
    """Iterates over fixed-size PCM frames (bytes, s16le mono) captured from the system's audio output."""

    def __init__(
        self,
        rate: int = 16000,
        frame_ms: int = 20,
        backend: str = "auto",
        device: Optional[str] = None,
        seconds: Optional[float] = None,
        command: Optional[List[str]] = None,
    ) -> None:
        self.rate = rate
        self.frame_bytes = rate * frame_ms // 1000 * 2
        base = command or [shutil.which("loopcheck") or "loopcheck"]
        args = ["record", "-", "--format", "s16", "--rate", str(rate), "--channels", "1", "--backend", backend]
        if device:
            args += ["--device", device]
        if seconds is not None:
            args += ["--seconds", str(seconds)]
        self._argv = base + args
        self._proc: Optional[subprocess.Popen[bytes]] = None

    def start(self) -> "LoopcheckSource":
        if self._proc is None:
            self._proc = subprocess.Popen(self._argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return self

    def __enter__(self) -> "LoopcheckSource":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[bytes]:
        proc = self.start()._proc
        assert proc is not None and proc.stdout is not None
        pending = b""
        while True:
            data = proc.stdout.read(self.frame_bytes - len(pending))
            if not data:
                break
            pending += data
            if len(pending) == self.frame_bytes:
                yield pending
                pending = b""
        code = proc.wait()
        # 130/143: stopped by a signal we sent (close()) — a normal end.
        if code not in (0, 130, 143, -signal.SIGINT, -signal.SIGTERM):
            err = proc.stderr.read().decode("utf-8", "replace").strip().splitlines() if proc.stderr else []
            raise LoopcheckError(code, err[-1] if err else "no message")

    def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)  # loopcheck stops cleanly on Ctrl-C
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


if __name__ == "__main__":
    # Example: python3 loopcheck_source.py 2  → prints the RMS of each 20 ms frame for 2 s.
    import array
    import math

    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    cmd = os.environ.get("LOOPCHECK_CMD")
    with LoopcheckSource(seconds=secs, command=cmd.split() if cmd else None) as src:
        for frame in src:
            samples = array.array("h", frame)
            rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
            print(f"{len(samples)} samples, rms {rms:.5f}")
