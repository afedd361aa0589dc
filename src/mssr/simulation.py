"""A replay simulation with no model: does a strategy replay the examples that are really being
forgotten, and how much does it keep per replayed example?

A synthetic world (simulation_worlds.py: `exponential`, per-example forgetting with spaced
reviews; `takeover`, a task's answer format overwritten early in the next task, as the
frontier runs show) hides every example's true state and answers each trained batch with the
losses a trainer would observe: the only window on the truth a real trainer has. Each task's
examples are trained on during their task, then only through replay. The memory model never
sees the world's law: how far its predicted retention is from the true one
(`prediction_error`) says how well it, and its calibration, track forgetting. Every arm (a
strategy, optionally with replay config overrides) runs through the same world with the same
seed and budget, driven step by step by the replay driver as a trainer drives it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mssr.errors import ConfigError
from mssr.replay import STRATEGY_NAMES, ReplayStrategy, planned_replays
from mssr.replay.config import ReplayConfig
from mssr.replay.driver import ReplayDriver
from mssr.replay.registry import spec_for
from mssr.simulation_worlds import ID_STRIDE, WORLDS
from mssr.typed_config import apply_overrides, from_mapping, to_mapping

UPDATE_SIZE = 1.0  # no model moves here: every update is as large (forever's model time = steps)
PAPER_LAWS = ("sampler.law=inverse_strength", "memory.loss_norm=ema_quantile",
              "schedule.law=sequence")
LAW_ARMS = (  # `mssr simulate --laws`: today's laws, the paper's, calibration, retention schedule
    ("none", "none", ()), ("uniform", "uniform", ()), ("fixed", "fixed", ()),
    ("mssr", "mssr", ()), ("mssr-sampler", "mssr-sampler", ()),
    ("mssr paper-laws", "mssr", PAPER_LAWS),
    ("mssr calibrated", "mssr", ("memory.calibrate=global",)),
    ("mssr paper-laws calibrated", "mssr", (*PAPER_LAWS, "memory.calibrate=global")),
    ("mssr saturating", "mssr", ("schedule.law=saturating",)),
    ("mssr retention", "mssr", ("schedule.law=retention",)),
    ("mssr retention calibrated", "mssr", ("schedule.law=retention",
                                           "memory.calibrate=global")),
    ("mssr-sampler calibrated", "mssr-sampler", ("memory.calibrate=global",)),
    ("mssr append", "mssr", ("mode=append",)),
)


@dataclass(frozen=True)
class Arm:
    """One row of a simulation: a label, a strategy and `replay.`-relative overrides."""

    label: str
    strategy: str
    overrides: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Arm:
        """'LABEL=STRATEGY [key=value ...]', e.g. 'paper=mssr sampler.law=inverse_strength'."""
        head, *overrides = text.split()
        label, _, strategy = head.partition("=")
        return cls(label, strategy or label, tuple(overrides))

    def config(self, base: ReplayConfig) -> ReplayConfig:
        data = apply_overrides(to_mapping(base), [*self.overrides, f"strategy={self.strategy}"])
        return from_mapping(ReplayConfig, data, prefix="replay")


@dataclass
class SimulationResult:
    strategy: str  # the arm's label
    replays: bool  # whether the arm's strategy replays at all (the baseline does not)
    replayed_examples: int
    replay_events: int
    probe_tokens: int
    mean_retention: float  # the buffer's true retention at the end
    final_score: float  # mean over tasks of their examples' true retention: the world's AP
    spearman: float | None  # predicted vs loss-observed retention of replayed examples
    calibration_error: float | None  # their mean absolute difference
    decay_scale: float  # the fitted scale (1.0 when calibration is off)
    prediction_error: float | None  # mean |true - predicted retention| of the buffer at task ends
    timeline: list[int]  # replayed examples at every step


def simulate_strategy(config: ReplayConfig, tasks: int, steps_per_task: int, batch_size: int,
                      examples_per_task: int, seed: int, budget: int | None = None,
                      label: str | None = None,
                      world: str | Callable[..., Any] = "exponential") -> SimulationResult:
    """Run one strategy (at `budget` replays per task, if given) through a fresh world built
    from `seed` (`world`: a name in WORLDS, or a `create(tasks, examples, rng)` of one), driven
    step by step as a trainer drives it (replay/driver.py)."""
    if config.targets != "stored":
        raise ConfigError("replay.targets", "the simulation has no model to answer the buffered "
                          "prompts: simulate with stored targets")
    if spec_for(config.strategy).reads_schedule_law and config.schedule.law == "drift":
        raise ConfigError("replay.schedule.law", "'drift' probes by greedily decoding buffered "
                          "prompts, and the simulation has no model to decode with: simulate "
                          "another law (e.g. retention)")
    world_rng, train_rng = np.random.default_rng([seed, 0]), np.random.default_rng([seed, 1])
    create = WORLDS[world].create if isinstance(world, str) else world
    truth = create(tasks, examples_per_task, world_rng)
    driver = ReplayDriver(config, budget, [task * ID_STRIDE + np.arange(examples_per_task)
                                           for task in range(tasks)],
                          steps_per_task, batch_size, seed)
    strategy, progress = driver.strategy, driver.progress
    timeline, errors = [], []
    while not driver.finished:
        step = progress.global_step
        if driver.begin_step():
            truth.start_task(progress.task, step)
        probe = driver.probe_ids()
        if probe is not None:
            probe_task, probe_row = np.divmod(probe, ID_STRIDE)
            recalled = truth.retention(step)[probe_task, probe_row] > 0.5
            driver.report_probe(probe, recalled.astype(np.float64), tokens=32 * len(probe))
        plan = driver.plan_step()
        if plan.candidates is not None:  # MIR: the look-ahead is one step of the world's decay
            plan = driver.choose(plan, truth.expected_loss(plan.candidates, step),
                                 truth.expected_loss(plan.candidates, step + 1),
                                 train_tokens=32 * len(plan.ids),
                                 eval_tokens=2 * 32 * len(plan.candidates))
        losses = truth.train(plan.ids, step, train_rng)
        driver.finish_step(plan, [32] * len(plan.ids), plan.ids, losses,
                           update_norm=UPDATE_SIZE)
        timeline.append(plan.replayed)
        if driver.task_done:
            if len(strategy.tracker):
                errors.append(np.abs(true_retention(truth, strategy, step + 1)
                                     - strategy.tracker.retention(strategy.clock.value)).mean())
            driver.end_task([])
    step = progress.global_step
    calibration = strategy.calibration_record()
    return SimulationResult(label or config.strategy, driver.spec.replays,
                            strategy.stats["replayed_examples"],
                            strategy.stats["replay_events"], strategy.stats["probe_tokens"],
                            float(true_retention(truth, strategy, step).mean()),
                            float(truth.retention(step).mean(axis=1).mean()),
                            calibration["spearman"], calibration["mean_abs_error"],
                            float(np.mean(calibration["decay_scale"])),
                            float(np.mean(errors)) if errors else None, timeline)


def true_retention(truth, strategy: ReplayStrategy, step: int) -> np.ndarray:
    """The world's retention of every buffered example, in buffer order."""
    task, row = np.divmod(strategy.buffer_ids, ID_STRIDE)
    return truth.retention(step)[task, row]


