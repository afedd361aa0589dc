"""Numerical faults and long sequences: non-finite losses are skipped and counted, a run of them
stops the run with a checkpoint, and a 30-task sequence keeps its memory flat."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import torch

from mssr.engine import recipe
from mssr.engine.launch import execute
from mssr.engine.recipe import ContinualRun
from mssr.errors import TrainingError


def poison_steps(monkeypatch, bad_steps: set[int]):
    """Make the training loss non-finite at the given global steps."""
    original = recipe.token_losses
    counter = {"step": 0}

    def token_losses(logits, labels):
        losses, mask = original(logits, labels)
        if counter["step"] in bad_steps:
            losses = losses * torch.tensor(float("nan"))
        counter["step"] += 1
        return losses, mask

    monkeypatch.setattr(recipe, "token_losses", token_losses)


def test_a_nonfinite_step_is_skipped_and_counted(make_config, monkeypatch):
    poison_steps(monkeypatch, {8, 9})
    run_dir, results = execute(make_config("replay.strategy=mssr"), show_progress=False)
    compute = results["compute"]
    assert compute["skipped_nonfinite_steps"] == 2
    assert compute["optimizer_steps"] == 18 - 2
    state = json.loads((run_dir / "results.json").read_text())["memory_snapshots"]
    for snapshot in state:
        assert np.isfinite(snapshot["retention"]).all() and np.isfinite(snapshot["strength"]).all()


def test_a_run_of_nonfinite_steps_stops_with_a_checkpoint(make_config, tmp_path, monkeypatch):
    poison_steps(monkeypatch, set(range(7, 100)))
    config = make_config("replay.strategy=mssr", "train.max_nonfinite_steps=3")
    run = ContinualRun(config, tmp_path / "run", show_progress=False)
    run.setup()
    with pytest.raises(TrainingError, match="3 non-finite losses in a row"):
        run.run()
    latest = (tmp_path / "run" / "checkpoints" / "latest").read_text()
    assert latest.endswith("nonfinite")
    state = run.replay.strategy.state_dict()
    assert len(state["tracker"]["ids"]) > 0
    for column in ("strength", "last_loss", "last_review"):
        assert np.isfinite(state["tracker"][column]).all()
    assert np.isfinite(state["clock"]["value"])


@pytest.mark.slow
def test_thirty_task_soak_keeps_memory_flat(make_config, engine_assets, tmp_path, monkeypatch):
    names = list(engine_assets["tasks"])
    tasks = [{"name": f"t{i:02d}", "train": str(engine_assets["tasks"][names[i % 3]]),
              "max_eval_examples": 4} for i in range(30)]
    config = make_config("replay.strategy=mssr", f"tasks={json.dumps(tasks)}",
                         "train.steps_per_task=3", "train.checkpoint_every=0",
                         "eval.tasks=seen", "replay.buffer.per_task=4")
    rss_mib = []
    end_task = ContinualRun.end_task

    def measure(self):
        end_task(self)
        rss_mib.append(_current_rss_mib())

    monkeypatch.setattr(ContinualRun, "end_task", measure)
    _, results = execute(config, show_progress=False)
    assert len(results["acc_matrix"]) == 30
    print("RSS at each task end (MiB):", [round(r) for r in rss_mib])
    growth = max(rss_mib[10:]) - rss_mib[9]
    assert growth < 64, f"RSS grew {growth:.0f} MiB over tasks 10-30: {rss_mib}"


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
