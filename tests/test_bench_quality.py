"""The quality benchmark script end to end: parallel jobs, reuse of finished runs, the table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mssr.paths import CONFIGS_DIR

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: benchmarks/
SCRIPT = PROJECT_ROOT / "benchmarks" / "bench_quality.py"


@pytest.mark.slow
def test_two_jobs_run_every_strategy_then_reuse_them(tmp_path):
    command = [sys.executable, str(SCRIPT), "--config", str(CONFIGS_DIR / "smoke.yaml"),
               "--tasks", "2", "--seeds", "0", "--strategies", "none", "uniform", "joint",
               "--jobs", "2", "--output", str(tmp_path), "train.checkpoint_every=0"]
    first = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert first.returncode == 0, first.stderr[-3000:]
    for strategy in ("none", "uniform", "joint"):
        results = json.loads((tmp_path / "default" / f"{strategy}-seed0" / "results.json")
                             .read_text())
        assert results["strategy"] == strategy and len(results["tasks"]) == 2
    assert first.stdout.count("finished ") == 3
    comparison = (tmp_path / "default" / "comparison.md").read_text()
    assert all(name in comparison for name in ("none", "uniform", "joint"))
    assert "Suite sanity" in first.stdout and "joint (upper bound): AP" in first.stdout

    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.split("### Order")[1] == first.stdout.split("### Order")[1]