def simulate(strategies: tuple[str, ...] = STRATEGY_NAMES, tasks: int = 5,
             steps_per_task: int = 300, batch_size: int = 16, examples_per_task: int = 200,
             per_task_buffer: int = 50, budget: int | str = "match:mssr",
             seed: int = 0, arms: tuple[Arm, ...] | None = None,
             world: str = "exponential") -> tuple[list[SimulationResult], int]:
    """Every arm (by default one per strategy in `strategies`) at the same replay budget in
    the same `world`; returns the results and the budget per task."""
    base = ReplayConfig()
    base = dataclasses.replace(base, buffer=dataclasses.replace(base.buffer,
                                                                per_task=per_task_buffer))
    if isinstance(budget, str):
        reference = dataclasses.replace(base, strategy=budget.split(":", 1)[1])
        budget = planned_replays(reference, steps_per_task, batch_size)
    results = [simulate_strategy(arm.config(base), tasks, steps_per_task, batch_size,
                                 examples_per_task, seed, budget, arm.label, world)
               for arm in arms or tuple(Arm(name, name) for name in strategies)]
    return results, budget


def format_table(results: list[SimulationResult], budget: int) -> str:
    """A markdown table: replays spent and the true retention they kept."""
    baseline = next((r.mean_retention for r in results if not r.replays), None)
    lines = [f"Replay budget: {budget} examples per task (after the first).", "",
             "| strategy | replayed | events | probe tokens | mean true retention | "
             "gain per 100 replays | true AP | calibration Spearman | calibration error | "
             "decay scale | error vs true retention |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        gain = ("" if baseline is None or r.replayed_examples == 0 else
                f"{100 * (r.mean_retention - baseline) / r.replayed_examples:+.4f}")
        spearman = "" if r.spearman is None else f"{r.spearman:+.3f}"
        error = "" if r.calibration_error is None else f"{r.calibration_error:.3f}"
        truth = "" if r.prediction_error is None else f"{r.prediction_error:.3f}"
        lines.append(f"| {r.strategy} | {r.replayed_examples} | {r.replay_events} | "
                     f"{r.probe_tokens} | {r.mean_retention:.4f} | {gain} | "
                     f"{r.final_score:.4f} | {spearman} | "
                     f"{error} | {r.decay_scale:.3f} | {truth} |")
    return "\n".join(lines)


def plot_timelines(results: list[SimulationResult], steps_per_task: int, path: str) -> None:
    """One row per strategy: replayed examples per step, task boundaries dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(len(results), 1, figsize=(10, 1.3 * len(results) + 0.8),
                                sharex=True, squeeze=False)
    for axis, result in zip(axes[:, 0], results, strict=True):
        steps = np.arange(len(result.timeline))
        axis.bar(steps, result.timeline, width=1.0, color="tab:blue")
        for boundary in range(0, len(result.timeline), steps_per_task):
            axis.axvline(boundary, color="grey", linestyle="--", linewidth=0.8)
        axis.set_ylabel(result.strategy, rotation=0, ha="right", va="center")
        axis.set_title(f"{result.replayed_examples} replayed, {result.replay_events} events, "
                       f"true retention {result.mean_retention:.3f}", fontsize=8, loc="right")
    axes[-1, 0].set_xlabel("optimizer step (dashed: task boundaries)")
    figure.suptitle("Replayed examples per step")
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
