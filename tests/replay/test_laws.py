"""The paper's laws as options (issue 11): sampler law, loss normalisation, interval laws,
the retention-triggered schedule, append mode, and how budgets treat them."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mssr.errors import ConfigError
from mssr.replay import build_strategy, match_budget, planned_replays, with_allowance
from mssr.replay.clock import InterferenceClock
from mssr.replay.config import (
    BufferConfig,
    ClockConfig,
    MemoryConfig,
    ReplayConfig,
    SamplerConfig,
    ScheduleConfig,
)
from mssr.replay.samplers import InverseStrengthSampler, MemorySampler, memory_sampler
from mssr.replay.schedulers import (
    ExpandingSchedule,
    MemorySchedule,
    RetentionSchedule,
    intervals,
    restoring_volume,
)
from mssr.replay.tracker import MemoryTracker
from mssr.typed_config import from_mapping


def spread_buffer(size: int = 6, **memory) -> MemoryTracker:
    tracker = MemoryTracker(MemoryConfig(**memory))
    tracker.insert(np.arange(size), np.linspace(0.0, 3.0, size), task=0, clock=0.0)
    return tracker


def test_defaults_are_todays_laws():
    config = ReplayConfig()
    assert (config.sampler.law, config.memory.loss_norm, config.schedule.law, config.mode,
            config.memory.calibrate) == ("risk_softmax", "none", "geometric", "replace", "off")
    assert type(memory_sampler(config.sampler)) is MemorySampler
    assert type(MemorySchedule.from_config(config)) is ExpandingSchedule


def test_inverse_strength_probabilities_follow_the_power_law_with_a_floor():
    tracker = spread_buffer()
    clock = 2.0
    sampler = InverseStrengthSampler(SamplerConfig(law="inverse_strength", zeta=2.0))
    retention = tracker.retention(clock)
    expected = retention**-2.0 / (retention**-2.0).sum()
    np.testing.assert_allclose(sampler.probabilities(tracker, clock), expected, rtol=1e-10)
    # long forgotten: R underflows to 0; the floor keeps every weight finite and ties them
    late = sampler.probabilities(tracker, 1e7)
    assert np.isfinite(late).all() and late.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(late, 1 / 6)
    flat = InverseStrengthSampler(SamplerConfig(law="inverse_strength", zeta=0.0))
    np.testing.assert_allclose(flat.probabilities(tracker, clock), 1 / 6)


def test_ema_quantile_drives_decay_by_the_relative_loss():
    config = MemoryConfig(loss_norm="ema_quantile", loss_ema=0.5, loss_quantile=0.5)
    tracker = MemoryTracker(config)
    losses = np.array([1.0, 2.0, 4.0])
    tracker.insert(np.arange(3), losses, task=0, clock=0.0)
    np.testing.assert_allclose(tracker.column("decay_loss"), losses / 2.0)  # median 2
    tracker.review(np.array([2]), np.array([0.0]), clock=10.0)
    ema = np.array([1.0, 2.0, 2.0])  # 0.5 * 4 + 0.5 * 0
    assert tracker.column("loss_ema").tolist() == ema.tolist()
    assert tracker.column("decay_loss")[2] == pytest.approx(2.0 / np.median(ema))
    # scaling every loss by 10 leaves the loss that drives the decay unchanged: it is relative
    scaled = MemoryTracker(config)
    scaled.insert(np.arange(3), 10 * losses, task=0, clock=0.0)
    np.testing.assert_allclose(scaled.column("decay_loss"), losses / 2.0)
    floored = MemoryTracker(dataclasses.replace(config, loss_floor=0.5))
    floored.insert(np.arange(3), np.array([0.0, 0.0, 0.2]), task=0, clock=0.0)
    np.testing.assert_allclose(floored.column("decay_loss"), [0.0, 0.0, 0.4])


@pytest.mark.parametrize("law, expected", [
    ("geometric", [10, 15, 23, 34, 40, 40]),
    ("sequence", [30, 60, 120, 210, 450, 450]),
])
def test_interval_laws_in_closed_form(law, expected):
    config = ScheduleConfig(law=law, initial_interval=10, growth=1.5, max_interval=40,
                            intervals=[1, 2, 4, 7, 15], interval_unit=30)
    assert intervals(config, 6).tolist() == expected


def test_saturating_intervals_grow_by_shrinking_factors_to_a_bound():
    config = ScheduleConfig(law="saturating", initial_interval=10, saturation_eta=1.0,
                            saturation_rate=0.5, max_interval=10**6)
    gaps = intervals(config, 40)
    product = np.cumprod(1 + np.exp(-0.5 * np.arange(1, 40)))
    assert gaps[0] == 10 and gaps[1:].tolist() == np.ceil(10 * product).astype(int).tolist()
    assert (np.diff(gaps) >= 0).all()
    assert gaps[-1] == gaps[-10] < 10 * math.exp(sum(math.exp(-0.5 * j) for j in range(1, 200)))


@pytest.mark.parametrize("law", ["geometric", "saturating", "sequence"])
def test_expanding_schedule_fires_at_the_cumulative_intervals(law):
    config = ScheduleConfig(law=law, window=1, interval_unit=5)
    schedule = ExpandingSchedule(config)
    schedule.start_task(100)
    starts = [step - 100 for step in range(100, 600) if schedule.replay_count(step, 16)[1]]
    offsets = np.cumsum(intervals(config, len(starts) + 1))
    assert starts == offsets[:len(starts)].tolist() and offsets[len(starts)] >= 500


def test_sequence_repeats_its_last_interval():
    config = ScheduleConfig(law="sequence", intervals=[1, 3], interval_unit=10, window=1)
    schedule = MemorySchedule.from_config(ReplayConfig(schedule=config))
    schedule.start_task(0)
    assert [s for s in range(100) if schedule.replay_count(s, 8)[1]] == [10, 40, 70]


def test_restoring_volume_brings_the_statistic_back_to_target():
    retention = np.array([0.1, 0.2, 0.5, 0.9, 0.95, 1.0])
    for target in (0.6, 0.7, 0.9):
        k = restoring_volume(retention, target, None)
        restored = np.sort(retention).copy()
        restored[:k] = 1.0
        assert restored.mean() >= target
        if k > 1:
            fewer = np.sort(retention).copy()
            fewer[:k - 1] = 1.0
            assert fewer.mean() < target, "the smallest such volume"
    assert restoring_volume(retention, 0.5, None) == 0  # mean 0.61 is above target
    for quantile in (0.0, 0.25, 0.5):
        k = restoring_volume(retention, 0.8, quantile)
        restored = np.sort(retention).copy()
        restored[:k] = 1.0
        assert np.quantile(restored, quantile) >= 0.8
        fewer = np.sort(retention).copy()
        fewer[:max(k - 1, 0)] = 1.0
        assert k == 0 or np.quantile(fewer, quantile) < 0.8


def test_retention_schedule_fires_when_predicted_retention_falls_below_target():
    config = ScheduleConfig(law="retention", retention_target=0.8, retention_cooldown=5,
                            window=2, initial_ratio=0.5)
    tracker = MemoryTracker(MemoryConfig())
    clock = InterferenceClock(ClockConfig())
    schedule = RetentionSchedule(config)
    schedule.attach(tracker, clock)
    schedule.start_task(0)
    assert schedule.replay_count(0, 16) == (0, False)  # empty buffer
    tracker.insert(np.arange(20), np.full(20, 0.5), task=0, clock=0.0)
    fired = []
    for step in range(40):
        count, started = schedule.replay_count(step, 16)
        fired.append(started)
        clock.tick()
        if started:
            needed = restoring_volume(tracker.retention(clock.value - 1), 0.8, None)
            assert count == min(math.ceil(needed / 2), 8)
    first = fired.index(True)
    strength = 50 * math.exp(-0.5)
    assert first == math.ceil(-math.log(0.8) * strength / 1.5)  # mean R first below 0.8
    events = [step for step, started in enumerate(fired) if started]
    assert all(b - a >= 5 for a, b in zip(events, events[1:], strict=False))


def test_retention_schedule_is_driven_through_the_strategy_and_capped():
    config = ReplayConfig(strategy="mssr", budget_per_task=30, buffer=BufferConfig(per_task=20),
                          schedule=ScheduleConfig(law="retention", retention_target=0.95))
    strategy = build_strategy(config, seed=0)
    rng = np.random.default_rng(0)
    step = 0
    spent = []
    for task in range(3):
        candidates = np.arange(40) + 100 * task
        strategy.start_task(task, step, candidates)
        before = strategy.stats["replayed_examples"]
        for _ in range(60):
            replay = strategy.plan(step, 8)
            ids = np.concatenate([rng.choice(candidates, 8 - len(replay), replace=False),
                                  replay])
            strategy.observe(step, ids, rng.gamma(2.0, 0.5, len(ids)), task_loss=1.0)
            step += 1
        strategy.end_task(task)
        spent.append(strategy.stats["replayed_examples"] - before)
    assert spent[0] == 0 and 0 < spent[1] <= 30 and 0 < spent[2] <= 30
    assert strategy.stats["replay_events"] > 0


def test_budgets_allot_a_retention_schedule_what_the_geometric_law_spends():
    geometric = ReplayConfig(strategy="mssr")
    retention = dataclasses.replace(geometric, schedule=ScheduleConfig(law="retention"))
    planned = planned_replays(geometric, 300, 16)
    assert planned_replays(retention, 300, 16) == planned
    assert with_allowance(retention, 300, 16).budget_per_task == planned
    assert with_allowance(geometric, 300, 16) is geometric
    capped = dataclasses.replace(retention, budget_per_task=50)
    assert planned_replays(capped, 300, 16) == 50
    assert with_allowance(capped, 300, 16) is capped
    # match:mssr with mssr on the retention law gives every baseline the same allowance
    uniform = match_budget(ReplayConfig(strategy="uniform"), planned, 300, 16)
    assert planned_replays(uniform, 300, 16) == planned


def test_append_mode_adds_replay_to_a_full_batch():
    for mode, current in (("replace", 8 - 3), ("append", 8)):
        strategy = build_strategy(ReplayConfig(strategy="uniform", mode=mode), seed=0)
        assert strategy.current_count(8, 3) == current
    config = ReplayConfig(strategy="mssr", mode="append",
                          schedule=ScheduleConfig(initial_interval=1, initial_ratio=1.0,
                                                  min_ratio=1.0))
    strategy = build_strategy(config, seed=0)
    strategy.tracker.insert(np.arange(50), np.zeros(50), task=0, clock=0.0)
    strategy.start_task(1, 0, np.arange(100, 140))
    counts = [len(strategy.plan(step, 8)) for step in range(3)]
    assert counts == [0, 8, 8]  # a whole batch's worth beside 8 current examples
    replace = dataclasses.replace(config, mode="replace")
    assert planned_replays(config, 20, 8) > planned_replays(replace, 20, 8)


@pytest.mark.parametrize("section, values, field", [
    ("sampler", {"law": "power"}, "replay.sampler.law"),
    ("sampler", {"retention_floor": 0.0}, "replay.sampler.retention_floor"),
    ("memory", {"loss_norm": "zscore"}, "replay.memory.loss_norm"),
    ("memory", {"calibrate": "yes"}, "replay.memory.calibrate"),
    ("schedule", {"law": "fibonacci"}, "replay.schedule.law"),
    ("schedule", {"intervals": []}, "replay.schedule.intervals"),
    ("schedule", {"retention_target": 1.5}, "replay.schedule.retention_target"),
    ("schedule", {"retention_quantile": 2.0}, "replay.schedule.retention_quantile"),
])
def test_bad_values_name_the_field(section, values, field):
    with pytest.raises(ConfigError) as error:
        from_mapping(ReplayConfig, {section: values}, prefix="replay")
    assert error.value.field == field
    with pytest.raises(ConfigError, match="replace, append"):
        from_mapping(ReplayConfig, {"mode": "prepend"}, prefix="replay")
