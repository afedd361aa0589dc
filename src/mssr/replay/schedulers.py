"""When to replay and how much (docs/MSSR.md sections 3-4). One small interface:
`replay_count(step, batch_size) -> (examples to replay in this step's batch, event started?)`,
fed back by `observe` (training loss) and, for the probing triggers (accuracy, drift),
`report_probe`.

Each schedule class is also a *schedule kind*: it builds itself from a `ReplayConfig`
(`from_config`), plans what it spends per task (`planned_spend`) and sets its own knobs to
spend a given budget (`match_budget`). A strategy's spec (replay/registry.py) names its kind."""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.samplers import UniformSampler

if TYPE_CHECKING:
    from mssr.replay.clock import InterferenceClock
    from mssr.replay.config import BaselineConfig, ReplayConfig, ScheduleConfig
    from mssr.replay.tracker import MemoryTracker


class Scheduler:
    """No replay; the base of every schedule. Events last `window` batches at a fixed volume.

    Per step, `next_event(step)` asks (without changing anything) whether an event starts;
    `start_event` then opens it. Subclasses answer the question (`next_event`) and keep their
    own bookkeeping of a started event (`on_event`)."""

    adaptive = False  # whether the spend depends on the run, not on the schedule alone
    reads_forgetting = False  # whether `observe_replay` wants the replayed examples' rises
    reads_law = False  # as a strategy's kind: whether `schedule.law` picks the schedule
    # how a due probe scores each example: 0, every response token by teacher-forced greedy
    # prediction (right or wrong: the accuracy trigger); n > 0, the match rate of the first n
    # greedily decoded answer tokens with the target's (the drift trigger)
    probe_answer_tokens = 0

    def __init__(self, window: int = 1):
        self.window = window
        self.task_start = 0
        self.active_until = -1
        self.volume = 0

    @classmethod
    def from_config(cls, config: ReplayConfig) -> Scheduler:
        return cls()

    def start_task(self, step: int, task_steps: int | None = None) -> None:
        """A task starts at `step` and lasts `task_steps` steps (when the trainer knows)."""
        self.task_start = step
        self.active_until = -1

    def attach(self, tracker: MemoryTracker, clock: InterferenceClock) -> None:
        """Give the schedule the buffer's memory model (only a retention schedule reads it)."""

    def replay_count(self, step: int, batch_size: int) -> tuple[int, bool]:
        started = self.next_event(step)
        if started:
            self.start_event(step, batch_size)
        return (self.volume if step < self.active_until else 0), started

    def next_event(self, step: int) -> bool:
        """Whether an event starts at `step` (a question: nothing changes)."""
        return False

    def start_event(self, step: int, batch_size: int) -> None:
        """Open the event that `next_event` announced for `step`."""
        self.on_event(step)
        self.volume = self.event_volume(step, batch_size)
        self.active_until = step + self.window

    def on_event(self, step: int) -> None:
        """A subclass's own bookkeeping when one of its events starts."""

    def event_volume(self, step: int, batch_size: int) -> int:
        return 0

    def observe(self, step: int, task_loss: float) -> None:
        """Called after every optimizer step with the current-task training loss."""

    def observe_replay(self, rises: np.ndarray) -> None:
        """The step's replayed examples' loss rise over their learned loss (forgetting seen)."""

    def probe_due(self, step: int) -> bool:
        return False

    def probe_ids(self, tracker: MemoryTracker, clock: float,
                  rng: np.random.Generator) -> np.ndarray:
        """The buffered ids a due probe scores (the buffer is not empty)."""
        raise NotImplementedError(f"{type(self).__name__} does not probe")

    def report_probe(self, step: int, tasks: np.ndarray, scores: np.ndarray) -> None:
        """A probe's result: each probed example's task and score, in probe order."""

    def replay_tasks(self) -> np.ndarray | None:
        """The tasks whose buffered examples the current event replays (None: every task)."""
        return None

    def state_dict(self) -> dict:
        return {key: value for key, value in vars(self).items() if not key.startswith("_")}

    def load_state_dict(self, state: dict) -> None:
        for key, value in state.items():
            setattr(self, key, value)

    # ---------------------------------------------------------------- budgets
    def advance_planned_step(self) -> None:
        """What a planned (model-free) step feeds the schedule besides the step count."""

    @classmethod
    def planned_spend(cls, config: ReplayConfig, steps_per_task: int,
                      batch_size: int) -> int | None:
        """Replayed examples per task with a full buffer (after the first task), uncapped;
        None for a schedule whose spend depends on the run."""
        if cls.adaptive:
            return None
        scheduler = cls.from_config(config)
        scheduler.start_task(0)
        total = 0
        for step in range(steps_per_task):
            count, _ = scheduler.replay_count(step, batch_size)
            total += min(count, config.max_replay(batch_size))
            scheduler.advance_planned_step()
        return total

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        """`config` with this kind's knobs set to spend about `budget` per task (the caller
        adds the hard cap); by default the knobs stay."""
        return config

    @classmethod
    def needs_allowance(cls, config: ReplayConfig) -> bool:
        """Whether a run without a budget gets its planned spend as a hard cap (a schedule
        that adapts to the run but is accounted at a planned spend)."""
        return False


