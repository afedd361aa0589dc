"""When to replay and how much (docs/MSSR.md sections 3-4). One small interface:
`replay_count(step, batch_size) -> (examples to replay in this step's batch, event started?)`,
fed back by `observe` (training loss) and, for the accuracy trigger, `report_probe`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.config import BaselineConfig, ScheduleConfig

if TYPE_CHECKING:
    from mssr.replay.clock import InterferenceClock
    from mssr.replay.tracker import MemoryTracker


class Scheduler:
    """No replay; the base of every schedule. Events last `window` batches at a fixed volume."""

    def __init__(self, window: int = 1):
        self.window = window
        self.task_start = 0
        self.active_until = -1
        self.volume = 0

    def start_task(self, step: int) -> None:
        self.task_start = step
        self.active_until = -1

    def attach(self, tracker: MemoryTracker, clock: InterferenceClock) -> None:
        """Give the schedule the buffer's memory model (only a retention schedule reads it)."""

    def replay_count(self, step: int, batch_size: int) -> tuple[int, bool]:
        started = self.event_due(step)
        if started:
            self.volume = self.event_volume(step, batch_size)
            self.active_until = step + self.window
        return (self.volume if step < self.active_until else 0), started

    def event_due(self, step: int) -> bool:
        return False

    def event_volume(self, step: int, batch_size: int) -> int:
        return 0

    def observe(self, step: int, task_loss: float) -> None:
        """Called after every optimizer step with the current-task training loss."""

    def probe_due(self, step: int) -> bool:
        return False

    def report_probe(self, step: int, accuracy: float) -> None:
        """The accuracy trigger's probe result."""

    def state_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)


class ShareOfBatch(Scheduler):
    """Events that replay round(ratio * batch size) examples in each of `window` batches."""

    def __init__(self, config: BaselineConfig, window: int = 1):
        super().__init__(window=window)
        self.ratio = config.ratio

    def event_volume(self, step: int, batch_size: int) -> int:
        return round(self.ratio * batch_size)


class EveryStep(ShareOfBatch):
    """Classic experience replay: a share `ratio` of every batch. A fractional number of
    examples per batch is spread evenly (error diffusion), so a share of 0.5 examples replays
    one example every other step instead of rounding to none or one every step."""

    def event_due(self, step: int) -> bool:
        return True

    def event_volume(self, step: int, batch_size: int) -> int:
        per_step = self.ratio * batch_size
        offset = step - self.task_start
        return math.floor((offset + 1) * per_step + 0.5) - math.floor(offset * per_step + 0.5)


class FixedInterval(ShareOfBatch):
    """An event every `interval` steps from the task's start, over `window` batches."""

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self.interval = config.interval

    def event_due(self, step: int) -> bool:
        offset = step - self.task_start
        return offset > 0 and offset % self.interval == 0


class Triggered(ShareOfBatch):
    """Events raised by a signal (`pending`), at least `cooldown` steps apart."""

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self._config = config
        self.pending = False
        self.last_event = -(10**9)

    def event_due(self, step: int) -> bool:
        if not self.pending or step - self.last_event < self._config.cooldown:
            return False
        self.pending = False
        self.last_event = step
        return True


class LossTrigger(Triggered):
    """An event when the loss EMA rises `loss_delta` above its running minimum, or a step's
    loss is a `loss_zscore` spike. The statistics run across tasks, so the jump in loss when a
    new task starts is what triggers replay; an event resets the minimum to the current EMA."""

    WARMUP = 10  # observations before a z-score means anything

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self.ema = self.minimum = self.mean = None
        self.variance = 0.0
        self.seen = 0

    def observe(self, step: int, task_loss: float) -> None:
        if not math.isfinite(task_loss):
            return
        config = self._config
        spike = False
        if self.seen >= self.WARMUP and self.variance > 0:
            spike = (task_loss - self.mean) / math.sqrt(self.variance) > config.loss_zscore
        if self.ema is None:
            self.ema = self.minimum = self.mean = task_loss
        else:
            self.ema = config.loss_ema * self.ema + (1 - config.loss_ema) * task_loss
            delta = task_loss - self.mean
            self.mean += (1 - config.loss_ema) * delta
            self.variance = config.loss_ema * (self.variance + (1 - config.loss_ema) * delta**2)
        self.minimum = min(self.minimum, self.ema)
        self.seen += 1
        if spike or self.ema - self.minimum > config.loss_delta:
            self.pending = True

    def event_due(self, step: int) -> bool:
        due = super().event_due(step)
        if due:
            self.minimum = self.ema
        return due


class AccuracyTrigger(Triggered):
    """Probe buffered examples every `probe_every` steps; an event when accuracy falls
    `accuracy_delta` below the task's first probe."""

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self.reference = None

    def start_task(self, step: int) -> None:
        super().start_task(step)
        self.reference = None
        self.pending = False

    def probe_due(self, step: int) -> bool:
        return (step - self.task_start) % self._config.probe_every == 0

    def report_probe(self, step: int, accuracy: float) -> None:
        if self.reference is None:
            self.reference = accuracy
        elif self.reference - accuracy > self._config.accuracy_delta:
            self.pending = True


