"""Evaluation never changes training state: eval mode and no gradients, restored afterwards."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def inference(model: Any) -> Iterator[None]:
    """Eval mode without gradients; afterwards every submodule gets back its own train/eval
    flag, even on error. `no_grad` rather than `inference_mode`: buffers a model builds lazily
    during evaluation must stay usable by training."""
    import torch

    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training