class ShareOfBatch(Scheduler):
    """Events that replay round(share * batch size) examples in each of `window` batches."""

    def __init__(self, config: BaselineConfig, window: int = 1):
        super().__init__(window=window)
        self.share = config.ratio

    @classmethod
    def from_config(cls, config: ReplayConfig) -> Scheduler:
        return cls(config.baseline, config.schedule.window)

    def event_volume(self, step: int, batch_size: int) -> int:
        return round(self.share * batch_size)


class EveryStep(ShareOfBatch):
    """Classic experience replay: a share `ratio` of every batch. A fractional number of
    examples per batch is spread evenly (error diffusion), so a share of 0.5 examples replays
    one example every other step instead of rounding to none or one every step."""

    @classmethod
    def from_config(cls, config: ReplayConfig) -> Scheduler:
        return cls(config.baseline)

    def next_event(self, step: int) -> bool:
        return True

    def event_volume(self, step: int, batch_size: int) -> int:
        per_step = self.share * batch_size
        offset = step - self.task_start
        return math.floor((offset + 1) * per_step + 0.5) - math.floor(offset * per_step + 0.5)

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        """The share of every batch that adds up to `budget`."""
        share = min(1.0, budget / (steps_per_task * batch_size))
        return dataclasses.replace(config, baseline=dataclasses.replace(config.baseline,
                                                                        ratio=share))


class FixedInterval(ShareOfBatch):
    """An event every `interval` steps from the task's start, over `window` batches."""

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self.interval = config.interval

    def next_event(self, step: int) -> bool:
        offset = step - self.task_start
        return offset > 0 and offset % self.interval == 0

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        """The interval whose spend comes closest to `budget` (the longer one on a tie)."""
        def with_interval(interval: int) -> ReplayConfig:
            return dataclasses.replace(config, baseline=dataclasses.replace(
                config.baseline, interval=interval))

        def distance(interval: int) -> tuple[int, int]:
            spend = cls.planned_spend(with_interval(interval), steps_per_task, batch_size)
            return abs(spend - budget), -interval

        return with_interval(min(range(1, steps_per_task + 1), key=distance))


class Triggered(ShareOfBatch):
    """Events raised by a signal (`pending`), at least `cooldown` steps apart."""

    adaptive = True

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self._config = config
        self.pending = False
        self.last_event = -(10**9)

    def next_event(self, step: int) -> bool:
        return self.pending and step - self.last_event >= self._config.cooldown

    def on_event(self, step: int) -> None:
        self.pending = False
        self.last_event = step


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

    def on_event(self, step: int) -> None:
        super().on_event(step)
        self.minimum = self.ema


