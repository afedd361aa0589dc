"""The replay review's cost against an older commit's, interleaved in one process.

    python benchmarks/bench_replay_ab.py --reference f983d39 [--buffer 1000000]
        [--repeats 400] [--seed 0]

`mssr bench replay` run once per checkout scatters by +-30% when other work shares the cores:
two runs minutes apart see different loads. Here the reference commit's `mssr` package is
extracted (git archive) under the name `mssr_reference`, both trackers hold the same buffer,
and every repeat reviews the same batch in both, each right after its own replay event (as in
`mssr bench replay`: the event flushes the caches a training step would), in alternating order.
Reported: each side's median review time and the median of the per-repeat ratios with a 95%
bootstrap interval."""

from __future__ import annotations

import argparse
import importlib
import io
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
ALIAS = "mssr_reference"


def import_reference(commit: str, into: Path):
    """The reference commit's mssr package, importable as `mssr_reference`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src/mssr"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    package = into / ALIAS
    (into / "src" / "mssr").rename(package)
    for source in package.rglob("*.py"):
        text = source.read_text()
        source.write_text(re.sub(r"\bmssr(?=[.\s])", ALIAS, text))
    sys.path.insert(0, str(into))
    return importlib.import_module(ALIAS)


def side(package: str, buffer_size: int, ids: np.ndarray, losses: np.ndarray):
    """(tracker, sampler) of one package, filled with the same buffer."""
    config = importlib.import_module(f"{package}.replay.config")
    tracker = importlib.import_module(f"{package}.replay.tracker").MemoryTracker(
        config.MemoryConfig(), capacity=buffer_size)
    tracker.insert(ids, losses, task=0, clock=0.0)
    sampler = importlib.import_module(f"{package}.replay.samplers").MemorySampler(
        config.SamplerConfig())
    return tracker, sampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="the older commit")
    parser.add_argument("--buffer", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        import_reference(args.reference, Path(scratch))
        rng = np.random.default_rng(args.seed)
        ids = rng.permutation(args.buffer * 4)[:args.buffer].astype(np.int64)
        losses = rng.gamma(2.0, 0.5, args.buffer)
        sides = {"reference": side(ALIAS, args.buffer, ids, losses),
                 "current": side("mssr", args.buffer, ids, losses)}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for repeat in range(args.repeats):
            clock = 10.0 + repeat
            batch = rng.choice(ids, 64, replace=False)
            batch_losses = rng.gamma(2.0, 0.5, 64)
            order = list(sides) if repeat % 2 == 0 else list(sides)[::-1]
            for name in order:
                tracker, sampler = sides[name]
                sampler.sample(tracker, clock, 64, np.random.default_rng(repeat))
                started = time.perf_counter()
                tracker.review(batch, batch_losses, clock)
                times[name].append(time.perf_counter() - started)
    reference, current = (np.array(times[name]) for name in ("reference", "current"))
    ratios = current / reference
    boot = np.random.default_rng(0).choice(ratios, (10_000, len(ratios)))
    print(json.dumps({
        "reference": args.reference, "buffer_size": args.buffer, "repeats": args.repeats,
        "reference_review_ms": round(1e3 * float(np.median(reference)), 4),
        "current_review_ms": round(1e3 * float(np.median(current)), 4),
        "ratio_median": round(float(np.median(ratios)), 3),
        "ratio_95ci": [round(float(q), 3)
                       for q in np.quantile(np.median(boot, axis=1), [0.025, 0.975])]}))


if __name__ == "__main__":
    main()
