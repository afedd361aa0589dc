"""The order current-task examples are drawn in: a pure function of (seed, task, position), so a
resumed run continues the exact same stream (no sampler state to rebuild)."""

from __future__ import annotations

import numpy as np


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
