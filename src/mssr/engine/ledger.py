"""The compute ledger: what a run spent, kept identically on every process."""

from __future__ import annotations

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
