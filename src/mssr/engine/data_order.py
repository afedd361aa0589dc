"""The order current-task examples are drawn in: a pure function of (seed, task, position), so a
resumed run continues the exact same stream (no sampler state to rebuild); each step's global
batch, and the share of it each process trains."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mssr.replay.strategy import ReplayStrategy


def stream_indices(seed: int, task_index: int, num_examples: int, start: int,
                   count: int) -> np.ndarray:
    """Indices at positions [start, start + count) of the task's endless stream of epochs, each
    epoch a fresh permutation seeded by (seed, task, epoch)."""
    positions = np.arange(start, start + count)
    epochs = positions // num_examples
    result = np.empty(count, dtype=np.int64)
    for epoch in np.unique(epochs):
        permutation = np.random.default_rng([seed, task_index, int(epoch)]).permutation(
            num_examples)
        chosen = epochs == epoch
        result[chosen] = permutation[positions[chosen] % num_examples]
    return result


def step_ids(strategy: ReplayStrategy, step: int, batch_size: int, seed: int, task_index: int,
             task_ids: np.ndarray, cursor: int) -> tuple[np.ndarray, int]:
    """One optimizer step's global batch: the current task's next examples from its stream,
    then the replay ids the strategy plans (in place of current examples, or on top of them in
    `replay.mode: append`). Returns the ids and how many are the current task's."""
    replay_ids = strategy.plan(step, batch_size)
    current_count = strategy.current_count(batch_size, len(replay_ids))
    rows = stream_indices(seed, task_index, len(task_ids), cursor, current_count)
    return np.concatenate([task_ids[rows], replay_ids]).astype(np.int64), current_count


def local_micro_batches(batch_size: int, rank: int, world: int, parts: int) -> list[np.ndarray]:
    """Positions in a global batch that process `rank` of `world` trains, in `parts`
    micro-batches: every `world`-th example, then split in order."""
    return np.array_split(np.arange(rank, batch_size, world), parts)