class AccuracyTrigger(Triggered):
    """Probe buffered examples every `probe_every` steps; an event when accuracy falls
    `accuracy_delta` below the task's first probe."""

    def __init__(self, config: BaselineConfig, window: int):
        super().__init__(config, window)
        self.reference = None

    def start_task(self, step: int, task_steps: int | None = None) -> None:
        super().start_task(step)
        self.reference = None
        self.pending = False

    def probe_due(self, step: int) -> bool:
        return (step - self.task_start) % self._config.probe_every == 0

    def probe_ids(self, tracker: MemoryTracker, clock: float,
                  rng: np.random.Generator) -> np.ndarray:
        """`probe_size` buffered examples drawn uniformly (at most the whole buffer)."""
        count = min(self._config.probe_size, len(tracker))
        return UniformSampler().sample(tracker, clock, count, rng)

    def report_probe(self, step: int, tasks: np.ndarray, scores: np.ndarray) -> None:
        accuracy = float(np.mean(scores))  # the share of probed examples answered right
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


class MemorySchedule(Scheduler):
    """MSSR's schedule kind: a step-count interval law (`ExpandingSchedule`), the
    retention-triggered law (`RetentionSchedule`), the forgetting-profile trickle
    (`AdaptiveSchedule`) or the format-drift trigger (`DriftSchedule`), as `schedule.law`
    says. A budget scales its events' shares and keeps their times; a law that adapts to the
    run is planned, and allotted, what the geometric law with the same constants spends.
    Unless a law says otherwise, an event replays round(r(t) B) examples in each of its
    batches, with r(t) = r_min + (r0 - r_min) exp(-(t - t_start) / tau_r)."""

    reads_law = True
    ADAPTS = ("retention", "adaptive", "drift")  # laws that adapt to the run: planned geometric
    _config: ScheduleConfig

    @classmethod
    def from_config(cls, config: ReplayConfig) -> Scheduler:
        schedule = config.schedule
        if schedule.law == "adaptive":
            return AdaptiveSchedule(schedule, config.budget_per_task)
        if schedule.law == "retention":
            return RetentionSchedule(schedule)
        if schedule.law == "drift":
            return DriftSchedule(schedule)
        return ExpandingSchedule(schedule)

    def event_volume(self, step: int, batch_size: int) -> int:
        return round(self.share_at(step) * batch_size)

    def share_at(self, step: int) -> float:
        """r(t): the replay share of the batch at `step`."""
        config = self._config
        decay = math.exp(-(step - self.task_start) / config.ratio_decay_steps)
        return config.min_ratio + (config.initial_ratio - config.min_ratio) * decay

    @classmethod
    def needs_allowance(cls, config: ReplayConfig) -> bool:
        return config.schedule.law in cls.ADAPTS

    @classmethod
    def planned_spend(cls, config: ReplayConfig, steps_per_task: int,
                      batch_size: int) -> int | None:
        if cls.needs_allowance(config):  # planned as the geometric law, whatever kind asks
            return ExpandingSchedule.planned_spend(dataclasses.replace(
                config, schedule=dataclasses.replace(config.schedule, law="geometric")),
                steps_per_task, batch_size)
        return super().planned_spend(config, steps_per_task, batch_size)

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        """The events' shares (r0 and r_min) scaled by one factor, so that the schedule spends
        about `budget` per task with its event times and decay shape kept; when shares of the
        whole batch are not enough, events last more batches (`window` doubles)."""
        schedule = config.schedule
        if schedule.law == "adaptive":  # it spends the cap the caller sets, whatever it is
            return config

        def scaled(factor: float, window: int) -> ReplayConfig:
            return dataclasses.replace(config, schedule=dataclasses.replace(
                schedule, window=window, initial_ratio=min(1.0, schedule.initial_ratio * factor),
                min_ratio=min(1.0, schedule.min_ratio * factor)))

        def spend(factor: float, window: int) -> int:
            return cls.planned_spend(scaled(factor, window), steps_per_task, batch_size)

        if schedule.initial_ratio == 0 or spend(1.0, schedule.window) == budget:
            return config
        saturating = 1.0 / (schedule.min_ratio or schedule.initial_ratio)  # every share at 1
        window = schedule.window
        while spend(saturating, window) < budget and window < steps_per_task:
            window = min(2 * window, steps_per_task)
        low, high = 0.0, saturating
        for _ in range(40):  # the smallest factor that spends at least the budget
            middle = (low + high) / 2
            low, high = (middle, high) if spend(middle, window) < budget else (low, middle)
        return scaled(min((low, high), key=lambda f: abs(spend(f, window) - budget)), window)


