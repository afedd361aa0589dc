"""MIR's measurement (Aljundi et al., NeurIPS 2019, "Online Continual Learning with Maximally
Interfered Retrieval"): each candidate's loss at the current weights and after a virtual step on
the current-task examples. The replay driver picks from these numbers (`ReplayDriver.choose`);
nothing here decides. The engine's recipe and the Trainer/TRL integrations both call it."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import torch

from mssr.data.formatting import IGNORE_INDEX
from mssr.losses import per_example_mean, token_losses

Batch = dict[str, torch.Tensor]  # collated input_ids, attention_mask, labels on the device


def virtual_step_losses(model: torch.nn.Module, parameters: list[torch.nn.Parameter], lr: float,
                        current: list[Batch], candidates: list[Batch],
                        autocast: Callable[[], contextlib.AbstractContextManager] =
                        contextlib.nullcontext) -> tuple[torch.Tensor, torch.Tensor]:
    """(loss before, loss after) of every candidate in `candidates`' order: its mean
    response-token loss at the current weights, then after the virtual step
    theta' = theta - lr * grad L_current(theta), L_current the mean response-token loss of the
    `current` examples (MIR's look-ahead: one plain SGD step at the step's LR, no clipping).
    Candidates are scored in eval mode (a measurement: no dropout), the virtual gradient is
    taken in train mode, as the real step's. The weights, any gradients they held and the
    model's mode are restored after. Costs one forward and backward pass over `current` and
    two forward passes over `candidates`."""
    training = model.training
    held = [p.grad for p in parameters]
    saved = [p.detach().clone() for p in parameters]
    try:
        before = _losses(model, candidates, autocast)
        for p in parameters:
            p.grad = None
        model.train()
        tokens = max(sum(int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
                         for batch in current), 1)
        for batch in current:
            with autocast():
                logits = model(input_ids=batch["input_ids"],
                               attention_mask=batch.get("attention_mask")).logits
            token_loss, _ = token_losses(logits, batch["labels"])
            (token_loss.sum() / tokens).backward()
        with torch.no_grad():
            for p in parameters:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-lr)
        after = _losses(model, candidates, autocast)
    finally:
        with torch.no_grad():
            for p, weights, grad in zip(parameters, saved, held, strict=True):
                p.copy_(weights)
                p.grad = grad
        model.train(training)
    return before, after


def _losses(model: torch.nn.Module, batches: list[Batch],
            autocast: Callable[[], contextlib.AbstractContextManager]) -> torch.Tensor:
    model.eval()
    losses = []
    with torch.no_grad():
        for batch in batches:
            with autocast():
                logits = model(input_ids=batch["input_ids"],
                               attention_mask=batch.get("attention_mask")).logits
            losses.append(per_example_mean(*token_losses(logits, batch["labels"])))
    return torch.cat(losses).float()
