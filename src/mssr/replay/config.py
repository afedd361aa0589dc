"""The replay configuration: one typed object that names a strategy and every constant of
docs/MSSR.md (section numbers below refer to it). Defaults are the documented ones."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal

from mssr.replay.registry import SPECS, STRATEGY_NAMES
from mssr.typed_config import Section, help_field, require


@dataclass
class ClockConfig(Section):
    """Section 1: the interference clock U(t)."""

    mode: Literal["steps", "loss", "update"] = help_field(
        "steps", "u(s): 'steps' (u=1), 'loss' (task loss / its running mean), "
        "'update' (update norm / its running mean)")
    running_mean_decay: float = help_field(
        0.99, "EMA decay of the running mean that normalises u(s) in 'loss' and 'update' modes")

    def validate(self) -> None:
        require(0.0 <= self.running_mean_decay < 1.0, "running_mean_decay", "must be in [0, 1)")


@dataclass
class MemoryConfig(Section):
    """Section 2: per-example memory strength and retention."""

    kappa: float = help_field(1.0, "loss weight in the decay rate (1 + kappa * loss) / strength")
    alpha: float = help_field(1.0, "strength gain of a review")
    beta: float = help_field(1.0, "loss sensitivity of the gain and of the initial strength")
    gamma: float = help_field(0.5, "exponent on (1 - retention) in the gain: the spacing effect")
    alpha0: float = help_field(0.05, "strength gain every review gets")
    initial_strength: float = help_field(50.0, "S0: strength of a new example at zero loss")
    min_strength: float = help_field(1.0, "S_min: lower clip of strength (clock units)")
    max_strength: float = help_field(1e6, "S_max: upper clip of strength (clock units)")
    loss_norm: Literal["none", "ema_quantile"] = help_field(
        "none", "loss in the decay rate: 'none' (the last observed loss) or 'ema_quantile' "
        "(the example's loss EMA over a quantile of the buffer's loss EMAs; the paper's law)")
    loss_ema: float = help_field(0.5, "ema_quantile: EMA decay of each example's loss")
    loss_quantile: float = help_field(0.5, "ema_quantile: quantile of the buffer's loss EMAs")
    loss_floor: float = help_field(1e-3, "ema_quantile: floor of that quantile (near-zero losses)")
    calibrate: Literal["off", "global", "per_task"] = help_field(
        "off", "fit a decay scale c (R = exp(-c * rate * dU)) online from replayed examples' "
        "losses: one for the buffer ('global'), one per task ('per_task'), or none ('off')")
    calibration_prior: float = help_field(
        10.0, "weight of the prior c = 1, in observations of unit decay exponent")
    risk: Literal["loss", "forgetting"] = help_field(
        "loss", "what drives the memory law: the observed loss ('loss'), or the forgetting "
        "evidence, the rise of an example's loss over its loss when it was learned (at its "
        "last training in its own task), with never-learned examples in a capped pool "
        "('forgetting')")
    learned_loss: float = help_field(
        1.0, "an example whose loss at its task's end is above this was never learned")
    unlearned_share: float = help_field(
        0.1, "forgetting: the never-learned examples' share of the replay draw (their pool)")

    def validate(self) -> None:
        for name in ("kappa", "alpha", "beta", "gamma", "alpha0", "calibration_prior"):
            require(getattr(self, name) >= 0, name, "must be >= 0")
        require(self.initial_strength > 0, "initial_strength", "must be > 0")
        require(0 < self.min_strength <= self.max_strength, "min_strength",
                "must be > 0 and <= max_strength")
        require(0.0 <= self.loss_ema < 1.0, "loss_ema", "must be in [0, 1)")
        require(0.0 <= self.loss_quantile <= 1.0, "loss_quantile", "must be in [0, 1]")
        require(self.loss_floor > 0, "loss_floor", "must be > 0")
        require(self.learned_loss >= 0, "learned_loss", "must be >= 0")
        require(0.0 <= self.unlearned_share <= 1.0, "unlearned_share", "must be in [0, 1]")


@dataclass
class SamplerConfig(Section):
    """Section 2: replay weights from forgetting risk."""

    law: Literal["risk_softmax", "inverse_strength"] = help_field(
        "risk_softmax", "'risk_softmax': (1 - eps) softmax((1 - R) / T) + eps / N; "
        "'inverse_strength': p proportional to max(R, floor)^-zeta (the paper's law)")
    temperature: float = help_field(0.1, "risk_softmax: T, temperature over forgetting risk 1 - R")
    epsilon: float = help_field(0.05, "risk_softmax: eps, share of the uniform distribution")
    zeta: float = help_field(1.0, "inverse_strength: exponent zeta of R^-zeta")
    retention_floor: float = help_field(1e-6, "inverse_strength: R is floored here (underflow)")

    def validate(self) -> None:
        require(self.temperature > 0, "temperature", "must be > 0")
        require(0.0 <= self.epsilon <= 1.0, "epsilon", "must be in [0, 1]")
        require(self.zeta >= 0, "zeta", "must be >= 0")
        require(0.0 < self.retention_floor <= 1.0, "retention_floor", "must be in (0, 1]")


@dataclass
class ScheduleConfig(Section):
    """Section 3: MSSR's expanding replay intervals and decaying replay ratio."""

    law: Literal["geometric", "saturating", "sequence", "retention", "adaptive",
                 "drift"] = help_field(
        "geometric", "when events fall: 'geometric' (I0 rho^k, capped), 'saturating' (growth "
        "factor 1 + eta exp(-rate k) per event), 'sequence' (intervals x unit), 'retention' "
        "(when the buffer's predicted retention falls below retention_target), 'adaptive' "
        "(every step, an even trickle moved toward the steps where replayed examples show "
        "forgetting, spending exactly the task's budget), or 'drift' (every drift_every steps "
        "the model greedily answers a few buffered prompts of each past task; a task whose "
        "answers' first tokens match their targets less than when it was learned is replayed)")
    initial_interval: int = help_field(10, "I0: steps from a task's start to its first event")
    growth: float = help_field(1.5, "geometric: rho, interval growth factor")
    max_interval: int = help_field(500, "I_max: cap on the interval between events")
    saturation_eta: float = help_field(1.0, "saturating: eta of the factor 1 + eta exp(-rate k)")
    saturation_rate: float = help_field(0.5, "saturating: rate of the factor's decay to 1")
    intervals: list[int] = help_field(
        [1, 2, 4, 7, 15], "sequence: intervals in units; the last one repeats after the list")
    interval_unit: int = help_field(10, "sequence: steps per interval unit")
    retention_target: float = help_field(
        0.7, "retention: an event when the buffer's statistic falls below this")
    retention_quantile: float | None = help_field(
        None, "retention: watch this quantile of the buffer's predicted retention (e.g. 0.25) "
        "instead of its mean (null)")
    retention_cooldown: int = help_field(10, "retention: minimum steps between events")
    initial_ratio: float = help_field(0.5, "r0: replay share of the batch at the task's start")
    min_ratio: float = help_field(0.1, "r_min: floor of the replay share")
    ratio_decay_steps: float = help_field(200.0, "tau_r: time constant of the share's decay")
    window: int = help_field(4, "batches that an event's replay examples are spread over")
    adaptive_gain: float = help_field(
        1.0, "adaptive: how strongly the forgetting seen at a step of the task (its profile "
        "over the mean) moves that step's share of the budget (0: the even trickle)")
    adaptive_ema: float = help_field(
        0.5, "adaptive: EMA decay, across tasks, of the forgetting profile at each step")
    adaptive_range: list[float] = help_field(
        [0.25, 4.0], "adaptive: [low, high] bounds of the factor on the even share")
    drift_every: int = help_field(
        10, "drift: steps between probes, counted from each task's start (its first step "
        "probes); must be below the steps per task")
    drift_prompts: int = help_field(
        4, "drift: buffered prompts probed per past task (the same ones every probe: the "
        "task's first in the buffer)")
    drift_tokens: int = help_field(
        4, "drift: answer tokens greedily decoded per prompt and compared with the target's")
    drift_drop: float = help_field(
        0.1, "drift: replay a task when its token match rate falls more than this below its "
        "rate at its first probe after it ended")

    def validate(self) -> None:
        require(self.initial_interval >= 1, "initial_interval", "must be >= 1")
        require(self.growth >= 1.0, "growth", "must be >= 1")
        require(self.max_interval >= 1, "max_interval", "must be >= 1")
        require(self.saturation_eta >= 0, "saturation_eta", "must be >= 0")
        require(self.saturation_rate >= 0, "saturation_rate", "must be >= 0")
        require(len(self.intervals) >= 1 and min(self.intervals) >= 1, "intervals",
                "needs at least one interval, each >= 1")
        require(self.interval_unit >= 1, "interval_unit", "must be >= 1")
        require(0.0 < self.retention_target < 1.0, "retention_target", "must be in (0, 1)")
        require(self.retention_quantile is None or 0.0 <= self.retention_quantile <= 1.0,
                "retention_quantile", "must be in [0, 1] or null (the mean)")
        require(self.retention_cooldown >= 1, "retention_cooldown", "must be >= 1")
        require(0.0 <= self.min_ratio <= self.initial_ratio <= 1.0, "initial_ratio",
                "need 0 <= min_ratio <= initial_ratio <= 1")
        require(self.ratio_decay_steps > 0, "ratio_decay_steps", "must be > 0")
        require(self.window >= 1, "window", "must be >= 1")
        require(self.adaptive_gain >= 0, "adaptive_gain", "must be >= 0")
        require(0.0 <= self.adaptive_ema < 1.0, "adaptive_ema", "must be in [0, 1)")
        require(len(self.adaptive_range) == 2
                and 0 <= self.adaptive_range[0] <= 1 <= self.adaptive_range[1],
                "adaptive_range", "must be [low, high] with 0 <= low <= 1 <= high")
        for name in ("drift_every", "drift_prompts", "drift_tokens"):
            require(getattr(self, name) >= 1, name, "must be >= 1")
        require(0.0 <= self.drift_drop < 1.0, "drift_drop", "must be in [0, 1)")


