"""What the replay core costs a training step: a review of one batch, and a replay event
(retention + weights + a draw from the whole buffer), as medians over repeats."""

from __future__ import annotations

import statistics
import time

import numpy as np

from mssr.replay.config import MemoryConfig, SamplerConfig
from mssr.replay.samplers import MemorySampler
from mssr.replay.tracker import MemoryTracker


def measure_replay_cost(buffer_size: int, batch_size: int = 64, repeats: int = 50,
                        seed: int = 0) -> dict[str, float]:
    """{'buffer_size', 'review_ms', 'event_ms'} for a full buffer of `buffer_size` examples."""
    rng = np.random.default_rng(seed)
    tracker = MemoryTracker(MemoryConfig(), capacity=buffer_size)
    ids = rng.permutation(buffer_size * 4)[:buffer_size].astype(np.int64)
    tracker.insert(ids, rng.gamma(2.0, 0.5, buffer_size), task=0, clock=0.0)
    sampler = MemorySampler(SamplerConfig())
    review_times, event_times = [], []
    for repeat in range(repeats):
        clock = 10.0 + repeat
        batch = rng.choice(ids, batch_size, replace=False)
        losses = rng.gamma(2.0, 0.5, batch_size)
        started = time.perf_counter()
        tracker.review(batch, losses, clock)
        review_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        sampler.sample(tracker, clock, batch_size, rng)
        event_times.append(time.perf_counter() - started)
    return {"buffer_size": buffer_size,
            "review_ms": round(1e3 * statistics.median(review_times), 4),
            "event_ms": round(1e3 * statistics.median(event_times), 3)}
