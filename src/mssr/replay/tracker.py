"""Per-example memory state of the buffer (docs/MSSR.md section 2), as numpy columns.

Retention is always the closed form R = exp(-c * (1 + kappa * loss) * (U - U_i) / S_i), computed
over the whole buffer at once; nothing loops over buffered examples. `loss` is the loss that
drives the decay (the last observed one, or its EMA over a buffer quantile with
`loss_norm: ema_quantile`), fixed at each review; c is the calibrated decay scale (1 unless
`calibrate` is on).

With `risk: forgetting` the law reads forgetting evidence instead of the raw loss: the rise of
an example's loss over its `learned_loss` (its loss at its last training in its own task), 0 on
insertion. Examples whose learned loss is above `memory.learned_loss` were never learned
(`unlearned`), and so were those the run scored wrong when their task ended (`note_answers`,
where the run answers its buffered prompts); a later wrong answer from one scored right then
is a right-to-wrong event (`right_to_wrong`), which sets its strength to the floor."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.calibration import RetentionCalibration
from mssr.replay.id_index import IdIndex

if TYPE_CHECKING:
    from mssr.replay.config import MemoryConfig

COLUMNS = {"ids": np.int64, "task": np.int64, "strength": np.float64,
           "last_review": np.float64, "last_loss": np.float64, "loss_ema": np.float64,
           "decay_loss": np.float64, "reviews": np.int64, "learned_loss": np.float64,
           "answered": np.int8}
UNSCORED, WRONG, RIGHT = -1, 0, 1  # the `answered` column: the answer when its task ended
OLDER_STATES = {"learned_loss": lambda state: state["last_loss"],  # what a state lacking a
                "answered": lambda state: np.full(len(state["ids"]), UNSCORED)}  # column gets


class MemoryTracker:
    """Strength, last review clock, last loss, review count and task of every buffered example."""

    def __init__(self, config: MemoryConfig, capacity: int = 1024):
        self.config = config
        self.size = 0
        self._columns = {name: np.zeros(capacity, dtype) for name, dtype in COLUMNS.items()}
        self._index = IdIndex()
        self.calibration = RetentionCalibration(config)

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

    def insert(self, ids: np.ndarray, losses: np.ndarray, task: int,
               clock: float | np.ndarray) -> None:
        """Add new examples: S = S0 * exp(-beta * loss), last trained at `clock` (one value, or
        one per example: the clock of its last training), never reviewed by replay since."""
        ids = np.asarray(ids, np.int64)
        learned_losses = _clean_losses(losses)
        losses = (np.zeros_like(learned_losses) if self.config.risk == "forgetting"
                  else learned_losses)
        if len(np.unique(ids)) != len(ids) or self.positions(ids).max(initial=-1) >= 0:
            raise ValueError("example ids must be unique in the buffer")
        self._reserve(self.size + len(ids))
        rows = slice(self.size, self.size + len(ids))
        config, columns = self.config, self._columns
        columns["ids"][rows] = ids
        columns["learned_loss"][rows] = learned_losses
        columns["task"][rows] = task
        columns["strength"][rows] = np.clip(
            config.initial_strength * np.exp(-config.beta * losses),
            config.min_strength, config.max_strength)
        columns["last_review"][rows] = clock
        columns["last_loss"][rows] = losses
        columns["loss_ema"][rows] = losses
        columns["reviews"][rows] = 0
        columns["answered"][rows] = UNSCORED
        self.size += len(ids)
        self._index.build(columns["ids"][:self.size])
        columns["decay_loss"][rows] = self._decay_losses(np.arange(rows.start, rows.stop))

    def remove(self, ids: np.ndarray) -> int:
        """Drop the buffered examples among `ids` (others are ignored); the rest keep their
        order and state. Returns how many left."""
        rows = self.positions(np.asarray(ids, np.int64))
        rows = rows[rows >= 0]
        if not len(rows):
            return 0
        keep = np.ones(self.size, bool)
        keep[rows] = False
        kept = int(keep.sum())
        for column in self._columns.values():
            column[:kept] = column[:self.size][keep]
        self.size = kept
        self._index.build(self._columns["ids"][:kept])
        return len(np.unique(rows))

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Row of each id in the buffer, -1 where an id is not buffered."""
        return self._index.rows_of(ids)

    def retention(self, clock: float, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """R_i(U) in closed form for the given rows (all buffered examples by default)."""
        if isinstance(rows, slice):
            rows = slice(*rows.indices(self.size))
        scale = self.calibration.scale(self._columns["task"][rows])
        return np.exp(-scale * self.decay_exponent(clock, rows))

    def decay_exponent(self, clock: float, rows: np.ndarray | slice) -> np.ndarray:
        """The uncalibrated exponent (1 + kappa * loss) * (U - U_i) / S_i of the given rows."""
        columns = self._columns
        rate = (1.0 + self.config.kappa * columns["decay_loss"][rows]) / columns["strength"][rows]
        return rate * (clock - columns["last_review"][rows])

    def review(self, ids: np.ndarray, losses: np.ndarray, clock: float) -> int:
        """Reviews of buffered ids among `ids` (others are ignored); returns how many.
        S <- clip(S * (1 + alpha * exp(-beta * l) * (1 - R)^gamma + alpha0)). Each review is
        first a calibration measurement: predicted R against the loss now and at last training."""
        rows = self.positions(ids)
        losses = np.asarray(losses, np.float64)
        keep = (rows >= 0) & np.isfinite(losses)
        if not keep.all():
            if not keep.any():
                return 0
            rows, losses = rows[keep], losses[keep]
        losses = np.maximum(losses, 0.0)
        config, columns = self.config, self._columns
        if config.risk == "forgetting":
            losses = np.maximum(losses - columns["learned_loss"][rows], 0.0)
        tasks, exponent = columns["task"][rows], self.decay_exponent(clock, rows)
        retention = np.exp(-self.calibration.scale(tasks) * exponent)
        self.calibration.observe(tasks, exponent, retention, losses, columns["last_loss"][rows])
        gain = (1.0 + config.alpha * np.exp(-config.beta * losses)
                * np.power(1.0 - retention, config.gamma) + config.alpha0)
        # min(max()) is np.clip without its dispatch, which cost a fifth of a review
        columns["strength"][rows] = np.minimum(
            np.maximum(columns["strength"][rows] * gain, config.min_strength),
            config.max_strength)
        columns["last_loss"][rows] = losses
        if config.loss_norm == "none":
            columns["decay_loss"][rows] = losses
        else:  # the loss EMA is kept only where it drives the decay
            columns["loss_ema"][rows] = (config.loss_ema * columns["loss_ema"][rows]
                                         + (1.0 - config.loss_ema) * losses)
            columns["decay_loss"][rows] = self._decay_losses(rows)
        columns["last_review"][rows] = clock
        columns["reviews"][rows] += 1
        return len(rows)

    def loss_rise(self, ids: np.ndarray, losses: np.ndarray) -> np.ndarray:
        """The rise of each buffered id's loss over its learned loss (ids not buffered, or
        with a non-finite loss, are left out): the forgetting a replay shows."""
        rows = self.positions(ids)
        losses = np.asarray(losses, np.float64)
        keep = (rows >= 0) & np.isfinite(losses)
        return losses[keep] - self._columns["learned_loss"][rows[keep]]

    def unlearned(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Per buffered example (the given rows, all by default): never learned (learned loss
        above `memory.learned_loss`, or answered wrong when its task ended)."""
        return ((self.column("learned_loss")[rows] > self.config.learned_loss)
                | (self.column("answered")[rows] == WRONG))

    def note_answers(self, ids: np.ndarray, right: np.ndarray) -> None:
        """Whether each buffered id among `ids` was answered right when its task ended."""
        rows = self.positions(np.asarray(ids, np.int64))
        keep = rows >= 0
        self._columns["answered"][rows[keep]] = np.where(np.asarray(right, bool)[keep],
                                                         RIGHT, WRONG)

    def right_to_wrong(self, ids: np.ndarray, right: np.ndarray) -> int:
        """A later scoring of buffered `ids` (`right`: answered right now): those answered
        right when their task ended and wrong now are forgotten for certain, so with `risk:
        forgetting` their strength drops to `min_strength`. Returns how many such events."""
        rows = self.positions(np.asarray(ids, np.int64))
        keep = rows >= 0
        rows = rows[keep][(self._columns["answered"][rows[keep]] == RIGHT)
                          & ~np.asarray(right, bool)[keep]]
        if self.config.risk == "forgetting":
            self._columns["strength"][rows] = self.config.min_strength
        return len(rows)

    def _decay_losses(self, rows: np.ndarray) -> np.ndarray:
        """The loss that drives the decay of `rows` until their next review: the last observed
        one, or (ema_quantile) the loss EMA over max(quantile of the buffer's EMAs, floor)."""
        config, columns = self.config, self._columns
        if config.loss_norm == "none":
            return columns["last_loss"][rows]
        quantile = np.quantile(columns["loss_ema"][:self.size], config.loss_quantile)
        return columns["loss_ema"][rows] / max(float(quantile), config.loss_floor)

    def state_dict(self) -> dict:
        return {**{name: self._columns[name][:self.size].copy() for name in COLUMNS},
                "calibration": self.calibration.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        size = len(state["ids"])
        self.size = 0
        self._reserve(size)
        for name, dtype in COLUMNS.items():
            column = state[name] if name in state else OLDER_STATES[name](state)
            self._columns[name][:size] = np.asarray(column, dtype)
        self.size = size
        self._index.build(self._columns["ids"][:size])
        self.calibration.load_state_dict(state["calibration"])

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
