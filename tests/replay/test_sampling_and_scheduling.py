"""Samplers, schedulers and budgets against docs/MSSR.md sections 2-4."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from mssr.replay import match_budget, planned_replays, spec_for
from mssr.replay.config import (
    BaselineConfig,
    MemoryConfig,
    ReplayConfig,
    SamplerConfig,
    ScheduleConfig,
)
from mssr.replay.samplers import MemorySampler, UniformSampler, gumbel_top_k
from mssr.replay.schedulers import ExpandingSchedule, FixedInterval, MemorySchedule
from mssr.replay.tracker import MemoryTracker


def buffer_with_spread_retention(size: int = 6) -> MemoryTracker:
    tracker = MemoryTracker(MemoryConfig())
    tracker.insert(np.arange(size), np.linspace(0.0, 3.0, size), task=0, clock=0.0)
    return tracker


def test_memory_probabilities_match_the_formula_and_prefer_low_retention():
    config = SamplerConfig(temperature=0.1, epsilon=0.05)
    tracker = buffer_with_spread_retention()
    clock = 20.0
    risk = 1 - tracker.retention(clock)
    softmax = np.exp(risk / 0.1) / np.exp(risk / 0.1).sum()
    expected = 0.95 * softmax + 0.05 / len(risk)
    probabilities = MemorySampler(config).probabilities(tracker, clock)
    np.testing.assert_allclose(probabilities, expected, rtol=1e-12)
    assert probabilities.sum() == pytest.approx(1.0)
    order = np.argsort(tracker.retention(clock))
    assert (np.diff(probabilities[order]) <= 0).all(), "lower retention, higher probability"
    np.testing.assert_allclose(UniformSampler().probabilities(tracker, clock), 1 / 6)


def test_gumbel_top_k_draws_without_replacement_by_the_plackett_luce_law():
    weights = np.array([0.5, 0.3, 0.15, 0.05])
    rng = np.random.default_rng(0)
    trials = 20000
    first = np.zeros(4)
    pair_01 = 0
    for _ in range(trials):
        drawn = gumbel_top_k(np.log(weights), 2, rng)
        assert len(set(drawn.tolist())) == 2
        first[drawn[0]] += 1
        pair_01 += set(drawn.tolist()) == {0, 1}
    np.testing.assert_allclose(first / trials, weights, atol=0.015)
    # P({0,1}) = w0 w1/(1-w0) + w1 w0/(1-w1)
    expected = 0.5 * 0.3 / 0.5 + 0.3 * 0.5 / 0.7
    assert pair_01 / trials == pytest.approx(expected, abs=0.015)


def test_memory_sampler_draws_at_risk_examples_more_often():
    tracker = buffer_with_spread_retention(50)
    sampler = MemorySampler(SamplerConfig())
    rng = np.random.default_rng(1)
    drawn = np.concatenate([sampler.sample(tracker, 30.0, 5, rng) for _ in range(400)])
    retention = tracker.retention(30.0)
    at_risk = np.argsort(retention)[:10]
    assert np.isin(drawn, at_risk).mean() > 1.25 * 10 / 50  # uniform would give 10 / 50
    assert retention[drawn].mean() < 0.8 * retention.mean()


def test_expanding_intervals_and_restart_at_a_new_task():
    config = ScheduleConfig(initial_interval=10, growth=1.5, max_interval=40, window=1)
    schedule = ExpandingSchedule(config)
    events = []
    for task_start in (0, 1000):
        schedule.start_task(task_start)
        events.append([step - task_start for step in range(task_start, task_start + 300)
                       if schedule.replay_count(step, 16)[1]])
    expected, offset, k = [], 10, 0
    while offset < 300:
        expected.append(offset)
        k += 1
        offset += min(40, math.ceil(10 * 1.5**k))
    assert events[0] == expected == events[1]
    gaps = np.diff(expected)
    assert (np.diff(gaps) >= 0).all() and gaps.max() == 40


def test_default_schedule_gives_about_six_events_in_300_steps():
    schedule = ExpandingSchedule(ScheduleConfig())
    schedule.start_task(0)
    starts = [s for s in range(300) if schedule.replay_count(s, 16)[1]]
    assert starts == [10, 25, 48, 82, 133, 209]


def test_ratio_decays_to_its_floor_and_windows_carry_the_event_volume():
    config = ScheduleConfig(initial_ratio=0.5, min_ratio=0.1, ratio_decay_steps=50.0,
                            window=3, initial_interval=5)
    schedule = ExpandingSchedule(config)
    schedule.start_task(0)
    ratios = [schedule.share_at(step) for step in range(0, 2000, 100)]
    assert ratios[0] == 0.5 and all(a > b for a, b in zip(ratios, ratios[1:], strict=False))
    assert ratios[-1] == pytest.approx(0.1, abs=1e-6)
    counts = [schedule.replay_count(step, 16)[0] for step in range(12)]
    volume = round((0.1 + 0.4 * math.exp(-5 / 50)) * 16)
    assert counts == [0] * 5 + [volume] * 3 + [0] * 4


def test_fixed_interval_fires_every_interval_from_the_task_start():
    schedule = FixedInterval(BaselineConfig(interval=4, ratio=0.25), window=2)
    schedule.start_task(100)
    counts = [schedule.replay_count(step, 16)[0] for step in range(100, 112)]
    assert counts == [0, 0, 0, 0, 4, 4, 0, 0, 4, 4, 0, 0]


@pytest.mark.parametrize("strategy", ["uniform", "fixed", "mssr", "mssr-sampler",
                                      "mssr-every-step", "mssr-scheduler", "forever"])
def test_matched_budget_spends_about_the_same(strategy):
    reference = planned_replays(ReplayConfig(strategy="mssr"), 300, 16)
    matched = match_budget(ReplayConfig(strategy=strategy), reference, 300, 16)
    spent = planned_replays(matched, 300, 16)
    assert spent <= reference
    assert spent >= 0.85 * reference, (strategy, spent, reference)


@pytest.mark.parametrize("law", ["geometric", "saturating", "sequence"])
@pytest.mark.parametrize("budget", [24, 72, 240, 720])
def test_mssr_matched_to_a_budget_scales_its_volume_and_keeps_its_event_times(law, budget):
    config = ReplayConfig(strategy="mssr", schedule=ScheduleConfig(law=law, max_interval=50))
    matched = match_budget(config, budget, 150, 16)
    uncapped = dataclasses.replace(matched, budget_per_task=None)
    assert abs(planned_replays(uncapped, 150, 16) - budget) <= 0.02 * budget

    def event_steps(schedule_config):
        schedule = MemorySchedule.from_config(ReplayConfig(schedule=schedule_config))
        schedule.start_task(0)
        return [step for step in range(150) if schedule.replay_count(step, 16)[1]]

    assert event_steps(matched.schedule) == event_steps(config.schedule)
    if budget < planned_replays(config, 150, 16):  # fewer replays: the same shape, smaller
        assert matched.schedule.window == config.schedule.window
        assert (matched.schedule.initial_ratio / config.schedule.initial_ratio
                == pytest.approx(matched.schedule.min_ratio / config.schedule.min_ratio))


def test_adaptive_strategies_have_no_plan_and_none_spends_nothing():
    assert planned_replays(ReplayConfig(strategy="loss"), 100, 16) is None
    assert planned_replays(ReplayConfig(strategy="accuracy"), 100, 16) is None
    assert planned_replays(ReplayConfig(strategy="none"), 100, 16) == 0


def test_loss_trigger_fires_on_a_loss_jump_then_waits_out_its_cooldown():
    from mssr.replay.schedulers import LossTrigger

    trigger = LossTrigger(BaselineConfig(ratio=0.25, loss_delta=0.1, cooldown=5), window=1)
    fired = []
    for step in range(40):
        loss = 1.0 - 0.01 * step if step < 20 else 3.0  # a new task: the loss jumps
        fired.append(trigger.replay_count(step, 16)[1])
        trigger.observe(step, loss)
    events = [step for step, started in enumerate(fired) if started]
    assert events and events[0] == 21 and all(b - a >= 5 for a, b in zip(events, events[1:],
                                                                            strict=False))


def probed(accuracy: float) -> tuple[np.ndarray, np.ndarray]:
    """A probe of two examples of task 0 whose scores average `accuracy`."""
    return np.zeros(2, np.int64), np.array([accuracy + 0.1, accuracy - 0.1])


def test_accuracy_trigger_fires_when_probe_accuracy_falls_below_the_reference():
    from mssr.replay.schedulers import AccuracyTrigger

    trigger = AccuracyTrigger(BaselineConfig(probe_every=3, accuracy_delta=0.1, cooldown=1),
                              window=2)
    trigger.start_task(0)
    assert [trigger.probe_due(s) for s in range(4)] == [True, False, False, True]
    trigger.report_probe(0, *probed(0.8))  # the reference
    trigger.report_probe(3, *probed(0.75))  # within delta: no event
    assert trigger.replay_count(4, 16) == (0, False)
    trigger.report_probe(6, *probed(0.6))
    assert trigger.replay_count(7, 16) == (4, True)
    assert trigger.replay_count(8, 16) == (4, False)  # the event's window
    assert trigger.replay_count(9, 16) == (0, False)


@pytest.mark.parametrize("strategy", ["uniform", "mssr-every-step"])
def test_every_step_replay_spreads_a_fractional_share_evenly_over_the_task(strategy):
    matched = match_budget(ReplayConfig(strategy=strategy), 150, 300, 16)
    schedule = spec_for(strategy).schedule.from_config(matched)
    schedule.start_task(0)
    counts = [schedule.replay_count(step, 16)[0] for step in range(300)]
    assert sum(counts) == 150 and set(counts) == {0, 1}
    assert sum(counts[:150]) == 75  # the first half of the task spends half the budget