@dataclass
class BaselineConfig(Section):
    """Section 4: the baselines' own knobs (budget matching may overwrite ratio/interval)."""

    ratio: float = help_field(
        0.25, "replay share of the batch for uniform, fixed, loss, accuracy, forever")
    interval: int = help_field(25, "fixed: steps between replay events")
    loss_ema: float = help_field(0.9, "loss: EMA decay of the training loss")
    loss_delta: float = help_field(0.1, "loss: event when the EMA rises this much above its min")
    loss_zscore: float = help_field(3.0, "loss: or when a step's loss is this many std above")
    cooldown: int = help_field(20, "loss, accuracy: minimum steps between events")
    probe_every: int = help_field(25, "accuracy: steps between probes")
    probe_size: int = help_field(32, "accuracy: buffered examples scored per probe")
    accuracy_delta: float = help_field(0.05, "accuracy: event when probe accuracy falls this much")

    def validate(self) -> None:
        require(0.0 <= self.ratio <= 1.0, "ratio", "must be in [0, 1]")
        for name in ("interval", "cooldown", "probe_every", "probe_size"):
            require(getattr(self, name) >= 1, name, "must be >= 1")
        require(0.0 <= self.loss_ema < 1.0, "loss_ema", "must be in [0, 1)")


@dataclass
class BufferConfig(Section):
    """The replay buffer: which finished-task examples are kept."""

    per_task: int = help_field(64, "examples kept from each finished task")

    def validate(self) -> None:
        require(self.per_task >= 1, "per_task", "must be >= 1")