class ExpandingSchedule(MemorySchedule):
    """MSSR's schedule: events at e_1 = g_0, e_{k+1} = e_k + g_k steps into the task (g from
    `intervals`, e.g. g_k = min(I_max, ceil(I0 rho^k))), each replaying round(r(t) B) per batch
    for `window` batches, with r(t) = r_min + (r0 - r_min) exp(-(t - t_start) / tau_r)."""

    def __init__(self, config: ScheduleConfig):
        super().__init__(window=config.window)
        self._config = config
        self.start_task(0)

    def start_task(self, step: int, task_steps: int | None = None) -> None:
        super().start_task(step)
        self.next_offset = int(intervals(self._config, 1)[0])
        self.events_in_task = 0

    def next_event(self, step: int) -> bool:
        return step - self.task_start == self.next_offset

    def on_event(self, step: int) -> None:
        self.events_in_task += 1
        self.next_offset += int(intervals(self._config, self.events_in_task + 1)[-1])


class RetentionSchedule(MemorySchedule):
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

    def next_event(self, step: int) -> bool:
        tracker = self._tracker
        if (tracker is None or len(tracker) == 0
                or step - self.last_event < self._config.retention_cooldown):
            return False
        return self.restoring_volume() > 0

    def on_event(self, step: int) -> None:
        self.needed = self.restoring_volume()
        self.last_event = step

    def restoring_volume(self) -> int:
        config = self._config
        return restoring_volume(self._tracker.retention(self._clock.value),
                                config.retention_target, config.retention_quantile)

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


class AdaptiveSchedule(MemorySchedule):
    """Replay every step, an even trickle of the task's budget B moved toward the steps of a
    task where replayed examples show forgetting. The schedule keeps a profile p over a task's
    step offsets: at each offset, an EMA across tasks of the replayed examples' mean loss rise
    over their learned loss (a free signal: those examples are trained on anyway). At offset t
    of a T-step task, with R of the budget left, the step replays
        R w_t / sum_{s >= t} w_s,   w_s = clip(1 + gain (p_s / mean(p) - 1), low, high),
    fractions carried to the next step. With no profile yet (the first task that replays) w is
    1: the even trickle. The last step takes what is left, so the task spends exactly B when B
    fits its batches (B: `budget_per_task`, which a budget or the allowance sets). Forgetting
    that comes at the same point of every task (the next task taking the format over in its
    first steps) draws replay there."""

    reads_forgetting = True
    reads_law = False

    @classmethod
    def from_config(cls, config: ReplayConfig) -> Scheduler:
        """As a schedule kind of its own (the `adaptive` strategy) the law is always this one;
        `schedule.law` is not read."""
        return cls(config.schedule, config.budget_per_task)

    @classmethod
    def needs_allowance(cls, config: ReplayConfig) -> bool:
        return True

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        return config  # it spends the cap the caller sets, whatever it is

    def __init__(self, config: ScheduleConfig, budget: int | None = None):
        super().__init__(window=1)
        self._config = config
        self.budget = budget
        self.profile: np.ndarray | None = None
        self.start_task(0)

    def start_task(self, step: int, task_steps: int | None = None) -> None:
        super().start_task(step)
        self.task_steps = task_steps
        self.spent = 0
        self.carry = 0.0
        self.offset = 0
        if task_steps is not None and (self.profile is None or len(self.profile) != task_steps):
            self.profile = np.full(task_steps, np.nan)

    def next_event(self, step: int) -> bool:
        return self.budget is not None and self.task_steps is not None

    def event_volume(self, step: int, batch_size: int) -> int:
        self.offset = step - self.task_start
        left = self.budget - self.spent
        if self.offset >= self.task_steps or left <= 0:
            return 0
        weights = self.weights()
        wanted = left * weights[self.offset] / weights[self.offset:].sum() + self.carry
        count = min(math.floor(wanted), batch_size - 1, left)
        if self.offset == self.task_steps - 1:  # the last step takes what is left
            count = min(left, batch_size - 1)
        self.carry = wanted - count
        self.spent += count
        return count

    def weights(self) -> np.ndarray:
        """w over the task's offsets from the profile (1 where nothing was seen yet)."""
        config = self._config
        seen = np.isfinite(self.profile)
        mean = self.profile[seen].mean() if seen.any() else 0.0
        if mean <= 0:
            return np.ones(self.task_steps)
        relative = np.where(seen, self.profile / mean, 1.0)
        low, high = config.adaptive_range
        return np.clip(1.0 + config.adaptive_gain * (relative - 1.0), low, high)

    def observe_replay(self, rises: np.ndarray) -> None:
        rises = rises[np.isfinite(rises)]
        if len(rises) == 0 or self.profile is None or self.offset >= len(self.profile):
            return
        value = float(np.maximum(rises, 0.0).mean())
        old = self.profile[self.offset]
        decay = self._config.adaptive_ema
        self.profile[self.offset] = value if np.isnan(old) else decay * old + (1 - decay) * value


