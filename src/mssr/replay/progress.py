"""Where a continual run stands (`Progress`) and what it spent (`ComputeLedger`): plain data,
saved in every checkpoint and reported in results.json, kept identically on every process."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any


@dataclasses.dataclass
class ComputeLedger:
    """The compute a run spent (results.json's `compute`)."""

    optimizer_steps: int = 0
    new_examples: int = 0
    new_tokens: int = 0
    replayed_examples: int = 0
    replayed_tokens: int = 0
    method_eval_tokens: int = 0  # forward-only tokens of the method's own decisions
    method_train_tokens: int = 0  # forward+backward tokens beside the trained batch (MIR)
    target_tokens: int = 0  # replay.targets: self: the task-end answers' prompts + generated
    replay_events: int = 0
    skipped_nonfinite_steps: int = 0
    skipped_lines: int = 0
    truncated_examples: int = 0
    train_seconds: float = 0.0
    eval_seconds: float = 0.0
    target_seconds: float = 0.0  # replay.targets: self: the task-end answering's time
    wall_seconds: float = 0.0

    def count_batch(self, current_tokens: Sequence[int], replayed_tokens: Sequence[int]) -> None:
        """Add one step's examples, given each current-task and each replayed example's
        token count."""
        self.new_examples += len(current_tokens)
        self.new_tokens += int(sum(current_tokens))
        self.replayed_examples += len(replayed_tokens)
        self.replayed_tokens += int(sum(replayed_tokens))

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Progress:
    """Where the run stands: the task (index into the sequence) and the step within it, the
    current task's stream position (`cursor`), the scores so far, and the replay record;
    with `replay.targets: self`, each task end's answering (`replay_targets`) and the accepted
    answers that replace buffered examples' targets (`self_targets`, [id, answer] pairs)."""

    task: int = 0
    task_step: int = 0
    global_step: int = 0
    cursor: int = 0
    nonfinite_streak: int = 0
    base_scores: list[float | None] | None = None
    acc_rows: list[list[float | None]] = dataclasses.field(default_factory=list)
    task_boundaries: list[int] = dataclasses.field(default_factory=list)
    replay_timeline: list[dict] = dataclasses.field(default_factory=list)
    memory_snapshots: list[dict] = dataclasses.field(default_factory=list)
    buffer_learned: list[dict] = dataclasses.field(default_factory=list)
    replay_targets: list[dict] = dataclasses.field(default_factory=list)
    self_targets: list[list] = dataclasses.field(default_factory=list)  # [id, answer] pairs
    ledger: ComputeLedger = dataclasses.field(default_factory=ComputeLedger)

    def state_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Progress:
        """The progress `state_dict` saved (also by versions that said "phase" for task)."""
        state = {LEGACY_NAMES.get(key, key): value for key, value in state.items()}
        return cls(**{**state, "ledger": ComputeLedger(**state["ledger"])})


LEGACY_NAMES = {"phase": "task", "phase_step": "task_step"}