@dataclass
class ForeverConfig(Section):
    """FOREVER (arXiv 2601.03938): replay at Ebbinghaus days of model time, with an L2 anchor
    to the previous task's weights (docs/MSSR.md, section FOREVER)."""

    calibration_updates: int = help_field(24, "S: a model day is the update size summed "
                                          "over each task's first S updates")
    days: list[float] = help_field([1.0, 2.0, 4.0, 7.0, 15.0, 30.0],
                                   "Ebbinghaus days d_j: replay when model time reaches d_j days")
    intensity_decay: float = help_field(0.95, "EMA decay of the update size mu_t")
    anchor_strength: float = help_field(1e-3, "beta_0 of the L2 anchor on replay steps")
    anchor_gamma: float = help_field(1.0, "gamma: how strongly update intensity scales beta")
    anchor_clip: list[float] = help_field([0.5, 3.0], "clip of 1 + gamma (r_t - 1)")

    def validate(self) -> None:
        require(self.calibration_updates >= 1, "calibration_updates", "must be >= 1")
        increasing = all(later > earlier for earlier, later in itertools.pairwise(self.days))
        require(bool(self.days) and self.days[0] > 0 and increasing, "days",
                "must be positive and increasing")
        require(0.0 <= self.intensity_decay < 1.0, "intensity_decay", "must be in [0, 1)")
        require(self.anchor_strength >= 0, "anchor_strength", "must be >= 0")
        require(len(self.anchor_clip) == 2 and 0 <= self.anchor_clip[0] <= self.anchor_clip[1],
                "anchor_clip", "must be [low, high] with 0 <= low <= high")


