"""The replay buffer's intake: the current task's candidates with the loss and clock of their
latest training, and, at task end, a reproducible random selection of `per_task` of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mssr.replay.config import BufferConfig



class TaskCandidates:
    """Ids of the current task's training examples with the loss and interference clock of
    their last training."""

    def __init__(self, config: BufferConfig):
        self.per_task = config.per_task
        self.ids = np.zeros(0, np.int64)
        self.last_loss = np.zeros(0, np.float64)
        self.last_clock = np.zeros(0, np.float64)
        self.start_clock = 0.0

    def start_task(self, candidate_ids: np.ndarray, clock: float = 0.0) -> None:
        self.ids = np.unique(np.asarray(candidate_ids, np.int64))
        self.last_loss = np.full(len(self.ids), np.nan)
        self.last_clock = np.full(len(self.ids), np.nan)
        self.start_clock = clock

    def record(self, ids: np.ndarray, losses: np.ndarray, clock: float) -> None:
        """Remember the latest finite loss of every candidate among `ids`, trained at `clock`."""
        if len(self.ids) == 0:
            return
        ids, losses = np.asarray(ids, np.int64), np.asarray(losses, np.float64)
        slots = np.searchsorted(self.ids, ids).clip(max=len(self.ids) - 1)
        keep = (self.ids[slots] == ids) & np.isfinite(losses)
        self.last_loss[slots[keep]] = losses[keep]
        self.last_clock[slots[keep]] = clock

    def select(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`per_task` candidates drawn uniformly, with the loss and clock of their last training.
        One never trained on gets the mean loss of the task's seen candidates (0 if none was
        seen) and the task's start clock."""
        count = min(self.per_task, len(self.ids))
        chosen = np.sort(rng.choice(len(self.ids), size=count, replace=False))
        seen = np.isfinite(self.last_loss)
        fallback = float(self.last_loss[seen].mean()) if seen.any() else 0.0
        losses = np.where(seen[chosen], self.last_loss[chosen], fallback)
        clocks = np.where(seen[chosen], self.last_clock[chosen], self.start_clock)
        return self.ids[chosen], losses, clocks

    def state_dict(self) -> dict:
        return {"ids": self.ids.copy(), "last_loss": self.last_loss.copy(),
                "last_clock": self.last_clock.copy(), "start_clock": self.start_clock}

    def load_state_dict(self, state: dict) -> None:
        self.ids = np.asarray(state["ids"], np.int64)
        self.last_loss = np.asarray(state["last_loss"], np.float64)
        self.last_clock = np.asarray(state["last_clock"], np.float64)
        self.start_clock = float(state["start_clock"])
