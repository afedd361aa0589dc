"""Online calibration of the retention model from what replay observes (docs/MSSR.md section 2,
"Calibration").

A replay is a free measurement of forgetting: the example's loss now against its loss when it
was last trained, y = l_now - l_then, is an observed decay exponent (observed retention
exp(-y), at most 1). The tracker predicts c * x, with x = rate * (U - U_i) its uncalibrated
exponent and c a decay scale. A least-squares fit through the origin, shrunk to the prior
c = 1 with weight w, gives c = (sum x y + w) / (sum x^2 + w): for the whole buffer ('global')
or per task ('per_task'). Every measurement is also kept (thinned to at most MAX_PAIRS) so a
run can show how well predicted retention tracked the observed one; a review only queues its
measurements, which are thinned in bulk (the kept set depends only on how many were seen)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mssr.replay.config import MemoryConfig


MAX_PAIRS = 4096
SCALE_RANGE = (1e-3, 1e3)  # a fit on a handful of noisy losses must not flip or explode


class RetentionCalibration:
    """Per-task sums of x y and x^2, the fitted decay scale, and the recorded measurements."""

    def __init__(self, config: MemoryConfig):
        self.mode = config.calibrate
        self.prior = config.calibration_prior
        self.sum_xy = np.zeros(0)
        self.sum_xx = np.zeros(0)
        self.seen = 0
        self.stride = 1
        self._queued: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._queued_count = 0
        self._set_pairs(np.zeros(0), np.zeros(0), np.zeros(0, np.int64))

    @property
    def predicted(self) -> np.ndarray:
        self._record_queued()
        return self._predicted[:self.kept]

    @property
    def observed(self) -> np.ndarray:
        self._record_queued()
        return self._observed[:self.kept]

    @property
    def task(self) -> np.ndarray:
        self._record_queued()
        return self._task[:self.kept]

    def scale(self, tasks: np.ndarray) -> np.ndarray | float:
        """The decay scale c of each example's task (1.0 when calibration is off)."""
        if self.mode == "off":
            return 1.0
        if self.mode == "global":
            return self._fit(self.sum_xy.sum(), self.sum_xx.sum())
        per_task = np.append(self._fit(self.sum_xy, self.sum_xx), 1.0)  # last: unmeasured
        return per_task[np.minimum(np.asarray(tasks, np.int64), len(per_task) - 1)]

    def observe(self, tasks: np.ndarray, exponent: np.ndarray, predicted: np.ndarray,
                loss_now: np.ndarray, loss_then: np.ndarray) -> None:
        """Fold in one batch of reviews: uncalibrated exponents x, the retention the model
        predicted, and the losses now and at the last training of each example. The sums are
        kept only where a scale is fitted ('off' never reads them). The arrays are kept as
        given until recorded: pass arrays nobody changes afterwards."""
        observed_exponent = loss_now - loss_then
        if self.mode != "off":
            sum_xy = np.bincount(tasks, exponent * observed_exponent)
            sum_xx = np.bincount(tasks, exponent**2)
            if len(sum_xy) > len(self.sum_xy):  # a task measured for the first time
                self.sum_xy, self.sum_xx = (
                    np.concatenate([sums, np.zeros(len(sum_xy) - len(sums))])
                    for sums in (self.sum_xy, self.sum_xx))
            self.sum_xy[:len(sum_xy)] += sum_xy
            self.sum_xx[:len(sum_xx)] += sum_xx
        self._queued.append((tasks, predicted, observed_exponent))
        self._queued_count += len(tasks)
        if self._queued_count >= MAX_PAIRS:
            self._record_queued()

    def summary(self) -> dict:
        """results.json's `calibration`: the recorded pairs, their agreement and the fit."""
        self._record_queued()
        scale = (self.scale(np.arange(len(self.sum_xy))) if self.mode == "per_task"
                 else [self.scale(np.zeros(0, np.int64))])
        error = np.abs(self.predicted - self.observed)
        return {"mode": self.mode, "measurements": self.seen,
                "spearman": spearman(self.predicted, self.observed),
                "mean_abs_error": float(error.mean()) if len(error) else None,
                "decay_scale": [float(value) for value in np.atleast_1d(scale)],
                "predicted": self.predicted.tolist(), "observed": self.observed.tolist(),
                "task": self.task.tolist()}

    def state_dict(self) -> dict:
        self._record_queued()
        return {"sum_xy": self.sum_xy.copy(), "sum_xx": self.sum_xx.copy(),
                "predicted": self.predicted.copy(), "observed": self.observed.copy(),
                "task": self.task.copy(), "seen": self.seen, "stride": self.stride}

    def load_state_dict(self, state: dict) -> None:
        self._queued, self._queued_count = [], 0
        for name in ("sum_xy", "sum_xx"):
            setattr(self, name, np.asarray(state[name], float))
        self._set_pairs(np.asarray(state["predicted"], float),
                        np.asarray(state["observed"], float), np.asarray(state["task"], np.int64))
        self.seen, self.stride = int(state["seen"]), int(state["stride"])

    def _fit(self, sum_xy: np.ndarray | float, sum_xx: np.ndarray | float) -> np.ndarray:
        return np.clip((sum_xy + self.prior) / np.maximum(sum_xx + self.prior, 1e-12),
                       *SCALE_RANGE)

    def _record_queued(self) -> None:
        """Keep every `stride`-th queued measurement; past MAX_PAIRS, drop every other kept one
        and double the stride (deterministic, evenly spread over the run). The pairs live in
        preallocated arrays thinned in place."""
        if not self._queued:
            return
        tasks, predicted, observed_exponent = (
            np.concatenate(arrays) for arrays in zip(*self._queued, strict=True))
        self._queued, self._queued_count = [], 0
        every = slice(-self.seen % self.stride, None, self.stride)
        self.seen += len(tasks)
        start, end = self.kept, self.kept + len(range(*every.indices(len(tasks))))
        if end > len(self._task):
            self._set_pairs(self.predicted, self.observed, self.task, capacity=end)
        self._predicted[start:end] = predicted[every]
        self._observed[start:end] = np.exp(-np.maximum(observed_exponent[every], 0.0))
        self._task[start:end] = tasks[every]
        self.kept = end
        while self.kept > MAX_PAIRS:
            thinned = (self.kept + 1) // 2
            for pairs in (self._predicted, self._observed, self._task):
                pairs[:thinned] = pairs[:self.kept:2]
            self.kept = thinned
            self.stride *= 2

    def _set_pairs(self, predicted: np.ndarray, observed: np.ndarray, task: np.ndarray,
                   capacity: int = 2 * MAX_PAIRS) -> None:
        """Hold these recorded pairs in new arrays with room for `capacity` of them."""
        self.kept = len(task)
        capacity = max(capacity, self.kept)
        self._predicted, self._observed = np.zeros(capacity), np.zeros(capacity)
        self._task = np.zeros(capacity, np.int64)
        self._predicted[:self.kept], self._observed[:self.kept] = predicted, observed
        self._task[:self.kept] = task


def spearman(first: np.ndarray, second: np.ndarray) -> float | None:
    """Spearman's rank correlation (ties share their mean rank); None when undefined."""
    if len(first) < 2:
        return None
    ranks = [_ranks(np.asarray(values, float)) for values in (first, second)]
    if min(rank.std() for rank in ranks) == 0:
        return None
    return float(np.corrcoef(*ranks)[0, 1])


def _ranks(values: np.ndarray) -> np.ndarray:
    unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    return (starts + (counts - 1) / 2.0)[inverse]
