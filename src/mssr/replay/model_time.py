"""FOREVER's schedule (arXiv 2601.03938; docs/MSSR.md, section FOREVER): replay at Ebbinghaus
days of *model time*, the summed size of the task's parameter updates, and the update
intensity that scales its L2 anchor.

Per task, with Delta_t the norm of update t:
    tau_t   = sum_{s <= t} Delta_s                       (model time, reset at each task)
    tau_day = tau_S                                       (a model day: the first S updates)
    event j at the first update with tau_t >= d_j tau_day (d = 1, 2, 4, 7, 15, 30)
    mu_0 = tau_day / S,  mu_t = decay mu_{t-1} + (1 - decay) Delta_t,  r_t = mu_t / mu_0
    beta_t = beta_0 clip(1 + gamma (r_t - 1), low, high)
"""

from __future__ import annotations

import math

from mssr.replay.config import BaselineConfig, ForeverConfig
from mssr.replay.schedulers import ShareOfBatch


class ModelTimeSchedule(ShareOfBatch):
    """Events when model time passes the next Ebbinghaus day; each replays
    round(ratio * batch size) examples in each of `window` batches. Update sizes arrive
    through `observe_update`; several days passed in one update raise one event."""

    def __init__(self, config: ForeverConfig, baseline: BaselineConfig, window: int):
        super().__init__(baseline, window)
        self._config = config
        self.start_task(0)

    def start_task(self, step: int) -> None:
        super().start_task(step)
        self.updates = 0
        self.model_time = 0.0
        self.model_day: float | None = None
        self.base_intensity: float | None = None
        self.intensity: float | None = None
        self.next_day = 0
        self.pending = False

    def observe_update(self, update_norm: float) -> None:
        """Advance model time by one update of size `update_norm` (non-finite ones are
        skipped), calibrate the model day after S updates, and raise the days now reached."""
        if not math.isfinite(update_norm) or update_norm < 0:
            return
        config = self._config
        self.updates += 1
        self.model_time += update_norm
        if self.updates < config.calibration_updates:
            return
        if self.updates == config.calibration_updates:
            self.model_day = self.model_time
            self.base_intensity = self.intensity = self.model_time / config.calibration_updates
        else:
            self.intensity = (config.intensity_decay * self.intensity
                              + (1 - config.intensity_decay) * update_norm)
        if self.model_day <= 0:
            return
        elapsed_days = self.model_time / self.model_day
        while self.next_day < len(config.days) and elapsed_days >= config.days[self.next_day]:
            self.next_day += 1
            self.pending = True

    def event_due(self, step: int) -> bool:
        due, self.pending = self.pending, False
        return due

    def intensity_ratio(self) -> float:
        """r_t = mu_t / mu_0; 1 until the model day is calibrated (or when mu_0 is 0)."""
        if not self.base_intensity:
            return 1.0
        return self.intensity / self.base_intensity

    def anchor_strength(self) -> float:
        """beta_t = beta_0 clip(1 + gamma (r_t - 1), low, high)."""
        config = self._config
        low, high = config.anchor_clip
        scale = 1.0 + config.anchor_gamma * (self.intensity_ratio() - 1.0)
        return config.anchor_strength * min(max(scale, low), high)
