"""The L2 anchor of FOREVER (docs/MSSR.md, section FOREVER): a copy theta* of the trainable
weights taken at each task's start (the previous task's end), and the penalty
weight * ||theta - theta*||^2 the engine adds to a step's loss. No forward pass is involved."""

from __future__ import annotations

import torch


class WeightAnchor:
    """theta* for a strategy that `anchors`; holds nothing (and costs nothing) otherwise."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.reference: list[torch.Tensor] | None = None

    def start_task(self, params: list[torch.nn.Parameter]) -> None:
        """Keep the weights the new task starts from (the previous task's final weights)."""
        if self.enabled:
            self.reference = [param.detach().clone() for param in params]

    def penalty(self, params: list[torch.nn.Parameter], weight: float) -> torch.Tensor | float:
        """weight * sum ||theta - theta*||^2 over the trainable weights; 0.0 when the weight is
        0 or no task has started yet."""
        if weight == 0 or self.reference is None:
            return 0.0
        squares = sum(((param - reference.to(param.device)) ** 2).sum()
                      for param, reference in zip(params, self.reference, strict=True))
        return weight * squares

    def state_dict(self) -> dict:
        return {"reference": self.reference}

    def load_state_dict(self, state: dict | None) -> None:
        """Restore theta*; checkpoints load on the CPU, the penalty moves it to the weights."""
        self.reference = None if state is None else state["reference"]
