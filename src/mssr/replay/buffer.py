"""The replay buffer's intake: the current task's candidates and their latest training losses,
and, at task end, a reproducible random selection of `per_task` of them."""

from __future__ import annotations

import numpy as np

from mssr.replay.config import BufferConfig


class TaskCandidates:
    """Ids of the current task's training examples with the last loss each was trained at."""

    def __init__(self, config: BufferConfig):
        self.per_task = config.per_task
        self.ids = np.zeros(0, np.int64)
        self.last_loss = np.zeros(0, np.float64)

    def start_task(self, candidate_ids: np.ndarray) -> None:
        self.ids = np.unique(np.asarray(candidate_ids, np.int64))
        self.last_loss = np.full(len(self.ids), np.nan)

    def record(self, ids: np.ndarray, losses: np.ndarray) -> None:
        """Remember the latest finite loss of every candidate among `ids`."""
        if len(self.ids) == 0:
            return
        ids, losses = np.asarray(ids, np.int64), np.asarray(losses, np.float64)
        slots = np.searchsorted(self.ids, ids).clip(max=len(self.ids) - 1)
        keep = (self.ids[slots] == ids) & np.isfinite(losses)
        self.last_loss[slots[keep]] = losses[keep]

    def select(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """`per_task` candidates drawn uniformly, with their last losses (the mean loss of the
        task's seen candidates for one never trained on, 0 if none was seen)."""
        count = min(self.per_task, len(self.ids))
        chosen = np.sort(rng.choice(len(self.ids), size=count, replace=False))
        seen = np.isfinite(self.last_loss)
        fallback = float(self.last_loss[seen].mean()) if seen.any() else 0.0
        losses = np.where(seen[chosen], self.last_loss[chosen], fallback)
        return self.ids[chosen], losses

    def state_dict(self) -> dict:
        return {"ids": self.ids.copy(), "last_loss": self.last_loss.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.ids = np.asarray(state["ids"], np.int64)
        self.last_loss = np.asarray(state["last_loss"], np.float64)
