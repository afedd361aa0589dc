"""MIR (Aljundi et al., NeurIPS 2019): uniform candidates, the largest loss rise after a virtual
step replayed, the measurement in the ledger, uniform's spend at a matched budget."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mssr.errors import ConfigError
from mssr.replay import STRATEGY_NAMES, ReplayConfig, planned_replays, spec_for
from mssr.replay.config import BufferConfig, MirConfig
from mssr.replay.driver import ReplayDriver
from mssr.replay.samplers import most_interfered
from mssr.replay.schedulers import EveryStep
from mssr.typed_config import from_mapping

TASKS = [task * 1000 + np.arange(40, dtype=np.int64) for task in range(3)]
STEPS, BATCH = 20, 8


def rise_of(ids: np.ndarray) -> np.ndarray:
    """A fixed, distinct loss rise per id (no two candidates tie)."""
    return ((np.asarray(ids) * 7919) % 997) / 997.0


def test_mir_is_uniforms_schedule_with_a_virtual_step():
    spec = spec_for("mir")
    assert spec.schedule is EveryStep and spec.virtual_step and not spec.memory_sampler
    assert not spec.shardable and not spec.anchors and not spec.needs_update_norm
    assert [name for name in STRATEGY_NAMES if spec_for(name).virtual_step] == ["mir"]


def test_most_interfered_replays_the_largest_rises_ties_in_draw_order():
    candidates = np.array([10, 11, 12, 13, 14, 15])
    before = np.array([1.0, 1.0, 1.0, 1.0, 2.0, 1.0])
    after = np.array([1.5, 0.5, 3.0, 1.5, np.nan, 1.2])
    assert most_interfered(candidates, before, after, 3).tolist() == [12, 10, 13]
    assert most_interfered(candidates, before, after, 6).tolist() == [12, 10, 13, 15, 11, 14]
    same = np.ones(6)  # a virtual step that moved nothing: the (uniform) draw order
    assert most_interfered(candidates, same, same, 2).tolist() == [10, 11]
    with pytest.raises(ValueError, match="5 loss rises for 6 candidates"):
        most_interfered(candidates, before[:5], after[:5], 2)


def drive(config: ReplayConfig, budget=None, log: list | None = None) -> ReplayDriver:
    """A run through the driver; MIR's candidates rise by `rise_of`, its measurement costs 1
    token per current example (virtual step) and 2 per candidate (two forwards)."""
    driver = ReplayDriver(config, budget, TASKS, steps_per_task=STEPS, batch_size=BATCH, seed=0)
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        if plan.candidates is not None:
            before = np.zeros(len(plan.candidates))
            chosen = driver.choose(plan, before, rise_of(plan.candidates),
                                   train_tokens=len(plan.ids),
                                   eval_tokens=2 * len(plan.candidates))
            if log is not None:
                log.append((plan, chosen))
            plan = chosen
        elif log is not None:
            log.append((plan, plan))
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, np.ones(len(plan.ids)))
        if driver.task_done:
            driver.end_task([0.0])
    return driver


def test_the_driver_replays_the_candidates_whose_loss_rises_most():
    config = ReplayConfig(strategy="mir", buffer=BufferConfig(per_task=10),
                          mir=MirConfig(candidates=2.0))
    log = []
    driver = drive(config, log=log)
    measured = [(plan, chosen) for plan, chosen in log if plan.candidates is not None]
    assert measured, "MIR measured no candidates"
    buffered = set(driver.strategy.buffer_ids.tolist())
    for plan, chosen in measured:
        candidates = plan.candidates
        assert len(set(candidates.tolist())) == len(candidates)
        assert set(candidates.tolist()) <= buffered
        buffer_size = 10 * int(plan.ids[0] // 1000)  # 10 kept of each finished task
        assert len(candidates) == min(math.ceil(2.0 * plan.pending), buffer_size)
        replayed = chosen.ids[chosen.current_count:]
        best = candidates[np.argsort(-rise_of(candidates))[:plan.pending]]
        assert replayed.tolist() == best.tolist()
        assert len(chosen.ids) == BATCH and chosen.ids[:chosen.current_count].tolist() == (
            plan.ids.tolist())
    ledger = driver.progress.ledger
    assert ledger.replayed_examples == sum(plan.pending for plan, _ in measured) > 0
    # the measurement's cost: the virtual step's tokens, both candidate forwards
    assert ledger.method_train_tokens == sum(len(plan.ids) for plan, _ in measured)
    assert ledger.method_eval_tokens == sum(2 * len(plan.candidates) for plan, _ in measured)
    assert ledger.new_tokens + ledger.replayed_tokens == 3 * STEPS * BATCH  # trained batches


def test_a_plan_with_open_slots_cannot_be_trained():
    config = ReplayConfig(strategy="mir", buffer=BufferConfig(per_task=10))
    driver = ReplayDriver(config, None, TASKS, steps_per_task=STEPS, batch_size=BATCH, seed=0)
    while driver.progress.task == 0:
        driver.begin_step()
        plan = driver.plan_step()
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, np.ones(len(plan.ids)))
        if driver.task_done:
            driver.end_task([0.0])
    driver.begin_step()
    plan = driver.plan_step()
    assert plan.candidates is not None and plan.pending > 0 and plan.replayed == 0
    with pytest.raises(ValueError, match="replay slots are open"):
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, np.ones(len(plan.ids)))
    with pytest.raises(ValueError, match="no candidates"):
        driver.choose(driver.choose(plan, np.zeros(len(plan.candidates)),
                                    np.zeros(len(plan.candidates)), 0, 0),
                      np.zeros(1), np.zeros(1), 0, 0)
    with pytest.raises(ValueError, match="candidates by a virtual step"):
        driver.strategy.plan(driver.progress.global_step + 1, BATCH)


def test_a_matched_budget_spends_like_uniform_every_step():
    per_step = {}
    for name in ("mir", "uniform"):
        config = ReplayConfig(strategy=name, buffer=BufferConfig(per_task=10))
        log = []
        driver = drive(config, "match:mssr", log=log)
        assert driver.budget == {"mode": "match:mssr",
                                 "per_task": planned_replays(ReplayConfig(strategy="mssr"),
                                                             STEPS, BATCH)}
        per_step[name] = [chosen.replayed for _, chosen in log]
        resolved = dataclasses.asdict(driver.config)
        resolved.pop("strategy")
        per_step[name + " config"] = resolved
    assert per_step["mir"] == per_step["uniform"] and sum(per_step["mir"]) > 0
    assert per_step["mir config"] == per_step["uniform config"]
    assert planned_replays(ReplayConfig(strategy="mir"), STEPS, BATCH) == planned_replays(
        ReplayConfig(strategy="uniform"), STEPS, BATCH)


def test_candidates_below_one_per_slot_are_refused_naming_the_field():
    with pytest.raises(ConfigError) as error:
        from_mapping(ReplayConfig, {"strategy": "mir", "mir": {"candidates": 0.5}},
                     prefix="replay")
    assert error.value.field == "replay.mir.candidates"
