"""When to replay and how much (docs/MSSR.md sections 3-4). One small interface:
`replay_count(step, batch_size) -> (examples to replay in this step's batch, event started?)`,
fed back by `observe` (training loss) and, for the accuracy trigger, `report_probe`."""

from __future__ import annotations

import math

from mssr.replay.config import BaselineConfig, ScheduleConfig


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


class ExpandingSchedule(Scheduler):
    """MSSR's schedule: events at e_1 = I0, e_{k+1} = e_k + min(I_max, ceil(I0 rho^k)) steps
    into the task, each replaying round(r(t) B) per batch for `window` batches, with
    r(t) = r_min + (r0 - r_min) exp(-(t - t_start) / tau_r)."""

    def __init__(self, config: ScheduleConfig):
        super().__init__(window=config.window)
        self._config = config
        self.start_task(0)

    def start_task(self, step: int) -> None:
        super().start_task(step)
        self.next_offset = self._config.initial_interval
        self.events_in_task = 0

    def event_due(self, step: int) -> bool:
        config = self._config
        if step - self.task_start != self.next_offset:
            return False
        self.events_in_task += 1
        gap = math.ceil(config.initial_interval * config.growth ** self.events_in_task)
        self.next_offset += min(config.max_interval, gap)
        return True

    def event_volume(self, step: int, batch_size: int) -> int:
        return round(self.ratio(step) * batch_size)

    def ratio(self, step: int) -> float:
        config = self._config
        decay = math.exp(-(step - self.task_start) / config.ratio_decay_steps)
        return config.min_ratio + (config.initial_ratio - config.min_ratio) * decay
