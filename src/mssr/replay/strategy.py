"""A replay strategy: clock + memory tracker + candidate intake + scheduler + sampler, built
from its registered spec (replay/registry.py)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.buffer import TaskCandidates
from mssr.replay.clock import InterferenceClock
from mssr.replay.samplers import UniformSampler, gumbel_top_k, memory_sampler, pooled
from mssr.replay.tracker import MemoryTracker

if TYPE_CHECKING:
    from mssr.replay.config import ReplayConfig
    from mssr.replay.registry import StrategySpec

EMPTY = np.zeros(0, np.int64)
STAT_NAMES = ("replayed_examples", "replay_events", "probes", "probe_tokens", "right_to_wrong")


class ReplayStrategy:
    """Decides, step by step, which buffered example ids go into the batch.

    The step protocol that calls it is replay/driver.py's. All randomness comes from the
    strategy's own seeded generator, so processes holding the same strategy and seeing the
    same (gathered) losses take the same decisions."""

    def __init__(self, spec: StrategySpec, config: ReplayConfig, seed: int):
        self.name = config.strategy
        self.spec = spec
        self.config = config
        self.scheduler = spec.schedule.from_config(config)
        self.sampler = memory_sampler(config.sampler) if spec.memory_sampler else UniformSampler()
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
        return self.spec.needs_update_norm or self.config.clock.mode == "update"

    def anchor_weight(self) -> float:
        """Weight of the L2 pull toward the previous task's weights in this step's loss."""
        return 0.0

    def start_task(self, task_index: int, step: int, candidate_ids: np.ndarray,
                   task_steps: int | None = None) -> None:
        """Task `task_index` starts at `step` with its training ids, for `task_steps` steps
        (when the trainer knows; a schedule that spends a budget over the task needs it)."""
        self.task_index = task_index
        self.replayed_in_task = 0
        self.scheduler.start_task(step, task_steps)
        self.candidates.start_task(candidate_ids, self.clock.value)

    def probe_ids(self, step: int) -> np.ndarray | None:
        """The buffered ids the schedule's probe scores at `step`, if one is due."""
        if len(self.tracker) == 0 or not self.scheduler.probe_due(step):
            return None
        return self.scheduler.probe_ids(self.tracker, self.clock.value, self.rng)

    def report_probe(self, step: int, ids: np.ndarray, scores: np.ndarray, tokens: int) -> None:
        """The probe of `ids`: each one's score (in `ids` order) and the tokens it cost. A
        probed example that scores below 1 after it was answered right at its task's end is a
        right-to-wrong event for the memory ledger."""
        scores = np.asarray(scores, np.float64)
        if len(scores) != len(ids):
            raise ValueError(f"{len(scores)} probe scores for {len(ids)} probed ids")
        self.stats["probes"] += 1
        self.stats["probe_tokens"] += int(tokens)
        self.stats["right_to_wrong"] += self.tracker.right_to_wrong(ids, scores >= 1.0)
        tasks = self.tracker.column("task")[self.tracker.positions(np.asarray(ids, np.int64))]
        self.scheduler.report_probe(step, tasks, scores)

    def draw(self, step: int, batch_size: int) -> tuple[np.ndarray, int]:
        """(buffered ids drawn for this step, the replay slots they fill): the slots replace
        as many current-task examples (mode 'replace', at most batch_size - 1) or join a full
        batch (mode 'append', at most batch_size). A strategy that picks by interference
        (`spec.virtual_step`, MIR) draws ceil(`mir.candidates` x slots) candidates uniformly,
        at most the whole buffer, and the driver keeps the slots' worth of them
        (`most_interfered`); every other strategy draws exactly the slots' ids."""
        if len(self.tracker) == 0:
            return EMPTY, 0
        count, started = self.scheduler.replay_count(step, batch_size)
        cap = self.config.budget_per_task
        if cap is not None:
            count = min(count, cap - self.replayed_in_task)
        tasks = self.scheduler.replay_tasks() if count > 0 else None
        pool = len(self.tracker) if tasks is None else int(self.in_tasks(tasks).sum())
        count = min(count, self.config.max_replay(batch_size), pool)
        if count <= 0:
            return EMPTY, 0
        drawn = count
        if self.spec.virtual_step:
            drawn = min(math.ceil(self.config.mir.candidates * count), pool)
        ids = self.sample_ids(drawn, tasks)
        self.replayed_in_task += count
        self.stats["replayed_examples"] += count
        self.stats["replay_events"] += int(started)
        return ids, count

    def plan(self, step: int, batch_size: int) -> np.ndarray:
        """Buffered ids for this step's batch (`draw`), for a strategy that picks them without
        a measurement; a ValueError when there are candidates to measure first (MIR: drive it
        through replay/driver.py)."""
        ids, count = self.draw(step, batch_size)
        if len(ids) > count:
            raise ValueError(f"{self.name} picks {count} of {len(ids)} candidates by a "
                             "virtual step's loss rise: draw, measure, then most_interfered")
        return ids

    def sample_ids(self, count: int, tasks: np.ndarray | None = None) -> np.ndarray:
        """`count` buffered ids by the sampler's law; with `risk: forgetting` the never-learned
        examples get at most their capped share of the draw. With `tasks`, only those tasks'
        examples are drawn, in the same proportions among them (at most as many as they
        hold)."""
        tracker, clock = self.tracker, self.clock.value
        memory = self.config.memory
        if memory.risk != "forgetting" and tasks is None:
            return self.sampler.sample(tracker, clock, count, self.rng)
        log_weights = self.sampler.log_probabilities(tracker, clock)
        if memory.risk == "forgetting":
            log_weights = pooled(log_weights, tracker.unlearned(), memory.unlearned_share)
        if tasks is not None:
            log_weights = np.where(self.in_tasks(tasks), log_weights, -np.inf)
        return tracker.ids[gumbel_top_k(log_weights, count, self.rng)]

    def in_tasks(self, tasks: np.ndarray) -> np.ndarray:
        """Which buffered examples belong to one of `tasks`."""
        return np.isin(self.tracker.column("task"), tasks)

    def current_count(self, batch_size: int, replayed: int) -> int:
        """Current-task examples to draw beside `replayed` buffered ones."""
        return batch_size if self.config.mode == "append" else batch_size - replayed

    def observe(self, step: int, ids: np.ndarray, losses: np.ndarray, task_loss: float,
                update_norm: float | None = None) -> None:
        """After the optimizer step: tick the clock, review buffered ids, note candidates'
        losses, feed the scheduler. Non-finite losses are ignored."""
        clock = self.clock.tick(task_loss=task_loss, update_norm=update_norm)
        if self.scheduler.reads_forgetting:
            self.scheduler.observe_replay(self.tracker.loss_rise(ids, losses))
        self.tracker.review(ids, losses, clock)
        self.candidates.record(ids, losses, clock)
        self.scheduler.observe(step, task_loss)

    def end_task(self, task_index: int) -> np.ndarray:
        """The buffer keeps `buffer.per_task` random candidates of the finished task, each with
        the loss and clock of its last training (not the task end's clock)."""
        ids, losses, clocks = self.candidates.select(self.rng)
        self.tracker.insert(ids, losses, task_index, clocks)
        return ids

    def remove(self, ids: np.ndarray) -> int:
        """Take `ids` out of the buffer (they are never replayed again); returns how many."""
        return self.tracker.remove(ids)

    def memory_snapshot(self) -> dict[str, np.ndarray]:
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
        self.stats = {name: int(state["stats"].get(name, 0)) for name in STAT_NAMES}
        self.rng.bit_generator.state = state["rng"]
        self.clock.load_state_dict(state["clock"])
        self.tracker.load_state_dict(state["tracker"])
        self.candidates.load_state_dict(state["candidates"])
        self.scheduler.load_state_dict(state["scheduler"])