class DriftSchedule(MemorySchedule):
    """The format-drift trigger: every `drift_every` steps from a task's start (its first step
    included), the model greedily decodes the first `drift_tokens` answer tokens of the same
    `drift_prompts` buffered prompts of each past task (the task's first in the buffer); a
    task's rate is the mean over its prompts of the share of those tokens that match the
    target's. A task's reference is its rate at its first probe after it ended (the learned
    state); a probe at which a task's rate is more than `drift_drop` below its reference starts
    an event at that step that replays round(r(t) B) examples of the tasks that dropped (those
    alone) in each of the next `window` batches; a drop that persists starts another event at
    the next probe. The budget caps it as every schedule (the driver's accounting)."""

    def __init__(self, config: ScheduleConfig):
        super().__init__(window=config.window)
        self._config = config
        self.reference = np.zeros(0)  # per task: its rate at its first probe (NaN: none yet)
        self.dropped = np.zeros(0, np.int64)  # tasks below their reference at the last probe
        self.replaying = np.zeros(0, np.int64)  # the tasks the current event draws from

    @property
    def probe_answer_tokens(self) -> int:
        return self._config.drift_tokens

    def start_task(self, step: int, task_steps: int | None = None) -> None:
        super().start_task(step)
        self.dropped = np.zeros(0, np.int64)

    def probe_due(self, step: int) -> bool:
        return (step - self.task_start) % self._config.drift_every == 0

    def probe_ids(self, tracker: MemoryTracker, clock: float,
                  rng: np.random.Generator) -> np.ndarray:
        """The first `drift_prompts` buffered ids of each task in the buffer, task by task."""
        tasks = tracker.column("task")
        return np.concatenate([tracker.ids[tasks == task][:self._config.drift_prompts]
                               for task in np.unique(tasks)])

    def report_probe(self, step: int, tasks: np.ndarray, scores: np.ndarray) -> None:
        """Each probed task's rate (the mean of its prompts' match rates) against its
        reference: the first rate of a task becomes its reference, a drop below it by more
        than `drift_drop` marks the task for replay."""
        probed = np.unique(tasks)
        rates = np.array([np.mean(scores[tasks == task]) for task in probed])
        if len(probed) and probed[-1] >= len(self.reference):
            grown = np.full(probed[-1] + 1, np.nan)
            grown[:len(self.reference)] = self.reference
            self.reference = grown
        references = self.reference[probed]
        new = np.isnan(references)
        self.reference[probed[new]] = rates[new]
        self.dropped = probed[~new & (references - rates > self._config.drift_drop)]

    def next_event(self, step: int) -> bool:
        return len(self.dropped) > 0

    def on_event(self, step: int) -> None:
        self.replaying, self.dropped = self.dropped, np.zeros(0, np.int64)

    def replay_tasks(self) -> np.ndarray | None:
        return self.replaying
