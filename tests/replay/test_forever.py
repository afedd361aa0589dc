"""FOREVER's model-time schedule and strategy against docs/MSSR.md's FOREVER section: Ebbinghaus
days in summed update size, the calibrated model day, the intensity-scaled anchor weight."""

from __future__ import annotations

import numpy as np
import pytest

from mssr.replay import build_strategy, match_budget, planned_replays
from mssr.replay.config import (
    BaselineConfig,
    BufferConfig,
    ForeverConfig,
    ReplayConfig,
    ScheduleConfig,
)
from mssr.replay.model_time import ModelTimeSchedule


def schedule(**forever) -> ModelTimeSchedule:
    return ModelTimeSchedule(ForeverConfig(**forever), BaselineConfig(ratio=0.25), window=2)


def event_updates(schedule: ModelTimeSchedule, norms: list[float]) -> list[int]:
    """1-based indices of the updates after which an event fires (the next step replays)."""
    fired = []
    for index, norm in enumerate(norms, start=1):
        schedule.observe_update(norm)
        if schedule.next_event(index):
            schedule.start_event(index, batch_size=8)
            fired.append(index)
    return fired


def test_constant_updates_fire_on_the_ebbinghaus_days_in_units_of_s_updates():
    assert event_updates(schedule(calibration_updates=3), [2.0] * 100) == [3, 6, 12, 21, 45, 90]


def test_model_day_is_the_size_of_the_first_s_updates_and_time_is_their_sum():
    sizes = [4.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    # day = 4 + 2 = 6; tau: 6 (day 1), 7, 8, 9, 10, 11, 12 (day 2 at update 8), ...
    clock = schedule(calibration_updates=2, days=[1.0, 2.0])
    assert event_updates(clock, sizes) == [2, 8]
    assert (clock.model_day, clock.model_time) == (6.0, 14.0)


def test_several_days_passed_in_one_update_raise_one_event():
    clock = schedule(calibration_updates=1, days=[1.0, 2.0, 4.0])
    assert event_updates(clock, [1.0, 5.0, 1.0]) == [1, 2]
    assert clock.next_day == 3


def test_model_time_restarts_at_each_task_and_skips_non_finite_updates():
    clock = schedule(calibration_updates=2)
    event_updates(clock, [1.0, float("nan"), 1.0, 1.0])
    assert (clock.updates, clock.model_time) == (3, 3.0)
    clock.start_task(50)
    assert (clock.updates, clock.model_time, clock.model_day, clock.next_day) == (0, 0.0, None, 0)


def test_anchor_strength_follows_the_update_intensity_and_its_clip():
    clock = schedule(calibration_updates=2, intensity_decay=0.5, anchor_strength=1e-3,
                     anchor_gamma=2.0, anchor_clip=[0.5, 3.0])
    assert clock.anchor_strength() == pytest.approx(1e-3)  # not calibrated yet: r = 1
    event_updates(clock, [1.0, 3.0])  # mu_0 = 2
    assert clock.anchor_strength() == pytest.approx(1e-3)
    clock.observe_update(4.0)  # mu = 0.5 * 2 + 0.5 * 4 = 3, r = 1.5, scale 1 + 2 * 0.5 = 2
    assert clock.intensity_ratio() == pytest.approx(1.5)
    assert clock.anchor_strength() == pytest.approx(2e-3)
    clock.observe_update(20.0)  # mu = 11.5, r = 5.75: scale clipped to 3
    assert clock.anchor_strength() == pytest.approx(3e-3)
    clock.observe_update(0.0)
    clock.observe_update(0.0)  # mu = 2.875, r = 1.4375 -> 1.875
    assert clock.anchor_strength() == pytest.approx(1.875e-3)
    for _ in range(10):
        clock.observe_update(0.0)  # r -> 0: scale clipped to 0.5
    assert clock.anchor_strength() == pytest.approx(0.5e-3)


def forever_config(**fields) -> ReplayConfig:
    return ReplayConfig(strategy="forever", buffer=BufferConfig(per_task=6),
                        schedule=ScheduleConfig(window=2),
                        forever=ForeverConfig(calibration_updates=2, **fields))


def test_strategy_replays_after_model_days_and_anchors_only_replay_steps():
    strategy = build_strategy(forever_config(anchor_strength=0.01), seed=0)
    assert strategy.spec.anchors and strategy.needs_update_norm
    ids, losses = np.arange(10), np.ones(10)
    strategy.start_task(0, 0, ids)
    for step in range(4):
        assert len(strategy.plan(step, 8)) == 0 and strategy.anchor_weight() == 0.0
        strategy.observe(step, ids[:8], losses[:8], 1.0, update_norm=1.0)
    strategy.end_task(0)
    strategy.start_task(1, 4, ids + 100)
    planned = []
    for step in range(4, 12):
        replay = strategy.plan(step, 8)
        planned.append((len(replay), strategy.anchor_weight()))
        strategy.observe(step, ids[:8] + 100, losses[:8], 1.0, update_norm=1.0)
    # days 1, 2, 4 at updates 2, 4, 8 of the task: each replays 2 examples in 2 batches
    assert planned == [(0, 0.0), (0, 0.0), (2, 0.01), (2, 0.01), (2, 0.01), (2, 0.01),
                       (0, 0.0), (0, 0.0)]


def test_strategy_needs_the_update_norm():
    strategy = build_strategy(forever_config(), seed=0)
    strategy.start_task(0, 0, np.arange(4))
    with pytest.raises(ValueError, match="update_norm"):
        strategy.observe(0, np.arange(4), np.ones(4), 1.0)


def test_budget_plan_assumes_constant_updates_and_a_number_caps_it():
    config = ReplayConfig(strategy="forever", baseline=BaselineConfig(ratio=0.25))
    # S = 24: days 1, 2, 4, 7 fall in 200 steps (updates 24, 48, 96, 168): 4 events x 4 x 4
    assert planned_replays(config, 200, 16) == 64
    matched = match_budget(config, 100, 200, 16)
    assert matched.budget_per_task == 100
    assert planned_replays(matched, 200, 16) == 96  # 6 per batch; 7 would spend 112
