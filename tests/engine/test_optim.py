"""The optimizer's one owner: the LR of every step under each schedule (with and without
reset_optimizer), warm-up honoured everywhere, and 30 tasks of full fine-tuning that leave
accelerate holding one optimizer and the process's memory flat."""

from __future__ import annotations

import gc
import json
import math
import os

import pytest
import torch
from accelerate import Accelerator

from mssr.engine.optim import Optimization
from mssr.engine.recipe import ContinualRun
from mssr.errors import ConfigError
from mssr.run_config import TrainConfig
from mssr.typed_config import from_mapping

LR, WARMUP, STEPS, PHASES = 0.01, 2, 6, 3


def expected_lr(schedule: str, step: int, total: int) -> float:
    """transformers' schedules with linear warm-up, written out: step s of a schedule of
    `total` steps."""
    if step < WARMUP:
        return LR * step / WARMUP
    progress = (step - WARMUP) / (total - WARMUP)
    if schedule == "constant":
        return LR
    if schedule == "linear":
        return LR * max(0.0, 1 - progress)
    return LR * max(0.0, 0.5 * (1 + math.cos(math.pi * progress)))


def expected_lrs(schedule: str, reset: bool) -> list[float]:
    if reset:
        return [expected_lr(schedule, s, STEPS) for _ in range(PHASES) for s in range(STEPS)]
    return [expected_lr(schedule, s, STEPS * PHASES) for s in range(STEPS * PHASES)]


@pytest.mark.parametrize("reset", [True, False])
@pytest.mark.parametrize("schedule", ["constant", "linear", "cosine"])
def test_lr_at_every_step(schedule, reset):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    train = TrainConfig(lr=LR, warmup_steps=WARMUP, lr_schedule=schedule, reset_optimizer=reset,
                        steps_per_task=STEPS)
    optim = Optimization(Accelerator(), list(model.parameters()), train, STEPS, PHASES)
    seen = []
    for _ in range(PHASES):
        optim.start_task()
        for _ in range(STEPS):
            model(torch.randn(2, 4)).sum().backward()
            seen.append(optim.step().lr)
    assert seen == pytest.approx(expected_lrs(schedule, reset), abs=1e-12)


@pytest.mark.parametrize("reset", [True, False])
def test_the_engine_trains_with_the_schedule_and_logs_its_lr(make_config, tmp_path, reset,
                                                             monkeypatch):
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * PHASES)
    config = make_config("replay.strategy=uniform", "train.lr_schedule=cosine",
                         f"train.warmup_steps={WARMUP}", f"train.reset_optimizer={reset}",
                         "train.checkpoint_every=0")
    run = ContinualRun(config, tmp_path / "run", show_progress=False)
    run.setup()
    run.run()
    log = [json.loads(line) for line in (tmp_path / "run" / "train_log.jsonl").open()]
    assert [record["lr"] for record in log] == pytest.approx(expected_lrs("cosine", reset))


def test_warmup_longer_than_a_reset_schedule_is_rejected():
    with pytest.raises(ConfigError, match="train.warmup_steps"):
        from_mapping(TrainConfig, {"steps_per_task": 5, "warmup_steps": 5}, prefix="train")
    from_mapping(TrainConfig, {"steps_per_task": 5, "warmup_steps": 5, "reset_optimizer": False})


@pytest.mark.slow
def test_thirty_tasks_of_full_fine_tuning_hold_one_optimizer(make_config, engine_assets,
                                                             tmp_path, monkeypatch):
    names = list(engine_assets["tasks"])
    tasks = [{"name": f"t{i:02d}", "train": str(engine_assets["tasks"][names[i % 3]])}
             for i in range(30)]
    config = make_config("replay.strategy=mssr", "lora.enabled=false", f"tasks={json.dumps(tasks)}",
                         "train.steps_per_task=2", "train.checkpoint_every=0",
                         "replay.buffer.per_task=4")
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * 30)
    monkeypatch.setattr(ContinualRun, "checkpoint", lambda self, reason: None)
    run = ContinualRun(config, tmp_path / "run", show_progress=False)
    run.setup()
    held, alive, state_bytes, rss_mib = [], [], [], []
    end_task = run.end_task

    def measure():
        end_task()
        gc.collect()
        held.append(len(run.accelerator._optimizers))
        alive.append(sum(type(o) is torch.optim.AdamW for o in gc.get_objects()))
        state_bytes.append(sum(t.numel() * t.element_size()
                               for o in run.accelerator._optimizers
                               for s in o.optimizer.state.values()
                               for t in s.values() if torch.is_tensor(t)))
        rss_mib.append(_current_rss_mib())

    run.end_task = measure
    run.run()
    assert held == [1] * 30
    assert alive == [1] * 30, "an optimizer outlived its task"
    assert len(set(state_bytes)) == 1 and state_bytes[0] > 0  # one set of moments, reused
    assert max(rss_mib[10:]) - rss_mib[9] < 32, f"RSS grew: {rss_mib}"


def _current_rss_mib() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
