"""The calibrated memory model (issue 11 item 2) and buffer entry at the last training's clock
(item 4)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_strategy import drive

from mssr.replay import build_strategy
from mssr.replay.calibration import MAX_PAIRS, RetentionCalibration, spearman
from mssr.replay.config import BufferConfig, MemoryConfig, ReplayConfig
from mssr.replay.tracker import MemoryTracker


def forgetting_world(calibrate: str, true_scale: dict[int, float], rounds: int = 60,
                     seed: int = 0) -> MemoryTracker:
    """A buffer whose true forgetting is the model's own law times a known scale per task:
    each replay's loss is the loss at last training plus true_scale * (uncalibrated exponent),
    plus noise."""
    rng = np.random.default_rng(seed)
    tracker = MemoryTracker(MemoryConfig(calibrate=calibrate, calibration_prior=1.0))
    for task in true_scale:
        tracker.insert(np.arange(40) + 100 * task, rng.uniform(0.1, 1.0, 40), task, clock=0.0)
    clock = 0.0
    for _ in range(rounds):
        clock += rng.uniform(1.0, 10.0)
        ids = rng.choice(tracker.ids, 8, replace=False)
        rows = tracker.positions(ids)
        exponent = tracker.decay_exponent(clock, rows)
        scale = np.array([true_scale[int(t)] for t in tracker.column("task")[rows]])
        losses = tracker.column("last_loss")[rows] + scale * exponent
        tracker.review(ids, losses + rng.normal(0.0, 0.02, len(ids)), clock)
    return tracker


def test_global_fit_recovers_a_known_decay_scale():
    for true in (0.2, 3.0):
        tracker = forgetting_world("global", {0: true})
        fitted = tracker.calibration.summary()["decay_scale"]
        assert fitted == [pytest.approx(true, rel=0.05)]
        # the calibrated model now predicts the true retention
        clock = 400.0
        truth = np.exp(-true * tracker.decay_exponent(clock, slice(0, len(tracker))))
        np.testing.assert_allclose(tracker.retention(clock), truth, rtol=0.1, atol=1e-3)


def test_per_task_fit_recovers_each_tasks_scale_and_global_lands_between():
    per_task = forgetting_world("per_task", {0: 0.3, 1: 2.0}, rounds=120)
    assert per_task.calibration.summary()["decay_scale"] == [pytest.approx(0.3, rel=0.05),
                                                             pytest.approx(2.0, rel=0.05)]
    scale = per_task.calibration.scale(np.array([0, 1, 7]))
    assert scale[2] == 1.0, "a task not measured yet keeps the prior"
    pooled = forgetting_world("global", {0: 0.3, 1: 2.0}, rounds=120)
    assert 0.3 < pooled.calibration.summary()["decay_scale"][0] < 2.0


def test_calibration_off_still_measures_but_never_changes_predictions():
    tracker = forgetting_world("off", {0: 3.0})
    summary = tracker.calibration.summary()
    assert summary["decay_scale"] == [1.0] and summary["measurements"] == 60 * 8
    exponent = tracker.decay_exponent(1000.0, slice(0, len(tracker)))
    np.testing.assert_allclose(tracker.retention(1000.0), np.exp(-exponent))
    # a model three times too slow over-predicts retention, and the error is recorded
    predicted, observed = np.array(summary["predicted"]), np.array(summary["observed"])
    informative = predicted > 0.05  # both are ~0 for long-forgotten examples
    assert informative.sum() > 50 and (predicted > observed)[informative].mean() > 0.9
    calibrated = forgetting_world("global", {0: 3.0}).calibration.summary()
    assert calibrated["mean_abs_error"] < summary["mean_abs_error"]
    assert summary["spearman"] > 0.5


def test_recorded_pairs_are_thinned_evenly_and_count_every_measurement():
    calibration = RetentionCalibration(MemoryConfig())
    total = 3 * MAX_PAIRS + 5
    values = np.linspace(0.0, 1.0, total)
    for start in range(0, total, 1000):
        chunk = values[start:start + 1000]
        calibration.observe(np.zeros(len(chunk), np.int64), chunk, chunk, chunk, chunk)
    summary = calibration.summary()
    assert summary["measurements"] == total
    assert len(summary["predicted"]) <= MAX_PAIRS
    kept = np.array(summary["predicted"])
    np.testing.assert_allclose(kept, values[::calibration.stride])  # every stride-th


def test_recorded_pairs_do_not_depend_on_how_measurements_are_batched():
    values = np.linspace(0.0, 1.0, 3 * MAX_PAIRS + 5)
    records = []
    for size in (len(values), 1000, 64, 7):  # one batch past the arrays' room, then smaller
        calibration = RetentionCalibration(MemoryConfig())
        for start in range(0, len(values), size):
            chunk = values[start:start + size]
            tasks = np.arange(start, start + len(chunk)) % 3
            calibration.observe(tasks, chunk, chunk, chunk, chunk)
        records.append(calibration.summary())
    assert all(record == records[0] for record in records[1:])


def test_spearman_ranks_with_ties():
    assert spearman(np.arange(5.0), np.arange(5.0) ** 3) == pytest.approx(1.0)
    assert spearman(np.arange(5.0), -np.arange(5.0)) == pytest.approx(-1.0)
    first, second = np.array([1.0, 2.0, 2.0, 3.0]), np.array([1.0, 3.0, 2.0, 4.0])
    ranks = np.array([0.0, 1.5, 1.5, 3.0]), np.array([0.0, 2.0, 1.0, 3.0])
    assert spearman(first, second) == pytest.approx(np.corrcoef(*ranks)[0, 1])
    assert spearman(np.ones(4), np.arange(4.0)) is None and spearman(np.ones(1), np.ones(1)) is None


def test_a_calibrated_strategy_resumes_to_identical_decisions():
    config = ReplayConfig(strategy="mssr", buffer=BufferConfig(per_task=10),
                          memory=MemoryConfig(calibrate="per_task"))
    unbroken = build_strategy(config, seed=3)
    log = drive(unbroken, range(2))
    state = json.loads(json.dumps(unbroken.state_dict(), default=lambda a: {
        "__array__": a.tolist(), "dtype": str(a.dtype)}),
        object_hook=lambda d: np.array(d["__array__"], d["dtype"]) if "__array__" in d else d)
    resumed = build_strategy(config, seed=0)
    resumed.load_state_dict(state)
    assert drive(resumed, range(2, 4), seed=5, log=list(log)) == drive(
        unbroken, range(2, 4), seed=5, log=list(log))
    assert resumed.calibration_record() == unbroken.calibration_record()
    assert unbroken.calibration_record()["measurements"] > 0


def test_buffer_entries_keep_the_clock_and_loss_of_their_last_training():
    strategy = build_strategy(ReplayConfig(strategy="none", buffer=BufferConfig(per_task=4)),
                              seed=0)
    strategy.start_task(0, 0, np.arange(4))
    trained = {0: (1, 0.5), 1: (3, 0.25), 2: (3, 0.75)}  # id: (last step trained, its loss)
    for step in range(6):
        ids = np.array([i for i, (last, _) in trained.items() if last >= step], np.int64)
        losses = np.array([trained[i][1] if trained[i][0] == step else 9.0 for i in ids])
        strategy.observe(step, ids, losses, task_loss=1.0)
    strategy.end_task(0)
    tracker = strategy.tracker
    rows = tracker.positions(np.arange(4))
    # the clock after step s is s + 1; id 3 was never trained: the task's start clock, mean loss
    assert tracker.column("last_review")[rows].tolist() == [2.0, 4.0, 4.0, 0.0]
    assert tracker.column("last_loss")[rows].tolist() == [0.5, 0.25, 0.75, 0.5]
    retention = tracker.retention(strategy.clock.value)[rows]
    assert (retention < 1.0).all()  # not 1 at entry: time has passed since the last training
    assert retention[0] < tracker.retention(strategy.clock.value - 2.0)[rows][0]


def test_a_checkpoint_between_queued_measurements_resumes_the_same_record():
    values = np.linspace(0.0, 1.0, 2 * MAX_PAIRS + 3)
    whole, resumed = RetentionCalibration(MemoryConfig()), RetentionCalibration(MemoryConfig())
    for start in range(0, len(values), 64):
        chunk = values[start:start + 64]
        for calibration in (whole, resumed):
            calibration.observe(np.zeros(len(chunk), np.int64), chunk, chunk, chunk, chunk)
        if start == 64 * 40:  # 2,624 measurements queued, none recorded yet
            resumed = RetentionCalibration(MemoryConfig())
            resumed.load_state_dict(whole.state_dict())
    assert resumed.summary() == whole.summary()