def intervals(config: ScheduleConfig, count: int) -> np.ndarray:
    """The first `count` gaps between a task's replay events under `config.law` (the first
    gap is the first event's offset from the task's start), in closed form:
    geometric  g_0 = I0, g_k = min(I_max, ceil(I0 rho^k));
    saturating g_0 = I0, g_k = min(I_max, ceil(I0 prod_{j<=k} (1 + eta exp(-rate j))));
    sequence   g_k = unit * s_min(k, len(s) - 1): the last interval repeats after the list."""
    k = np.arange(count)
    if config.law == "sequence":
        sequence = np.asarray(config.intervals, np.int64)
        return config.interval_unit * sequence[np.minimum(k, len(sequence) - 1)]
    if config.law == "saturating":
        factors = 1.0 + config.saturation_eta * np.exp(-config.saturation_rate * k[1:])
        growth = np.concatenate([[1.0], np.cumprod(factors)])[:count]
    else:
        with np.errstate(over="ignore"):
            growth = float(config.growth) ** k
    gaps = np.minimum(config.max_interval, np.ceil(config.initial_interval * growth))
    gaps[:1] = config.initial_interval
    return gaps.astype(np.int64)


class ExpandingSchedule(Scheduler):
    """MSSR's schedule: events at e_1 = g_0, e_{k+1} = e_k + g_k steps into the task (g from
    `intervals`, e.g. g_k = min(I_max, ceil(I0 rho^k))), each replaying round(r(t) B) per batch
    for `window` batches, with r(t) = r_min + (r0 - r_min) exp(-(t - t_start) / tau_r)."""

    def __init__(self, config: ScheduleConfig):
        super().__init__(window=config.window)
        self._config = config
        self.start_task(0)

    def start_task(self, step: int) -> None:
        super().start_task(step)
        self.next_offset = int(intervals(self._config, 1)[0])
        self.events_in_task = 0

    def event_due(self, step: int) -> bool:
        if step - self.task_start != self.next_offset:
            return False
        self.events_in_task += 1
        self.next_offset += int(intervals(self._config, self.events_in_task + 1)[-1])
        return True

    def event_volume(self, step: int, batch_size: int) -> int:
        return round(self.ratio(step) * batch_size)

    def ratio(self, step: int) -> float:
        config = self._config
        decay = math.exp(-(step - self.task_start) / config.ratio_decay_steps)
        return config.min_ratio + (config.initial_ratio - config.min_ratio) * decay


class RetentionSchedule(Scheduler):
    """An event when the buffer's predicted retention (its mean, or a quantile) falls below
    `retention_target`, at least `retention_cooldown` steps after the last. Its volume is what
    restores the target if the least-retained examples are replayed (each back to R = 1):
    mean     the smallest k with sum_{i<=k} (1 - R_(i)) >= N (target - mean R);
    quantile k = #{R < target} - floor(q (N - 1)),
    spread over `window` batches, at most round(r0 B) per batch (r0 = initial_ratio)."""

    def __init__(self, config: ScheduleConfig):
        super().__init__(window=config.window)
        self._config = config
        self._tracker: MemoryTracker | None = None
        self._clock: InterferenceClock | None = None
        self.last_event = -(10**9)
        self.needed = 0

    def attach(self, tracker: MemoryTracker, clock: InterferenceClock) -> None:
        self._tracker, self._clock = tracker, clock

    def event_due(self, step: int) -> bool:
        config, tracker = self._config, self._tracker
        if (tracker is None or len(tracker) == 0
                or step - self.last_event < config.retention_cooldown):
            return False
        self.needed = restoring_volume(tracker.retention(self._clock.value),
                                       config.retention_target, config.retention_quantile)
        if self.needed == 0:
            return False
        self.last_event = step
        return True

    def event_volume(self, step: int, batch_size: int) -> int:
        return min(math.ceil(self.needed / self.window),
                   round(self._config.initial_ratio * batch_size))


def restoring_volume(retention: np.ndarray, target: float, quantile: float | None) -> int:
    """Replays of the least-retained examples that bring the statistic back to `target`
    (0 when it is already there)."""
    ordered = np.sort(retention)
    if quantile is None:
        deficit = len(ordered) * target - ordered.sum()
        if deficit <= 0:
            return 0
        restored = np.cumsum(1.0 - ordered)
        return int(min(np.searchsorted(restored, deficit) + 1, len(ordered)))
    position = math.floor(quantile * (len(ordered) - 1))
    below = int(np.searchsorted(ordered, target))  # examples with R < target
    return max(below - position, 0)


def memory_schedule(config: ScheduleConfig) -> Scheduler:
    """MSSR's scheduler for `config.law`: retention-triggered, or a step-count interval law."""
    return RetentionSchedule(config) if config.law == "retention" else ExpandingSchedule(config)
