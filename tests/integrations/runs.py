"""An engine run and an integration run of the same RunConfig, and a record of every replay
plan either one makes, so the tests can compare them step by step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from accelerate.utils import set_seed

from mssr.engine import model as model_io
from mssr.engine.tasks import prepare_tasks
from mssr.integrations import ContinualConfig, ContinualTask
from mssr.replay.strategy import ReplayStrategy
from mssr.run_config import RunConfig


def record_plans(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, list[int]]]:
    """Every `ReplayStrategy.draw` call from now on (the driver's), as (step, drawn ids: the
    replayed ones, or MIR's candidates)."""
    planned: list[tuple[int, list[int]]] = []
    original = ReplayStrategy.draw

    def draw(self: ReplayStrategy, step: int, batch_size: int) -> tuple[np.ndarray, int]:
        ids, count = original(self, step, batch_size)
        planned.append((step, ids.tolist()))
        return ids, count

    monkeypatch.setattr(ReplayStrategy, "draw", draw)
    return planned


def record_observations(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """Every `ReplayStrategy.observe` call from now on: step, ids, losses, task loss."""
    observed: list[dict] = []
    original = ReplayStrategy.observe

    def observe(self: ReplayStrategy, step: int, ids: np.ndarray, losses: np.ndarray,
                task_loss: float, update_norm: float | None = None) -> None:
        observed.append({"step": step, "ids": np.asarray(ids).tolist(),
                         "losses": np.asarray(losses, dtype=float), "task_loss": task_loss,
                         "update_norm": update_norm})
        original(self, step, ids, losses, task_loss=task_loss, update_norm=update_norm)

    monkeypatch.setattr(ReplayStrategy, "observe", observe)
    return observed


def assert_same_observations(observed: list[dict], reference: list[dict]) -> None:
    """Same steps and ids in the same order; losses and update norms equal up to float noise
    (another optimizer implementation, another summation order)."""
    assert [(o["step"], o["ids"]) for o in observed] == [(o["step"], o["ids"])
                                                         for o in reference]
    for mine, theirs in zip(observed, reference, strict=True):
        np.testing.assert_allclose(mine["losses"], theirs["losses"], rtol=2e-3, atol=1e-4)
        assert (mine["update_norm"] is None) == (theirs["update_norm"] is None)
        if mine["update_norm"] is not None:
            np.testing.assert_allclose(mine["update_norm"], theirs["update_norm"], rtol=2e-3)


def run_engine(config: RunConfig, run_dir: Path) -> dict:
    from mssr.engine.launch import execute

    return execute(config, run_dir=run_dir, show_progress=False)[1]


def run_engine_recorded(config: RunConfig, run_dir: Path, monkeypatch: pytest.MonkeyPatch
                        ) -> tuple[dict, tuple[list, list], tuple[list, list]]:
    """The engine's results, with (its plans, its observations) as a reference, and the same
    two recorders emptied, recording what the trainer under test does next."""
    planned, observed = record_plans(monkeypatch), record_observations(monkeypatch)
    engine = run_engine(config, run_dir)
    reference = (list(planned), list(observed))
    planned.clear()
    observed.clear()
    return engine, reference, (planned, observed)


def continual_inputs(config: RunConfig, data_dir: Path) -> dict:
    """The model, tokenizer, tasks and settings an integration needs to train what the engine
    trains for `config`: the same tokenized rows (so the same ids) and the same initial weights
    (the seed is set before the model is built, as the engine sets it)."""
    import datasets

    set_seed(config.seed)
    tokenizer = model_io.load_tokenizer(config.model)
    prepared = prepare_tasks(config, tokenizer, data_dir)
    model = model_io.load_model(config.model, config.lora, torch.device("cpu"))
    tasks = [ContinualTask(
        name=task.name,
        train=datasets.Dataset.from_list([{"input_ids": e.input_ids, "labels": e.labels,
                                           "attention_mask": [1] * len(e.input_ids)}
                                          for e in task.encoded]),
        eval=task.data.eval, scorer=task.data.scorer) for task in prepared]
    continual = ContinualConfig(steps_per_task=config.train.steps_per_task,
                                replay=config.replay, replay_budget=config.replay_budget,
                                reset_optimizer=config.train.reset_optimizer, eval=config.eval,
                                max_length=config.model.max_length)
    return {"model": model, "tokenizer": tokenizer, "tasks": tasks, "continual": continual}


def training_arguments(config: RunConfig, output_dir: Path, **overrides) -> dict:
    """TrainingArguments keywords that train as the engine trains `config` on one process."""
    train = config.train
    return {"output_dir": str(output_dir), "per_device_train_batch_size": train.batch_size,
            "learning_rate": train.lr, "weight_decay": train.weight_decay,
            "lr_scheduler_type": train.lr_schedule, "warmup_steps": train.warmup_steps,
            "max_grad_norm": train.max_grad_norm, "seed": config.seed, "report_to": "none",
            "save_strategy": "no", "logging_strategy": "no", "disable_tqdm": True,
            "use_cpu": True, **overrides}