@dataclass
class MirConfig(Section):
    """MIR (Aljundi et al., NeurIPS 2019, "Online Continual Learning with Maximally Interfered
    Retrieval"): replay the buffered candidates whose loss a virtual step on the current batch
    raises most (docs/MSSR.md, section MIR)."""

    candidates: float = help_field(
        2.0, "candidates drawn uniformly from the buffer per replayed example: a multiple of "
        "the step's replay count, rounded up, at most the whole buffer")

    def validate(self) -> None:
        require(self.candidates >= 1.0, "candidates",
                "must be >= 1 (a multiple of the step's replay count)")


@dataclass
class ReplayConfig(Section):
    """Which replay strategy to run and all its constants."""

    strategy: str = help_field(
        "adaptive", "one of: " + ", ".join(STRATEGY_NAMES) + " ('adaptive', the default: "
        "uniform sampling on the adaptive schedule law, as round 3's pre-registered rule "
        "picked it; BENCHMARKS.md)")
    mode: Literal["replace", "append"] = help_field(
        "replace", "'replace': replayed examples take current-task slots of the batch; "
        "'append': they are added to a full batch of current-task examples")
    budget_per_task: int | None = help_field(
        None, "hard cap on replayed examples per task (None: no cap)")
    targets: Literal["stored", "self"] = help_field(
        "stored", "what a replayed example is trained to answer: 'stored' (its dataset "
        "response) or 'self' (at each task end the model answers the task's buffered prompts, "
        "greedily; an answer the task's scorer accepts becomes the example's target; OPR, "
        "arXiv 2605.29495). Multiple-choice tasks keep their stored choice")
    targets_rejected: Literal["stored", "drop"] = help_field(
        "stored", "targets: self: a buffered example whose answer the scorer rejects keeps its "
        "stored target ('stored') or leaves the buffer ('drop')")
    clock: ClockConfig = help_field(default_factory=ClockConfig)
    memory: MemoryConfig = help_field(default_factory=MemoryConfig)
    sampler: SamplerConfig = help_field(default_factory=SamplerConfig)
    schedule: ScheduleConfig = help_field(default_factory=ScheduleConfig)
    baseline: BaselineConfig = help_field(default_factory=BaselineConfig)
    buffer: BufferConfig = help_field(default_factory=BufferConfig)
    forever: ForeverConfig = help_field(default_factory=ForeverConfig)
    mir: MirConfig = help_field(default_factory=MirConfig)

    def validate(self) -> None:
        require(self.strategy in SPECS, "strategy",
                f"unknown strategy {self.strategy!r}; valid: {', '.join(SPECS)}")
        require(self.budget_per_task is None or self.budget_per_task >= 0, "budget_per_task",
                "must be >= 0 or null")
        require(self.schedule.law != "drift"
                or self.schedule.drift_prompts <= self.buffer.per_task, "schedule.drift_prompts",
                f"{self.schedule.drift_prompts} prompts per task, but the buffer keeps "
                f"{self.buffer.per_task} of each task (buffer.per_task)")

    def max_replay(self, batch_size: int) -> int:
        """Most buffered examples one batch may carry: all but one slot ('replace'), or as
        many as the batch's current-task examples ('append')."""
        return batch_size if self.mode == "append" else batch_size - 1

