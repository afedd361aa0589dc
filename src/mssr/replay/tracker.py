"""Per-example memory state of the buffer (docs/MSSR.md section 2), as numpy columns.

Retention is always the closed form R = exp(-(1 + kappa * loss) * (U - U_i) / S_i), computed
over the whole buffer at once; nothing loops over buffered examples."""

from __future__ import annotations

import numpy as np

from mssr.replay.config import MemoryConfig
from mssr.replay.id_index import IdIndex

COLUMNS = {"ids": np.int64, "task": np.int64, "strength": np.float64,
           "last_review": np.float64, "last_loss": np.float64, "reviews": np.int64}


class MemoryTracker:
    """Strength, last review clock, last loss, review count and task of every buffered example."""

    def __init__(self, config: MemoryConfig, capacity: int = 1024):
        self.config = config
        self.size = 0
        self._columns = {name: np.zeros(capacity, dtype) for name, dtype in COLUMNS.items()}
        self._index = IdIndex()

    def __len__(self) -> int:
        return self.size

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column over the buffered examples."""
        view = self._columns[name][:self.size]
        view.flags.writeable = False
        return view

    @property
    def ids(self) -> np.ndarray:
        return self.column("ids")

    def insert(self, ids: np.ndarray, losses: np.ndarray, task: int, clock: float) -> None:
        """Add new examples: S = S0 * exp(-beta * loss), reviewed now, never reviewed since."""
        ids = np.asarray(ids, np.int64)
        losses = _clean_losses(losses)
        if len(np.unique(ids)) != len(ids) or self.positions(ids).max(initial=-1) >= 0:
            raise ValueError("example ids must be unique in the buffer")
        self._reserve(self.size + len(ids))
        rows = slice(self.size, self.size + len(ids))
        config, columns = self.config, self._columns
        columns["ids"][rows] = ids
        columns["task"][rows] = task
        columns["strength"][rows] = np.clip(
            config.initial_strength * np.exp(-config.beta * losses),
            config.min_strength, config.max_strength)
        columns["last_review"][rows] = clock
        columns["last_loss"][rows] = losses
        columns["reviews"][rows] = 0
        self.size += len(ids)
        self._index.build(columns["ids"][:self.size])

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id in the buffer, -1 where an id is not buffered."""
        return self._index.rows_of(ids)

    def retention(self, clock: float, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """R_i(U) in closed form for the given rows (all buffered examples by default)."""
        columns = self._columns
        if isinstance(rows, slice):
            rows = slice(*rows.indices(self.size))
        rate = (1.0 + self.config.kappa * columns["last_loss"][rows]) / columns["strength"][rows]
        return np.exp(-rate * (clock - columns["last_review"][rows]))

    def review(self, ids: np.ndarray, losses: np.ndarray, clock: float) -> int:
        """Reviews of buffered ids among `ids` (others are ignored); returns how many.
        S <- clip(S * (1 + alpha * exp(-beta * l) * (1 - R)^gamma + alpha0))."""
        rows = self.positions(ids)
        losses = np.asarray(losses, np.float64)
        keep = (rows >= 0) & np.isfinite(losses)
        if not keep.any():
            return 0
        rows, losses = rows[keep], np.maximum(losses[keep], 0.0)
        config, columns = self.config, self._columns
        forgotten = 1.0 - self.retention(clock, rows)
        gain = (1.0 + config.alpha * np.exp(-config.beta * losses)
                * np.power(forgotten, config.gamma) + config.alpha0)
        columns["strength"][rows] = np.clip(columns["strength"][rows] * gain,
                                            config.min_strength, config.max_strength)
        columns["last_loss"][rows] = losses
        columns["last_review"][rows] = clock
        columns["reviews"][rows] += 1
        return len(rows)

    def state_dict(self) -> dict:
        return {name: self._columns[name][:self.size].copy() for name in COLUMNS}

    def load_state_dict(self, state: dict) -> None:
        size = len(state["ids"])
        self.size = 0
        self._reserve(size)
        for name, dtype in COLUMNS.items():
            self._columns[name][:size] = np.asarray(state[name], dtype)
        self.size = size
        self._index.build(self._columns["ids"][:size])

    def _reserve(self, capacity: int) -> None:
        current = len(self._columns["ids"])
        if capacity <= current:
            return
        new = max(capacity, 2 * current)
        for name, column in self._columns.items():
            grown = np.zeros(new, column.dtype)
            grown[:self.size] = column[:self.size]
            self._columns[name] = grown


def _clean_losses(losses: np.ndarray) -> np.ndarray:
    """Losses as float64, negative clipped to 0; a non-finite loss is an error, never stored."""
    losses = np.maximum(np.asarray(losses, np.float64), 0.0)
    if not np.isfinite(losses).all():
        raise ValueError("losses must be finite")
    return losses
