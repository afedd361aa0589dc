"""End-to-end runs of the engine on a tiny model: every strategy, the batch accounting, one
forward pass per batch, and the files a run leaves."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from mssr.engine.launch import execute
from mssr.engine.recipe import ContinualRun
from mssr.replay.config import STRATEGY_NAMES

STEPS, BATCH, TASKS = 6, 8, 3


@pytest.mark.parametrize("strategy", [*STRATEGY_NAMES, "joint"])
def test_every_strategy_trains_three_tasks_and_writes_results(make_config, tmp_path, strategy):
    overrides = ["joint=true"] if strategy == "joint" else [f"replay.strategy={strategy}"]
    overrides.append("lora.enabled=false")  # full fine-tuning: the tiny model really learns
    if strategy == "accuracy":  # the tiny model learns too little for a real drop: fire always
        overrides.append("replay.baseline.accuracy_delta=-1")
    if strategy == "forever":  # a model day of 2 updates: its days fall inside 6-step tasks
        overrides.append("replay.forever.calibration_updates=2")
    run_dir, results = execute(make_config(*overrides), show_progress=False)
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["strategy"] == strategy
    assert saved["tasks"] == ["arithmetic", "choice", "chat"]
    assert (run_dir / "report.md").exists() and (run_dir / "config.yaml").exists()
    matrix = saved["acc_matrix"]
    assert len(matrix) == TASKS and all(len(row) == TASKS for row in matrix)
    compute = saved["compute"]
    assert compute["new_examples"] + compute["replayed_examples"] == STEPS * BATCH * TASKS
    assert compute["optimizer_steps"] == STEPS * TASKS
    timeline = saved["replay_timeline"]
    assert sum(event["replayed"] for event in timeline) == compute["replayed_examples"]
    assert all(event["task"] > 0 for event in timeline), "nothing to replay during task 1"
    if strategy in ("none", "joint"):
        assert compute["replayed_examples"] == 0
    else:
        assert compute["replayed_examples"] > 0
    if strategy in ("accuracy", "mir"):  # its probes; MIR's candidate forwards
        assert compute["method_eval_tokens"] > 0
    else:
        assert compute["method_eval_tokens"] == 0
    # MIR's virtual steps: forward and backward over each replaying step's current examples
    assert (compute["method_train_tokens"] > 0) == (strategy == "mir")


def test_one_forward_pass_per_batch(make_config, tmp_path, monkeypatch):
    config = make_config("replay.strategy=mssr", "train.grad_accum=2")
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * TASKS)
    run = ContinualRun(config, tmp_path / "r", show_progress=False)
    run.setup()
    calls = []
    run.model.register_forward_hook(lambda module, args, output: calls.append(1))
    run.run()
    assert len(calls) == STEPS * TASKS * 2  # one pass per micro-batch, no second pass


def test_tracker_sees_the_training_pass_losses(make_config, tmp_path, monkeypatch):
    config = make_config("replay.strategy=mssr")
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * TASKS)
    run = ContinualRun(config, tmp_path / "r", show_progress=False)
    run.setup()
    seen = []
    observe = run.replay.strategy.observe
    run.replay.strategy.observe = lambda step, ids, losses, **kw: (seen.append((ids, losses)),
                                                             observe(step, ids, losses, **kw))
    run.run()
    assert len(seen) == STEPS * TASKS
    ids, losses = seen[-1]
    assert len(ids) == BATCH and np.isfinite(losses).all() and (losses > 0).all()


def test_evaluation_leaves_the_model_unchanged(make_config, tmp_path):
    run = ContinualRun(make_config(), tmp_path / "r", show_progress=False)
    run.setup()
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    run.evaluate(upto=None)
    after = run.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
