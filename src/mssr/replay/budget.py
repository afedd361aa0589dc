"""Replay budgets: what a strategy's schedule spends per task, strategies set to spend a given
amount, and the replay config a run actually runs (`resolve`). How a budget is matched is
each schedule kind's own method (replay/schedulers.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

from mssr.replay.config import ReplayConfig
from mssr.replay.registry import SPECS, spec_for
from mssr.typed_config import require


def validate_replay_budget(budget: int | str | None, replay: ReplayConfig,
                           steps_per_task: int) -> None:
    """`replay_budget` is None, a number >= 0, or 'match:STRATEGY' with a strategy whose spend
    its schedule fixes; it excludes `replay.budget_per_task`. A drift law that probes no later
    than each task's first step could never spend a budget (that first probe only sets
    references). ConfigErrors name the field."""
    schedule = replay.schedule
    if spec_for(replay.strategy).reads_schedule_law and schedule.law == "drift":
        require(schedule.drift_every < steps_per_task, "replay.schedule.drift_every",
                f"{schedule.drift_every} is not below the {steps_per_task} steps per task: "
                "only each task's first step would probe, which sets the references and never "
                "sees a drop, so the drift law could not spend its budget")
    require(budget is None or (isinstance(budget, int) and not isinstance(budget, bool)
                               and budget >= 0) or
            (isinstance(budget, str) and budget.startswith("match:")), "replay_budget",
            f"{budget!r} is neither a number >= 0 nor 'match:STRATEGY'")
    if budget is not None:
        require(replay.budget_per_task is None, "replay.budget_per_task",
                "replay_budget sets the cap per task; set only one of the two")
    if isinstance(budget, str):
        reference = budget.split(":", 1)[1]
        planned = [name for name, spec in SPECS.items() if not spec.adaptive_spend]
        require(reference in SPECS, "replay_budget",
                f"unknown strategy {reference!r}; choose match:{' | match:'.join(planned)}")
        require(reference in planned, "replay_budget",
                f"{reference!r} adapts its spend during the run, so it cannot be a budget "
                f"reference; choose match:{' | match:'.join(planned)}")


def planned_replays(config: ReplayConfig, steps_per_task: int, batch_size: int) -> int | None:
    """Replayed examples per task the schedule spends with a full buffer (after the first
    task), capped by `budget_per_task`; None for the strategies whose spend adapts to the run.
    A retention-driven schedule is allotted what the geometric law with the same constants
    would spend (`with_allowance` makes that its cap). Model time (forever) is planned at a
    constant update size, so a model day is S steps."""
    total = spec_for(config.strategy).schedule.planned_spend(config, steps_per_task, batch_size)
    if total is not None and config.budget_per_task is not None:
        total = min(total, config.budget_per_task)
    return total


def with_allowance(config: ReplayConfig, steps_per_task: int, batch_size: int) -> ReplayConfig:
    """A schedule that adapts to the run but is accounted at a planned spend gets that spend
    as `budget_per_task` when it has no cap, so it spends at most what it is accounted to
    spend; every other config is returned as is."""
    if (config.budget_per_task is not None
            or not spec_for(config.strategy).schedule.needs_allowance(config)):
        return config
    return dataclasses.replace(config, budget_per_task=planned_replays(config, steps_per_task,
                                                                       batch_size))


def match_budget(config: ReplayConfig, budget: int, steps_per_task: int,
                 batch_size: int) -> ReplayConfig:
    """A copy that spends about `budget` examples per task, set by the strategy's schedule kind
    (every-step schedules: the share of every batch; fixed intervals: the closest interval;
    model time: the closest share per event; MSSR's schedules: their volume scaled, event
    times kept), with `budget_per_task = budget` as a hard cap for every strategy."""
    schedule = spec_for(config.strategy).schedule
    matched = schedule.match_budget(config, budget, steps_per_task, batch_size)
    return dataclasses.replace(matched, budget_per_task=budget)


def resolve(replay: ReplayConfig, budget: int | str | None, steps_per_task: int,
            batch_size: int, joint: bool = False) -> tuple[ReplayConfig, dict[str, Any]]:
    """(the replay config a run runs, the budget record for results.json): joint training
    replays nothing; a budget sets the strategy's knobs to spend what the reference spends."""
    if joint:
        return dataclasses.replace(replay, strategy="none"), {"mode": "joint", "per_task": 0}
    if budget is None:
        return with_allowance(replay, steps_per_task, batch_size), {
            "mode": "unmatched", "per_task": planned_replays(replay, steps_per_task,
                                                             batch_size)}
    if isinstance(budget, str):
        # validate_replay_budget admits only references with a planned spend
        reference = dataclasses.replace(replay, strategy=budget.split(":", 1)[1])
        per_task = planned_replays(reference, steps_per_task, batch_size)
    else:
        per_task = budget
    if not spec_for(replay.strategy).replays:
        return replay, {"mode": str(budget), "per_task": 0}
    return (match_budget(replay, per_task, steps_per_task, batch_size),
            {"mode": str(budget), "per_task": per_task})
