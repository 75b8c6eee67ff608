#!/bin/sh
# Soak test: capture + play a steady stimulus and analyse it continuously for MINUTES, sampling RSS, heap,
# overruns, dropouts and latency every 10 s into DIR/soak.csv, DIR/soak.svg and DIR/soak.json (scripts/soak.ts).
#   scripts/soak.sh MINUTES [--backend B] [--device ID] [--buffer-ms N] [--out DIR] [--window-s 5] [--sample-s 10]
#                   [--warmup-s 30] [--max-rss-growth-mb 5] [--max-overruns 0] [--max-dropouts N]
# Exit 0 within thresholds, 1 RSS growth after warm-up or overruns (or dropouts) over the limits, 2 usage/setup
# error, 130 interrupted (outputs written). DIR defaults to reports/soak. --expose-gc: samples are taken after a
# full GC, so memory figures are retained memory, not garbage waiting for collection.
# MALLOC_MMAP_THRESHOLD_ (glibc; kept if already set): allocations ≥ 128 KiB are mmapped and given back on free,
# so RSS follows live memory instead of the allocator's high-water marks (each window's analysis allocates tens of
# MB of temporaries; with glibc's dynamic threshold RSS swung ±10 MB between samples and hid any real trend).
set -eu
: "${MALLOC_MMAP_THRESHOLD_:=131072}"
export MALLOC_MMAP_THRESHOLD_
LOOPCHECK_SOAK_CWD=$(pwd)
export LOOPCHECK_SOAK_CWD
cd "$(dirname "$0")/.."
exec node --expose-gc --import tsx scripts/soak.ts "$@"
