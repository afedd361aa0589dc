"""Summed log-likelihoods of continuations after their prompts, in right-padded batches: the
quantity both multiple-choice scoring and the response loss are built from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mssr.data.formatting import Encoded, collate
from mssr.evaluation.generation import pad_token_id


@dataclass(frozen=True)
class ContinuationLogliks:
    """Per sequence: summed log-probability of its continuation tokens and how many there
    were; `tokens` counts every input token processed."""

    logliks: list[float]
    counts: list[int]
    tokens: int


def continuation_logliks(model: Any, tokenizer: Any, sequences: list[Encoded], *,
                         batch_size: int) -> ContinuationLogliks:
    """Score the label tokens of each sequence (prompt tokens masked with IGNORE_INDEX), with
    the engine's own token losses so evaluation and training agree."""
    logliks: list[float] = []
    counts: list[int] = []
    for start in range(0, len(sequences), batch_size):
        chunk_logliks, chunk_counts = _score_batch(model, sequences[start:start + batch_size],
                                                   pad_token_id(tokenizer))
        logliks += chunk_logliks
        counts += chunk_counts
    return ContinuationLogliks(logliks=logliks, counts=counts,
                               tokens=sum(len(item.input_ids) for item in sequences))


def _score_batch(model: Any, batch: list[Encoded], pad: int) -> tuple[list[float], list[int]]:
    from mssr.losses import token_losses  # torch only when a model is scored

    tensors = {key: value.to(model.device) for key, value in collate(batch, pad).items()}
    logits = model(input_ids=tensors["input_ids"], attention_mask=tensors["attention_mask"]).logits
    losses, mask = token_losses(logits, tensors["labels"])
    return (-losses.sum(dim=1)).tolist(), mask.sum(dim=1).tolist()
