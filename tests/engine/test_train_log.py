"""The training log: one line per step in train_log.jsonl, no step twice after a resume, the
same records in an accelerate tracker, and a clear error for a tracker that is not there."""

from __future__ import annotations

import json

import numpy as np
import pytest
from accelerate.tracking import LOGGER_TYPE_TO_CLASS, GeneralTracker, get_available_trackers

from mssr.engine.launch import execute, run_dir_for
from mssr.engine.recipe import ContinualRun
from mssr.errors import ConfigError

STEPS, TASKS = 6, 3
KEYS = {"step", "task", "loss", "task_loss", "lr", "grad_norm", "replayed", "events"}


def read_log(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "train_log.jsonl").open()]


def test_every_step_is_logged_once_with_its_metrics(make_config):
    run_dir, results = execute(make_config("replay.strategy=uniform"), show_progress=False)
    log = read_log(run_dir)
    assert [record["step"] for record in log] == list(range(STEPS * TASKS))
    assert all(set(record) == KEYS for record in log)
    assert [record["task"] for record in log] == [s // STEPS for s in range(STEPS * TASKS)]
    starts = [record["step"] for record in log if "task_start" in record["events"]]
    assert starts == results["task_boundaries"]
    assert sum(record["replayed"] for record in log) == results["compute"]["replayed_examples"]
    replay_steps = [record["step"] for record in log if record["replayed"]]
    assert replay_steps == [event["step"] for event in results["replay_timeline"]]
    assert all(np.isfinite(record["loss"]) and record["grad_norm"] > 0 for record in log)


def test_a_resumed_run_logs_each_step_once(make_config, monkeypatch):
    config = make_config("replay.strategy=uniform", "train.checkpoint_every=3")
    train_step = ContinualRun.train_step

    def crash_at_step_8(self, *args):
        if self.progress.global_step == 8:
            raise RuntimeError("machine lost")
        return train_step(self, *args)

    monkeypatch.setattr(ContinualRun, "train_step", crash_at_step_8)
    with pytest.raises(RuntimeError, match="machine lost"):
        execute(config, show_progress=False)
    crashed = read_log(run_dir_for(config))
    assert [record["step"] for record in crashed] == list(range(8))  # checkpointed at 6

    monkeypatch.setattr(ContinualRun, "train_step", train_step)
    run_dir, _ = execute(config, resume=True, show_progress=False)
    log = read_log(run_dir)
    assert [record["step"] for record in log] == list(range(STEPS * TASKS))
    assert log[6:8] == crashed[6:8]  # steps 6 and 7 trained again, identically


class RecordingTracker(GeneralTracker):
    name = "recording"
    requires_logging_directory = False
    logged: list[tuple[int, dict]] = []

    def __init__(self, run_name: str, **kwargs):
        super().__init__()

    @property
    def tracker(self):
        return self

    def store_init_configuration(self, values: dict):
        self.config = values

    def log(self, values: dict, step: int | None = None, **kwargs):
        RecordingTracker.logged.append((step, values))


def test_a_tracker_gets_the_logged_metrics(make_config, monkeypatch):
    monkeypatch.setitem(LOGGER_TYPE_TO_CLASS, "recording", RecordingTracker)
    monkeypatch.setattr(RecordingTracker, "logged", [])
    run_dir, _ = execute(make_config("replay.strategy=uniform", "train.log_with=recording"),
                         show_progress=False)
    log = read_log(run_dir)
    assert [step for step, _ in RecordingTracker.logged] == [r["step"] for r in log]
    for (_, values), record in zip(RecordingTracker.logged, log, strict=True):
        assert values["loss"] == record["loss"] and values["lr"] == record["lr"]
        assert values["replayed"] == record["replayed"]


def test_a_missing_tracker_is_a_config_error(make_config, tmp_path):
    missing = next((name for name in ("wandb", "tensorboard", "mlflow")
                    if name not in map(str, get_available_trackers())), None)
    if missing is None:
        pytest.skip("every tracker probed is installed")
    with pytest.raises(ConfigError, match=f"train.log_with.*{missing}.*not installed"):
        ContinualRun(make_config(f"train.log_with={missing}"), tmp_path / "run")
    with pytest.raises(ConfigError, match="train.log_with.*not an accelerate tracker"):
        ContinualRun(make_config("train.log_with=nonsense"), tmp_path / "run")
