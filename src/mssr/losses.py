"""Per-example losses from one forward pass (see DESIGN.md's pitfalls on causal-LM losses)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mssr.data.formatting import IGNORE_INDEX


def token_losses(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Shifted per-token cross-entropy (B, L-1) and the mask of response tokens."""
    shifted_logits = logits[:, :-1].float()
    shifted_labels = labels[:, 1:]
    mask = shifted_labels != IGNORE_INDEX
    losses = F.cross_entropy(shifted_logits.transpose(1, 2), shifted_labels.clamp(min=0),
                             reduction="none")
    return losses * mask, mask


def per_example_mean(losses: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean response-token loss of each example (token count clamped at 1)."""
    return losses.sum(dim=1) / mask.sum(dim=1).clamp(min=1)


def response_exact(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Per example: did greedy next-token prediction get every response token right?"""
    predictions = logits[:, :-1].argmax(dim=-1)
    shifted_labels = labels[:, 1:]
    mask = shifted_labels != IGNORE_INDEX
    return ((predictions == shifted_labels) | ~mask).all(dim=1)
