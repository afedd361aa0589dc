"""FOREVER in the engine: update sizes reach its model-time clock, its L2 anchor pulls the
weights toward the previous task's on replay steps, and a resumed run ends exactly as an
unbroken one (anchor weights included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mssr.engine import model as model_io
from mssr.engine.recipe import ContinualRun

STEPS, TASKS = 6, 3
FOREVER = ["replay.strategy=forever", "replay.forever.calibration_updates=2",
           "replay.schedule.window=6"]


def no_evaluation(monkeypatch):
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * TASKS)


def trained(make_config, path, *overrides) -> ContinualRun:
    run = ContinualRun(make_config(*FOREVER, *overrides), path, show_progress=False)
    run.setup()
    run.run()
    return run


def weights(run: ContinualRun) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model_io.trainable_parameters(run.model)]


def test_every_update_size_reaches_the_model_time_clock(make_config, tmp_path, monkeypatch):
    no_evaluation(monkeypatch)
    run = trained(make_config, tmp_path / "r")
    clock = run.replay.strategy.scheduler
    assert clock.updates == STEPS and clock.model_time > 0 and clock.model_day > 0
    assert run.replay.strategy.stats["replay_events"] >= TASKS - 1


def test_the_anchor_pulls_toward_the_previous_task_weights(make_config, tmp_path, monkeypatch):
    no_evaluation(monkeypatch)
    distances = {}
    for strength in (0.0, 50.0):
        run = trained(make_config, tmp_path / str(strength), "train.lr=0.05",
                      f"replay.forever.anchor_strength={strength}")
        now = weights(run)
        distances[strength] = float(sum(((a - b) ** 2).sum()
                                        for a, b in zip(now, run.anchor.reference, strict=True)))
    assert distances[50.0] < 0.5 * distances[0.0]


def test_other_strategies_keep_no_anchor(make_config, tmp_path, monkeypatch):
    no_evaluation(monkeypatch)
    run = ContinualRun(make_config("replay.strategy=mssr"), tmp_path / "r", show_progress=False)
    run.setup()
    run.run()
    assert run.anchor.reference is None


@pytest.mark.parametrize("stop_at", [9, 15])
def test_resume_mid_task_ends_like_an_unbroken_run(make_config, tmp_path, monkeypatch, stop_at):
    no_evaluation(monkeypatch)
    strong = ("replay.forever.anchor_strength=20", "train.checkpoint_every=0")
    unbroken = trained(make_config, tmp_path / "unbroken", *strong)

    step = ContinualRun.train_step

    def stop_after(self, bar):
        step(self, bar)
        self.stop.requested = self.progress.global_step == stop_at

    config = make_config(*FOREVER, *strong)
    monkeypatch.setattr(ContinualRun, "train_step", stop_after)
    broken = ContinualRun(config, tmp_path / "broken", show_progress=False)
    broken.setup()
    with pytest.raises(KeyboardInterrupt):
        broken.run()
    monkeypatch.setattr(ContinualRun, "train_step", step)
    resumed = ContinualRun(config, tmp_path / "broken", show_progress=False)
    resumed.setup(resume=True)
    assert resumed.anchor.reference is not None
    resumed.run()
    for a, b in zip(weights(resumed), weights(unbroken), strict=True):
        assert torch.equal(a, b)
    assert resumed.progress.replay_timeline == unbroken.progress.replay_timeline
    resumed_state = resumed.replay.strategy.state_dict()
    assert resumed_state["scheduler"] == unbroken.replay.strategy.state_dict()["scheduler"]
    assert np.array_equal(resumed.replay.strategy.buffer_ids, unbroken.replay.strategy.buffer_ids)
