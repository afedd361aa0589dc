"""Which buffered examples to replay (docs/MSSR.md section 2): uniform, or by forgetting risk."""

from __future__ import annotations

import numpy as np

from mssr.replay.config import SamplerConfig
from mssr.replay.tracker import MemoryTracker


def gumbel_top_k(log_weights: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k indices drawn without replacement with probabilities proportional to exp(log_weights)
    (the Gumbel top-k trick: the k largest of log_weights + Gumbel noise)."""
    keys = log_weights + rng.gumbel(size=len(log_weights))
    if k >= len(keys):
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k - 1)[:k]
    return top[np.argsort(-keys[top], kind="stable")]


class UniformSampler:
    """Every buffered example equally likely (classic experience replay)."""

    def probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        return np.full(len(tracker), 1.0 / len(tracker))

    def sample(self, tracker: MemoryTracker, clock: float, count: int,
               rng: np.random.Generator) -> np.ndarray:
        rows = rng.choice(len(tracker), size=count, replace=False)
        return tracker.ids[rows]


class MemorySampler:
    """p_i = (1 - eps) softmax((1 - R_i) / T) + eps / N: the examples most at risk first."""

    def __init__(self, config: SamplerConfig):
        self.temperature = config.temperature
        self.epsilon = config.epsilon

    def log_probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        risk = 1.0 - tracker.retention(clock)
        logits = risk / self.temperature
        logits -= logits.max()
        softmax = np.exp(logits)
        softmax *= (1.0 - self.epsilon) / softmax.sum()
        softmax += self.epsilon / len(softmax)
        return np.log(softmax)

    def probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        return np.exp(self.log_probabilities(tracker, clock))

    def sample(self, tracker: MemoryTracker, clock: float, count: int,
               rng: np.random.Generator) -> np.ndarray:
        rows = gumbel_top_k(self.log_probabilities(tracker, clock), count, rng)
        return tracker.ids[rows]
