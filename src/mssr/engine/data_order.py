"""The share of each step's global batch that each process trains (the batch itself, and the
order current-task examples are drawn in, are the replay driver's: replay/driver.py)."""

from __future__ import annotations

import numpy as np


def local_micro_batches(batch_size: int, rank: int, world: int, parts: int) -> list[np.ndarray]:
    """Positions in a global batch that process `rank` of `world` trains, in `parts`
    micro-batches: every `world`-th example, then split in order."""
    return np.array_split(np.arange(rank, batch_size, world), parts)
