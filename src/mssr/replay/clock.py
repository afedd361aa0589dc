"""The interference clock U(t) of docs/MSSR.md section 1: a running sum of u(s) per step."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mssr.replay.config import ClockConfig



class InterferenceClock:
    """U(t) = sum_{s <= t} u(s); u is 1 ('steps'), the task loss over its running mean
    ('loss'), or the update norm over its running mean ('update')."""

    def __init__(self, config: ClockConfig):
        self.mode = config.mode
        self.decay = config.running_mean_decay
        self.value = 0.0
        self.running_mean: float | None = None

    def tick(self, task_loss: float | None = None, update_norm: float | None = None) -> float:
        """Advance by one optimizer step; returns the new U."""
        if self.mode == "steps":
            return self.advance(1.0)
        signal = task_loss if self.mode == "loss" else update_norm
        if signal is None:
            raise ValueError(f"the '{self.mode}' clock needs "
                             f"{'task_loss' if self.mode == 'loss' else 'update_norm'}")
        if not math.isfinite(signal) or signal < 0:
            return self.advance(1.0)
        if self.running_mean is None:
            self.running_mean = signal
        else:
            self.running_mean = self.decay * self.running_mean + (1 - self.decay) * signal
        return self.advance(signal / self.running_mean if self.running_mean > 0 else 1.0)

    def advance(self, u: float, dt: float = 1.0) -> float:
        """Add u * dt (a left Riemann sum of the integral of u over time)."""
        self.value += u * dt
        return self.value

    def state_dict(self) -> dict:
        return {"value": self.value, "running_mean": self.running_mean}

    def load_state_dict(self, state: dict) -> None:
        self.value = float(state["value"])
        self.running_mean = None if state["running_mean"] is None else float(state["running_mean"])
