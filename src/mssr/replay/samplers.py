"""Which buffered examples to replay (docs/MSSR.md section 2): uniform, or by forgetting risk
under one of two laws (`replay.sampler.law`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from mssr.replay.tracker import MemoryTracker

if TYPE_CHECKING:
    from mssr.replay.config import SamplerConfig


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

    def log_probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        return np.full(len(tracker), -np.log(len(tracker)))

    def sample(self, tracker: MemoryTracker, clock: float, count: int,
               rng: np.random.Generator) -> np.ndarray:
        rows = rng.choice(len(tracker), size=count, replace=False)
        return tracker.ids[rows]


class WeightedSampler:
    """Draws without replacement by the log-probabilities a memory law gives each example."""

    def log_probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        raise NotImplementedError

    def probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        return np.exp(self.log_probabilities(tracker, clock))

    def sample(self, tracker: MemoryTracker, clock: float, count: int,
               rng: np.random.Generator) -> np.ndarray:
        rows = gumbel_top_k(self.log_probabilities(tracker, clock), count, rng)
        return tracker.ids[rows]


class MemorySampler(WeightedSampler):
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


class InverseStrengthSampler(WeightedSampler):
    """p_i proportional to max(R_i, floor)^-zeta: the paper's law (docs/MSSR.md), the floor keeping
    long-forgotten examples finite."""

    def __init__(self, config: SamplerConfig):
        self.zeta = config.zeta
        self.log_floor = float(np.log(config.retention_floor))

    def log_probabilities(self, tracker: MemoryTracker, clock: float) -> np.ndarray:
        with np.errstate(divide="ignore"):  # log(0) from underflow is floored just below
            log_retention = np.maximum(np.log(tracker.retention(clock)), self.log_floor)
        logits = -self.zeta * log_retention
        logits -= logits.max()
        return logits - np.log(np.exp(logits).sum())


def pooled(log_probabilities: np.ndarray, unlearned: np.ndarray, share: float) -> np.ndarray:
    """Log-weights that give the never-learned examples (`unlearned`) `share` of the draw,
    uniformly among them, and the learned ones the rest, in the sampler's proportions
    (`risk: forgetting`). A pool that is empty leaves the other the whole draw."""
    weights = np.exp(log_probabilities - log_probabilities.max())
    learned_total, unlearned_count = weights[~unlearned].sum(), int(unlearned.sum())
    if learned_total == 0 or unlearned_count == 0:
        return np.log(weights)
    weights = np.where(unlearned, share / unlearned_count, (1.0 - share) * weights / learned_total)
    with np.errstate(divide="ignore"):
        return np.log(weights)


def memory_sampler(config: SamplerConfig) -> WeightedSampler:
    """The memory sampler `config.law` names."""
    return InverseStrengthSampler(config) if config.law == "inverse_strength" else (
        MemorySampler(config))


def most_interfered(candidates: np.ndarray, loss_before: np.ndarray, loss_after: np.ndarray,
                    count: int) -> np.ndarray:
    """MIR's pick (Aljundi et al., NeurIPS 2019): the `count` candidates whose loss a virtual
    step on the current batch raises most, rise_i = loss_after_i - loss_before_i, largest
    first. Ties keep the candidates' (uniform) draw order, so a virtual step that moves nothing
    (a warm-up step at LR 0) replays a uniform draw; a non-finite rise comes last."""
    rise = np.asarray(loss_after, np.float64) - np.asarray(loss_before, np.float64)
    if len(rise) != len(candidates):
        raise ValueError(f"{len(rise)} loss rises for {len(candidates)} candidates")
    order = np.argsort(np.where(np.isfinite(rise), -rise, np.inf), kind="stable")
    return np.asarray(candidates, np.int64)[order[:count]]
