"""The optimizer and its learning-rate schedule, owned in one place.

AdamW over the trainable weights is prepared with accelerate once per run. A new schedule
(each task with `train.reset_optimizer`, else once for the whole run) clears the optimizer's
moments in place and starts a fresh schedule, so accelerate never holds more than one
optimizer and no old state stays alive. Every schedule starts with `train.warmup_steps` of
linear warm-up (`constant` is transformers' `constant_with_warmup`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from accelerate import Accelerator

from mssr.run_config import TrainConfig

SCHEDULES = {"constant": "constant_with_warmup", "linear": "linear", "cosine": "cosine"}


@dataclass(frozen=True)
class StepOutcome:
    """What one optimizer step did: the gradient norm before clipping, the LR it used, whether
    the weights changed (fp16 loss scaling skips steps with overflowing gradients) and, when
    asked for, the norm of the weight update."""

    grad_norm: float
    lr: float
    stepped: bool
    update_norm: float | None


class Optimization:
    """AdamW, its LR schedule and gradient clipping for one run."""

    def __init__(self, accelerator: Accelerator, parameters: list[torch.nn.Parameter],
                 train: TrainConfig, steps_per_task: int, tasks: int):
        self.accelerator, self.parameters, self.train = accelerator, parameters, train
        self.steps_per_task, self.tasks = steps_per_task, tasks
        optimizer = torch.optim.AdamW(parameters, lr=train.lr, weight_decay=train.weight_decay)
        self.optimizer = accelerator.prepare_optimizer(optimizer)
        self.scheduler = self._new_schedule()
        # accelerate's save_state holds the optimizer; this object adds the schedule's position
        accelerator.register_for_checkpointing(self)

    def start_task(self) -> None:
        """With `reset_optimizer`, forget the moments and restart the schedule for a task."""
        if not self.train.reset_optimizer:
            return
        self.optimizer.optimizer.state.clear()
        for group in self.optimizer.param_groups:
            group["lr"] = group["initial_lr"] = self.train.lr
        self.scheduler = self._new_schedule()

    def _new_schedule(self) -> Any:
        """Over one task with `reset_optimizer`, else over the whole run."""
        from transformers import get_scheduler

        steps = self.steps_per_task * (1 if self.train.reset_optimizer else self.tasks)
        return get_scheduler(SCHEDULES[self.train.lr_schedule], self.optimizer,
                             num_warmup_steps=self.train.warmup_steps, num_training_steps=steps)

    @property
    def lr(self) -> float:
        """The learning rate the next step uses."""
        return float(self.optimizer.param_groups[0]["lr"])

    def step(self, measure_update: bool = False) -> StepOutcome:
        """Clip (when `max_grad_norm` is set), step, advance the schedule, clear gradients."""
        before = ([p.detach().clone() for p in self.parameters] if measure_update else None)
        max_norm = self.train.max_grad_norm
        grad_norm = float(self.accelerator.clip_grad_norm_(
            self.parameters, math.inf if max_norm is None else max_norm))
        lr = self.lr
        self.optimizer.step()
        stepped = not self.optimizer.step_was_skipped
        if stepped:
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        update = None if before is None else update_norm(self.parameters, before)
        return StepOutcome(grad_norm=grad_norm, lr=lr, stepped=stepped, update_norm=update)

    def skip(self) -> None:
        """Drop this step's gradients (a non-finite loss)."""
        self.optimizer.zero_grad(set_to_none=True)

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])


def update_norm(parameters: list[torch.nn.Parameter], before: list[torch.Tensor]) -> float:
    """||theta - theta_before||: the size of the weight update an optimizer step made."""
    squares = sum(((p.detach() - b) ** 2).sum() for p, b in zip(parameters, before, strict=True))
    return float(torch.sqrt(squares))
