"""The compute ledger: what a run spent, kept identically on every process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass


@dataclass
class ComputeLedger:
    optimizer_steps: int = 0
    new_examples: int = 0
    new_tokens: int = 0
    replayed_examples: int = 0
    replayed_tokens: int = 0
    method_eval_tokens: int = 0
    replay_events: int = 0
    skipped_nonfinite_steps: int = 0
    skipped_lines: int = 0
    truncated_examples: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    wall_seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ComputeLedger:
        return cls(**data)


def count_batch(ledger: dict, current_tokens: Sequence[int], replayed_tokens: Sequence[int]
                ) -> None:
    """Add one step's examples to `ledger` (a `ComputeLedger` as a dict), given each current-task
    and each replayed example's token count."""
    ledger["new_examples"] += len(current_tokens)
    ledger["new_tokens"] += int(sum(current_tokens))
    ledger["replayed_examples"] += len(replayed_tokens)
    ledger["replayed_tokens"] += int(sum(replayed_tokens))
