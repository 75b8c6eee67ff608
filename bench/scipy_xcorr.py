"""Baseline for bench/analyze.bench.ts: read both WAVs with scipy.io.wavfile, full FFT cross-correlation of the
capture's first channel with the reference (scipy.signal.correlate, mode='full', method='fft'), argmax = lag.
Usage: /usr/bin/python3 bench/scipy_xcorr.py REF.wav CAP.wav [repeats]. Prints JSON: median seconds and the lag."""
import json
import statistics
import sys
import time

import numpy as np
from scipy.io import wavfile
from scipy.signal import correlate


def once(ref_path, cap_path):
    t0 = time.perf_counter()
    _, ref = wavfile.read(ref_path)
    _, cap = wavfile.read(cap_path)
    if ref.ndim > 1:
        ref = ref[:, 0]
    if cap.ndim > 1:
        cap = cap[:, 0]
    c = correlate(cap, ref, mode='full', method='fft')
    lag = int(np.argmax(c)) - (len(ref) - 1)
    return time.perf_counter() - t0, lag


def main():
    ref_path, cap_path = sys.argv[1], sys.argv[2]
    repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    runs = [once(ref_path, cap_path) for _ in range(repeats)]
    print(json.dumps({'seconds': statistics.median(r[0] for r in runs), 'lag': runs[0][1]}))


if __name__ == '__main__':
    main()
