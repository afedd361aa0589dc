"""The synthetic worlds `mssr simulate` runs replay strategies through: each hides every
example's true state, answers a trainer's step with the losses it would observe, and says what
is truly retained. Example ids are task * ID_STRIDE + row.

- `exponential`: each example forgets on its own, exp(-(t - t_review) / s), with a stability s
  that spaced reviews raise (the world MSSR's memory model assumes).
- `takeover`: what BENCHMARKS.md's frontier runs show. A task's answer *format* is overwritten
  in the first steps of the next task (a hazard that is high at a task's start and decays with
  `takeover_steps`), comes back quickly with a few replays of that task, and some examples are
  never learned at all (their loss stays high: raw loss cannot tell them from forgotten ones).
  An example is right with probability learned x format strength of its task.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

ID_STRIDE = 1_000_000


@dataclass
class ExponentialWorld:
    """Per-example exponential forgetting with spacing-driven stability (`simulation.py`'s
    original world). The observed loss is 0.3 d - log(R) plus noise."""

    difficulty: np.ndarray  # (tasks, examples)
    stability: np.ndarray
    last_review: np.ndarray
    growth: float = 1.0
    noise: float = 0.05

    @classmethod
    def create(cls, tasks: int, examples: int, rng: np.random.Generator) -> ExponentialWorld:
        difficulty = rng.lognormal(0.0, 0.6, size=(tasks, examples))
        stability = 60.0 / difficulty
        return cls(difficulty, stability, np.zeros((tasks, examples)))

    def start_task(self, task: int, step: int) -> None:
        """Nothing happens at a task boundary in this world."""

    def retention(self, step: int) -> np.ndarray:
        return np.exp(-(step - self.last_review) / self.stability)

    def expected_loss(self, ids: np.ndarray, step: int) -> np.ndarray:
        """The loss `ids` would show at `step`, without noise and without reviewing them."""
        return self._loss_and_retention(*np.divmod(ids, ID_STRIDE), step)[0]

    def train(self, ids: np.ndarray, step: int, rng: np.random.Generator) -> np.ndarray:
        """Review `ids` at `step`; return the losses a trainer would observe."""
        task, row = np.divmod(ids, ID_STRIDE)
        loss, retention = self._loss_and_retention(task, row, step)
        losses = loss + rng.normal(0.0, self.noise, size=len(ids))
        self.stability[task, row] = self.stability[task, row] * (
            1 + self.growth * (1 - retention)) + 1.0
        self.last_review[task, row] = step
        return np.maximum(losses, 0.0)

    def _loss_and_retention(self, task: np.ndarray, row: np.ndarray,
                            step: int) -> tuple[np.ndarray, np.ndarray]:
        """The noise-free loss 0.3 d - log(R) of these examples at `step`, and R."""
        retention = np.exp(-(step - self.last_review[task, row]) / self.stability[task, row])
        return 0.3 * self.difficulty[task, row] - np.log(np.maximum(retention, 1e-9)), retention


@dataclass
class TakeoverLaw:
    """The takeover world's constants (fitted to the LoRA frontier: BENCHMARKS.md)."""

    takeover: float = 0.03  # format loss per step at a new task's first step
    takeover_steps: float = 10.0  # how fast that hazard fades within the new task
    drift: float = 0.005  # format loss per step that never fades
    recovery: float = 0.02  # share of the lost format one replayed example brings back
    learning: float = 0.08  # share of the missing format one step of its own task adds
    unlearned: float = 0.08  # examples never learned
    learned_loss: float = 0.15  # loss of a learned example in full format
    format_loss: float = 3.0  # loss added when the format is lost
    unlearned_loss: float = 2.5  # loss of an example never learned
    noise: float = 0.1


@dataclass
class TakeoverWorld:
    """Tasks' formats taken over by the next task; never-learned examples (see module doc)."""

    learned: np.ndarray  # (tasks, examples) bool
    law: TakeoverLaw = field(default_factory=TakeoverLaw)
    format: np.ndarray = field(default=None)  # (tasks,) format strength in [0, 1]
    current: int = 0
    task_start: int = 0
    now: int = 0  # the next step to train

    def __post_init__(self) -> None:
        if self.format is None:
            self.format = np.zeros(len(self.learned))

    @classmethod
    def create(cls, tasks: int, examples: int, rng: np.random.Generator,
               law: TakeoverLaw | None = None) -> TakeoverWorld:
        law = law or TakeoverLaw()
        return cls(rng.random((tasks, examples)) >= law.unlearned, law)

    def start_task(self, task: int, step: int) -> None:
        self.current, self.task_start = task, step

    def retention(self, step: int) -> np.ndarray:
        """P(right answer) of every example: learned x its task's format strength."""
        return self.learned * self.format[:, None]

    def expected_loss(self, ids: np.ndarray, step: int) -> np.ndarray:
        """The loss `ids` would show at `step` (no noise, nothing trained meanwhile): the
        earlier tasks' formats go on being taken over until then."""
        law = self.law
        task, row = np.divmod(ids, ID_STRIDE)
        hazard = law.takeover * np.exp(-(step - self.task_start) / law.takeover_steps)
        old = task < self.current
        fmt = self.format[task] * np.where(old, (1 - hazard - law.drift) ** max(
            step - self.now, 0), 1.0)
        return self._loss(self.learned[task, row], fmt)

    def _loss(self, learned: np.ndarray, fmt: np.ndarray) -> np.ndarray:
        """Noise-free loss: a learned example's grows as its task's format `fmt` is lost; a
        never-learned one's stays high."""
        law = self.law
        return np.where(learned, law.learned_loss + law.format_loss * (1 - fmt),
                        law.unlearned_loss)

    def train(self, ids: np.ndarray, step: int, rng: np.random.Generator) -> np.ndarray:
        """One step on `ids`: the losses it shows, then the formats it moves."""
        law = self.law
        task, row = np.divmod(ids, ID_STRIDE)
        losses = (self._loss(self.learned[task, row], self.format[task])
                  + rng.normal(0.0, law.noise, size=len(ids)))
        replayed = np.bincount(task[task != self.current], minlength=len(self.format))
        hazard = law.takeover * np.exp(-(step - self.task_start) / law.takeover_steps)
        old = np.arange(len(self.format)) < self.current
        self.format[old] *= (1 - hazard - law.drift)
        restored = 1 - (1 - law.recovery) ** replayed
        self.format += old * (1 - self.format) * restored
        self.format[self.current] += (1 - self.format[self.current]) * law.learning
        self.now = step + 1
        return np.maximum(losses, 0.0)


WORLDS = {"exponential": ExponentialWorld, "takeover": TakeoverWorld}
