"""Replay core overhead (same as `mssr bench replay`): per-step review of a batch of 64 and a
replay event over buffers of 1e4, 1e5 and 1e6 examples. Results go in BENCHMARKS.md."""

import sys

from mssr.cli import main

if __name__ == "__main__":
    main(["bench", "replay", *sys.argv[1:]])
