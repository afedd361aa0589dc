"""FOREVER as a strategy: the model-time schedule, a uniform sampler over the shared buffer, and
the anchor weight the engine adds to the loss on the steps that replay."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.strategy import ReplayStrategy

if TYPE_CHECKING:
    from mssr.replay.config import ReplayConfig
    from mssr.replay.model_time import ModelTimeSchedule
    from mssr.replay.registry import StrategySpec


class ForeverStrategy(ReplayStrategy):
    """Every optimizer update (replay steps included) advances model time; a step whose
    batch holds replayed examples also pulls the weights toward the previous task's with
    beta_t ||theta - theta*||^2 (`anchor_weight`)."""

    scheduler: ModelTimeSchedule

    def __init__(self, spec: StrategySpec, config: ReplayConfig, seed: int):
        super().__init__(spec, config, seed)
        self.replaying = False

    def draw(self, step: int, batch_size: int) -> tuple[np.ndarray, int]:
        ids, count = super().draw(step, batch_size)
        self.replaying = count > 0
        return ids, count

    def observe(self, step: int, ids: np.ndarray, losses: np.ndarray, task_loss: float,
                update_norm: float | None = None) -> None:
        if update_norm is None:
            raise ValueError("forever needs update_norm (the size of each optimizer update)")
        super().observe(step, ids, losses, task_loss, update_norm)
        self.scheduler.observe_update(update_norm)

    def anchor_weight(self) -> float:
        """beta_t on a step that replays (there is a previous task then); 0 otherwise."""
        return self.scheduler.anchor_strength() if self.replaying else 0.0
