"""The clock and the memory tracker against docs/MSSR.md's closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mssr.replay.clock import InterferenceClock
from mssr.replay.config import ClockConfig, MemoryConfig
from mssr.replay.tracker import MemoryTracker


def smooth_u(t: float) -> float:
    return 1.0 + 0.5 * math.sin(t / 7.0)


def exact_clock(t: float) -> float:
    return t - 3.5 * (math.cos(t / 7.0) - 1.0)


def test_closed_form_retention_equals_the_integrated_ode():
    """dR/dt = -lambda u(t) R, integrated with fine Euler steps, against the closed form in U."""
    config = MemoryConfig()
    tracker = MemoryTracker(config)
    losses = np.array([0.0, 0.7, 2.5])
    tracker.insert(np.array([1, 2, 3]), losses, task=0, clock=0.0)
    strength = tracker.column("strength")
    rate = (1 + config.kappa * losses) / strength
    dt, horizon = 1e-3, 40.0
    retention = np.ones(3)
    for k in range(int(horizon / dt)):
        retention -= dt * rate * smooth_u(k * dt) * retention
    closed = tracker.retention(exact_clock(horizon))
    np.testing.assert_allclose(np.log(closed), np.log(retention), rtol=2e-3)
    assert (closed < 1).all() and closed[2] < closed[1] < closed[0], "higher loss forgets faster"


def test_halving_the_clock_step_halves_the_riemann_gap():
    horizon = 30.0
    gaps = []
    for step in (0.2, 0.1, 0.05):
        clock = InterferenceClock(ClockConfig())
        for k in range(int(round(horizon / step))):
            clock.advance(smooth_u(k * step), step)
        gaps.append(abs(clock.value - exact_clock(horizon)))
    assert gaps[0] / gaps[1] == pytest.approx(2.0, rel=0.1)
    assert gaps[1] / gaps[2] == pytest.approx(2.0, rel=0.1)


def test_clock_modes():
    steps = InterferenceClock(ClockConfig(mode="steps"))
    assert [steps.tick() for _ in range(3)] == [1.0, 2.0, 3.0]
    loss = InterferenceClock(ClockConfig(mode="loss", running_mean_decay=0.5))
    loss.tick(task_loss=2.0)  # the first step is its own mean: u = 1
    loss.tick(task_loss=4.0)  # mean 3 -> u = 4/3
    assert loss.value == pytest.approx(1 + 4 / 3)
    update = InterferenceClock(ClockConfig(mode="update"))
    with pytest.raises(ValueError, match="update_norm"):
        update.tick(task_loss=1.0)
    update.tick(update_norm=float("nan"))  # a bad signal counts as a plain step
    assert update.value == 1.0


def test_insertion_and_review_follow_the_formulas():
    config = MemoryConfig()
    tracker = MemoryTracker(config)
    tracker.insert(np.array([10, 11]), np.array([0.5, 1.5]), task=0, clock=5.0)
    s0 = config.initial_strength * np.exp(-config.beta * np.array([0.5, 1.5]))
    np.testing.assert_allclose(tracker.column("strength"), s0)

    clock, loss = 25.0, 0.3
    retention = np.exp(-(1 + config.kappa * 0.5) * (clock - 5.0) / s0[0])
    assert tracker.retention(clock)[0] == pytest.approx(retention)
    reviewed = tracker.review(np.array([10, 99]), np.array([loss, 1.0]), clock)
    assert reviewed == 1  # id 99 is not buffered
    gain = 1 + config.alpha * np.exp(-config.beta * loss) * (1 - retention) ** config.gamma
    expected = s0[0] * (gain + config.alpha0)
    assert tracker.column("strength")[0] == pytest.approx(expected)
    assert tracker.column("strength")[1] == pytest.approx(s0[1])
    assert tracker.column("last_review").tolist() == [25.0, 5.0]
    assert tracker.column("reviews").tolist() == [1, 0]
    assert tracker.retention(clock)[0] == 1.0


def test_a_review_after_more_forgetting_gains_more():
    """The spacing effect: same loss, a later review (lower retention) grows strength more."""
    gains = []
    for delay in (5.0, 50.0):
        tracker = MemoryTracker(MemoryConfig())
        tracker.insert(np.array([1]), np.array([0.2]), task=0, clock=0.0)
        before = tracker.column("strength")[0]
        tracker.review(np.array([1]), np.array([0.2]), delay)
        gains.append(tracker.column("strength")[0] / before)
    assert gains[1] > gains[0] > 1


def test_tracker_ignores_nonfinite_losses_and_rejects_duplicates():
    tracker = MemoryTracker(MemoryConfig())
    tracker.insert(np.array([1, 2]), np.array([0.1, 0.2]), task=0, clock=0.0)
    assert tracker.review(np.array([1, 2]), np.array([np.nan, np.inf]), 3.0) == 0
    with pytest.raises(ValueError, match="unique"):
        tracker.insert(np.array([2]), np.array([0.1]), task=1, clock=1.0)
    with pytest.raises(ValueError, match="finite"):
        tracker.insert(np.array([3]), np.array([np.nan]), task=1, clock=1.0)


def test_tracker_grows_past_its_capacity():
    tracker = MemoryTracker(MemoryConfig(), capacity=2)
    for task in range(5):
        tracker.insert(np.arange(3) + 10 * task, np.zeros(3), task=task, clock=float(task))
    assert len(tracker) == 15
    assert tracker.positions(np.array([42, 35, 0])).tolist() == [14, -1, 0]


def test_tracker_removes_ids_and_keeps_every_other_row_as_it_was():
    tracker = MemoryTracker(MemoryConfig())
    tracker.insert(np.arange(6), np.linspace(0.1, 0.6, 6), task=0, clock=0.0)
    tracker.review(np.array([1, 4]), np.array([0.3, 0.9]), clock=2.0)
    before = {name: tracker.column(name).copy() for name in ("ids", "strength", "last_loss",
                                                             "reviews")}
    assert tracker.remove(np.array([4, 0, 99, 4])) == 2  # unknown and repeated ids: ignored
    kept = np.array([1, 2, 3, 5])
    assert tracker.ids.tolist() == kept.tolist() and len(tracker) == 4
    for name, column in before.items():
        assert tracker.column(name).tolist() == column[kept].tolist(), name
    assert tracker.positions(np.array([0, 4, 5])).tolist() == [-1, -1, 3]
    assert tracker.remove(np.array([], np.int64)) == 0
    tracker.insert(np.array([0]), np.array([0.1]), task=1, clock=3.0)  # a removed id may return
    assert tracker.ids.tolist() == [1, 2, 3, 5, 0]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.lists(st.integers(0, 40), min_size=1, max_size=8),
                          st.floats(-1.0, 30.0) | st.sampled_from([math.nan, math.inf]),
                          st.floats(0.0, 50.0)), min_size=1, max_size=25))
def test_tracker_invariants_under_random_operations(operations):
    config = MemoryConfig()
    tracker = MemoryTracker(config, capacity=1)
    clock, inserted, reviews = 0.0, set(), 0
    for is_insert, ids, loss, advance in operations:
        clock += advance
        ids = np.array(sorted(set(ids)))
        losses = np.full(len(ids), loss)
        if is_insert:
            fresh = np.array([i for i in ids if i not in inserted], dtype=np.int64)
            if len(fresh) and math.isfinite(loss):
                tracker.insert(fresh, np.full(len(fresh), loss), task=0, clock=clock)
                inserted.update(fresh.tolist())
        else:
            expected = sum(i in inserted for i in ids) if math.isfinite(loss) else 0
            assert tracker.review(ids, losses, clock) == expected
            reviews += expected
        strength = tracker.column("strength")
        retention = tracker.retention(clock)
        assert len(tracker) == len(inserted)
        assert np.isfinite(strength).all() and np.isfinite(retention).all()
        assert ((strength >= config.min_strength) & (strength <= config.max_strength)).all()
        assert ((retention >= 0) & (retention <= 1)).all()  # (0, 1], 0 only by underflow
        assert int(tracker.column("reviews").sum()) == reviews
