"""A replay strategy: clock + memory tracker + candidate intake + scheduler + sampler, and the
registry that names the compositions of docs/MSSR.md section 4."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mssr.errors import ConfigError
from mssr.replay.buffer import TaskCandidates
from mssr.replay.clock import InterferenceClock
from mssr.replay.config import STRATEGY_NAMES, ReplayConfig
from mssr.replay.model_time import ModelTimeSchedule
from mssr.replay.samplers import UniformSampler, WeightedSampler, memory_sampler
from mssr.replay.schedulers import (
    AccuracyTrigger,
    EveryStep,
    FixedInterval,
    LossTrigger,
    Scheduler,
    memory_schedule,
)
from mssr.replay.tracker import MemoryTracker

EMPTY = np.zeros(0, np.int64)
STAT_NAMES = ("replayed_examples", "replay_events", "probes", "probe_tokens")


class ReplayStrategy:
    """Decides, step by step, which buffered example ids go into the batch.

    Per optimizer step the caller runs `probe_ids`/`report_probe` (accuracy trigger only),
    `plan`, its forward/backward/step, then `observe` with every trained id and its loss.
    The batch holds `current_count` current-task examples beside the planned ids.
    All randomness comes from the strategy's own seeded generator, so processes holding the
    same strategy and seeing the same (gathered) losses take the same decisions."""

    anchors = False  # whether the engine keeps the previous task's weights for `anchor_weight`

    def __init__(self, config: ReplayConfig, scheduler: Scheduler,
                 sampler: UniformSampler | WeightedSampler, seed: int):
        self.name = config.strategy
        self.config = config
        self.scheduler = scheduler
        self.sampler = sampler
        self.clock = InterferenceClock(config.clock)
        self.tracker = MemoryTracker(config.memory)
        self.candidates = TaskCandidates(config.buffer)
        self.scheduler.attach(self.tracker, self.clock)
        self.rng = np.random.default_rng(seed)
        self.task_index = -1
        self.replayed_in_task = 0
        self.stats = dict.fromkeys(STAT_NAMES, 0)

    @property
    def buffer_ids(self) -> np.ndarray:
        return self.tracker.ids

    @property
    def needs_update_norm(self) -> bool:
        """Whether `observe` needs the optimizer update's norm (the engine computes it then)."""
        return self.config.clock.mode == "update"

    def anchor_weight(self) -> float:
        """Weight of the L2 pull toward the previous task's weights in this step's loss."""
        return 0.0

    def start_task(self, task_index: int, step: int, candidate_ids: np.ndarray) -> None:
        self.task_index = task_index
        self.replayed_in_task = 0
        self.scheduler.start_task(step)
        self.candidates.start_task(candidate_ids, self.clock.value)

    def probe_ids(self, step: int) -> np.ndarray | None:
        if len(self.tracker) == 0 or not self.scheduler.probe_due(step):
            return None
        count = min(self.config.baseline.probe_size, len(self.tracker))
        return UniformSampler().sample(self.tracker, self.clock.value, count, self.rng)

    def report_probe(self, step: int, accuracy: float, tokens: int) -> None:
        self.stats["probes"] += 1
        self.stats["probe_tokens"] += int(tokens)
        self.scheduler.report_probe(step, accuracy)

    def plan(self, step: int, batch_size: int) -> np.ndarray:
        """Buffered ids for this step's batch: they replace as many current-task examples
        (mode 'replace', at most batch_size - 1) or join a full batch (mode 'append', at most
        batch_size)."""
        if len(self.tracker) == 0:
            return EMPTY
        count, started = self.scheduler.replay_count(step, batch_size)
        cap = self.config.budget_per_task
        if cap is not None:
            count = min(count, cap - self.replayed_in_task)
        count = min(count, max_replay(self.config, batch_size), len(self.tracker))
        if count <= 0:
            return EMPTY
        ids = self.sampler.sample(self.tracker, self.clock.value, count, self.rng)
        self.replayed_in_task += count
        self.stats["replayed_examples"] += count
        self.stats["replay_events"] += int(started)
        return ids

    def current_count(self, batch_size: int, replayed: int) -> int:
        """Current-task examples to draw beside `replayed` buffered ones."""
        return batch_size if self.config.mode == "append" else batch_size - replayed

    def observe(self, step: int, ids: np.ndarray, losses: np.ndarray, task_loss: float,
                update_norm: float | None = None) -> None:
        """After the optimizer step: tick the clock, review buffered ids, note candidates'
        losses, feed the scheduler. Non-finite losses are ignored."""
        clock = self.clock.tick(task_loss=task_loss, update_norm=update_norm)
        self.tracker.review(ids, losses, clock)
        self.candidates.record(ids, losses, clock)
        self.scheduler.observe(step, task_loss)

    def end_task(self, task_index: int, step: int) -> np.ndarray:
        """The buffer keeps `buffer.per_task` random candidates of the finished task, each with
        the loss and clock of its last training (not the task end's clock)."""
        ids, losses, clocks = self.candidates.select(self.rng)
        self.tracker.insert(ids, losses, task_index, clocks)
        return ids

    def memory_snapshot(self, step: int) -> dict[str, np.ndarray]:
        return {"ids": self.tracker.ids.copy(), "task": self.tracker.column("task").copy(),
                "retention": self.tracker.retention(self.clock.value),
                "strength": self.tracker.column("strength").copy()}

    def calibration_record(self) -> dict:
        """Predicted against observed retention of every replayed example (results.json)."""
        return self.tracker.calibration.summary()

    def state_dict(self) -> dict:
        return {"name": self.name, "task_index": self.task_index,
                "replayed_in_task": self.replayed_in_task, "stats": dict(self.stats),
                "rng": self.rng.bit_generator.state, "clock": self.clock.state_dict(),
                "tracker": self.tracker.state_dict(), "candidates": self.candidates.state_dict(),
                "scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        if state["name"] != self.name:
            raise ValueError(f"state of strategy {state['name']!r}, not {self.name!r}")
        self.task_index = int(state["task_index"])
        self.replayed_in_task = int(state["replayed_in_task"])
        self.stats = {name: int(state["stats"][name]) for name in STAT_NAMES}
        self.rng.bit_generator.state = state["rng"]
        self.clock.load_state_dict(state["clock"])
        self.tracker.load_state_dict(state["tracker"])
        self.candidates.load_state_dict(state["candidates"])
        self.scheduler.load_state_dict(state["scheduler"])


def _fixed(config: ReplayConfig) -> Scheduler:
    return FixedInterval(config.baseline, config.schedule.window)


REGISTRY: dict[str, tuple[Callable[[ReplayConfig], Scheduler], bool]] = {
    # name: (scheduler factory, memory sampler?)
    "none": (lambda config: Scheduler(), False),
    "uniform": (lambda config: EveryStep(config.baseline), False),
    "fixed": (_fixed, False),
    "loss": (lambda config: LossTrigger(config.baseline, config.schedule.window), False),
    "accuracy": (lambda config: AccuracyTrigger(config.baseline, config.schedule.window), False),
    "mssr": (lambda config: memory_schedule(config.schedule), True),
    "mssr-sampler": (_fixed, True),
    "mssr-every-step": (lambda config: EveryStep(config.baseline), True),
    "mssr-scheduler": (lambda config: memory_schedule(config.schedule), False),
    "forever": (lambda config: ModelTimeSchedule(config.forever, config.baseline,
                                                 config.schedule.window), False),
}
assert tuple(REGISTRY) == STRATEGY_NAMES


def build_strategy(config: ReplayConfig, seed: int) -> ReplayStrategy:
    """The strategy `config.strategy` names, with the config's constants."""
    if config.strategy not in REGISTRY:
        raise ConfigError("replay.strategy", f"unknown strategy {config.strategy!r}; valid: "
                          f"{', '.join(STRATEGY_NAMES)}")
    from mssr.replay.forever import ForeverStrategy  # a subclass: importing it above is a cycle

    make_scheduler, memory = REGISTRY[config.strategy]
    sampler = memory_sampler(config.sampler) if memory else UniformSampler()
    kind = ForeverStrategy if config.strategy == "forever" else ReplayStrategy
    return kind(config, make_scheduler(config), sampler, seed)


def max_replay(config: ReplayConfig, batch_size: int) -> int:
    """Most buffered examples one batch may carry: all but one slot ('replace'), or as many
    as the batch's current-task examples ('append')."""
    return batch_size if config.mode == "append" else batch_size - 1
