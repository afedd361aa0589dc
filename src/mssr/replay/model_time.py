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

import dataclasses
import math
from typing import TYPE_CHECKING

from mssr.replay.schedulers import ShareOfBatch

if TYPE_CHECKING:
    from mssr.replay.config import BaselineConfig, ForeverConfig, ReplayConfig


class ModelTimeSchedule(ShareOfBatch):
    """Events when model time passes the next Ebbinghaus day; each replays
    round(ratio * batch size) examples in each of `window` batches. Update sizes arrive
    through `observe_update`; several days passed in one update raise one event."""

    def __init__(self, config: ForeverConfig, baseline: BaselineConfig, window: int):
        super().__init__(baseline, window)
        self._config = config
        self.start_task(0)

    @classmethod
    def from_config(cls, config: ReplayConfig) -> ModelTimeSchedule:
        return cls(config.forever, config.baseline, config.schedule.window)

    def start_task(self, step: int, task_steps: int | None = None) -> None:
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

    def next_event(self, step: int) -> bool:
        return self.pending

    def on_event(self, step: int) -> None:
        self.pending = False

    def advance_planned_step(self) -> None:
        """Planned at a constant update size, so a model day is S steps."""
        self.observe_update(1.0)

    @classmethod
    def match_budget(cls, config: ReplayConfig, budget: int, steps_per_task: int,
                     batch_size: int) -> ReplayConfig:
        """The examples per event (a share of the batch) whose spend on the planned days comes
        closest to `budget` (the fewer on a tie)."""
        def with_count(count: int) -> ReplayConfig:
            return dataclasses.replace(config, baseline=dataclasses.replace(
                config.baseline, ratio=count / batch_size))

        def distance(count: int) -> tuple[int, int]:
            spend = cls.planned_spend(with_count(count), steps_per_task, batch_size)
            return abs(spend - budget), count

        return with_count(min(range(batch_size), key=distance))

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
