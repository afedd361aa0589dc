"""Replay budgets: what a schedule spends per task, and baselines set to spend a given amount."""

from __future__ import annotations

import dataclasses

from mssr.replay.config import STRATEGY_NAMES, ReplayConfig, ScheduleConfig
from mssr.replay.model_time import ModelTimeSchedule
from mssr.replay.schedulers import EveryStep, FixedInterval
from mssr.replay.strategy import REGISTRY, max_replay
from mssr.typed_config import require

ADAPTIVE = ("loss", "accuracy")  # their spend depends on the run, not only on the schedule
RETENTION_DRIVEN = ("mssr", "mssr-scheduler")  # with schedule.law 'retention'


def validate_replay_budget(budget: int | str | None, replay: ReplayConfig) -> None:
    """`replay_budget` is None, a number >= 0, or 'match:STRATEGY' with a strategy whose spend
    its schedule fixes; it excludes `replay.budget_per_task`. ConfigErrors name the field."""
    require(budget is None or (isinstance(budget, int) and not isinstance(budget, bool)
                               and budget >= 0) or
            (isinstance(budget, str) and budget.startswith("match:")), "replay_budget",
            f"{budget!r} is neither a number >= 0 nor 'match:STRATEGY'")
    if budget is not None:
        require(replay.budget_per_task is None, "replay.budget_per_task",
                "replay_budget sets the cap per task; set only one of the two")
    if isinstance(budget, str):
        reference = budget.split(":", 1)[1]
        fixed = [name for name in STRATEGY_NAMES if name not in ADAPTIVE]
        require(reference in STRATEGY_NAMES, "replay_budget",
                f"unknown strategy {reference!r}; choose match:{' | match:'.join(fixed)}")
        require(reference in fixed, "replay_budget",
                f"{reference!r} adapts its spend during the run, so it cannot be a budget "
                f"reference; choose match:{' | match:'.join(fixed)}")


def planned_replays(config: ReplayConfig, steps_per_task: int, batch_size: int) -> int | None:
    """Replayed examples per task the schedule spends with a full buffer (after the first
    task), capped by `budget_per_task`; None for the adaptive strategies. A retention-driven
    schedule is allotted what the geometric law with the same constants would spend
    (`with_allowance` makes that its cap). Model time (forever) is planned at a
    constant update size, so a model day is S steps."""
    if config.strategy in ADAPTIVE:
        return None
    if retention_driven(config):
        geometric = dataclasses.replace(config.schedule, law="geometric")
        config = dataclasses.replace(config, schedule=geometric)
    scheduler = REGISTRY[config.strategy][0](config)
    scheduler.start_task(0)
    total = 0
    for step in range(steps_per_task):
        count, _ = scheduler.replay_count(step, batch_size)
        total += min(count, max_replay(config, batch_size))
        if isinstance(scheduler, ModelTimeSchedule):
            scheduler.observe_update(1.0)
    if config.budget_per_task is not None:
        total = min(total, config.budget_per_task)
    return total


def retention_driven(config: ReplayConfig) -> bool:
    return config.strategy in RETENTION_DRIVEN and config.schedule.law == "retention"


def with_allowance(config: ReplayConfig, steps_per_task: int, batch_size: int) -> ReplayConfig:
    """A retention-driven schedule with no cap gets its planned allowance as `budget_per_task`,
    so it spends at most what it is accounted to spend; every other config is returned as is."""
    if not retention_driven(config) or config.budget_per_task is not None:
        return config
    return dataclasses.replace(config, budget_per_task=planned_replays(config, steps_per_task,
                                                                       batch_size))


def match_budget(config: ReplayConfig, budget: int, steps_per_task: int,
                 batch_size: int) -> ReplayConfig:
    """A copy that spends about `budget` examples per task, set by the kind of schedule the
    strategy runs (REGISTRY): every-step schedules (uniform, mssr-every-step) get the share of
    every batch that adds up to it, fixed-interval schedules the interval that comes closest,
    forever the share per event that comes closest on its planned days; every strategy gets
    `budget_per_task = budget` as a hard cap; MSSR's schedules keep their event times and scale
    their volume (`_scaled_volume`)."""
    baseline = config.baseline
    scheduler = REGISTRY[config.strategy][0](config)
    if isinstance(scheduler, EveryStep):
        share = budget / (steps_per_task * batch_size)
        baseline = dataclasses.replace(baseline, ratio=min(1.0, share))
    elif isinstance(scheduler, FixedInterval):
        def spend(interval: int) -> int:
            trial = dataclasses.replace(config, budget_per_task=None, baseline=dataclasses.replace(
                baseline, interval=interval))
            return planned_replays(trial, steps_per_task, batch_size)

        best = min(range(1, steps_per_task + 1), key=lambda i: (abs(spend(i) - budget), -i))
        baseline = dataclasses.replace(baseline, interval=best)
    elif isinstance(scheduler, ModelTimeSchedule):
        def spend_at(per_batch: int) -> int:
            trial = dataclasses.replace(config, budget_per_task=None, baseline=dataclasses.replace(
                baseline, ratio=per_batch / batch_size))
            return planned_replays(trial, steps_per_task, batch_size)

        best = min(range(batch_size), key=lambda count: (abs(spend_at(count) - budget), count))
        baseline = dataclasses.replace(baseline, ratio=best / batch_size)
    elif config.strategy in RETENTION_DRIVEN:
        config = dataclasses.replace(config, schedule=_scaled_volume(config, budget,
                                                                     steps_per_task, batch_size))
    return dataclasses.replace(config, baseline=baseline, budget_per_task=budget)


def _scaled_volume(config: ReplayConfig, budget: int, steps_per_task: int,
                   batch_size: int) -> ScheduleConfig:
    """MSSR's schedule with its events' shares (r0 and r_min) scaled by one factor, so that it
    spends about `budget` per task with its event times and decay shape kept; when shares of
    the whole batch are not enough, events last more batches (`window` doubles)."""
    schedule = config.schedule

    def scaled(factor: float, window: int) -> ScheduleConfig:
        return dataclasses.replace(schedule, window=window,
                                   initial_ratio=min(1.0, schedule.initial_ratio * factor),
                                   min_ratio=min(1.0, schedule.min_ratio * factor))

    def spend(factor: float, window: int) -> int:
        trial = dataclasses.replace(config, schedule=scaled(factor, window), budget_per_task=None)
        return planned_replays(trial, steps_per_task, batch_size)

    if schedule.initial_ratio == 0 or spend(1.0, schedule.window) == budget:
        return schedule
    saturating = 1.0 / (schedule.min_ratio or schedule.initial_ratio)  # every share at 1
    window = schedule.window
    while spend(saturating, window) < budget and window < steps_per_task:
        window = min(2 * window, steps_per_task)
    low, high = 0.0, saturating
    for _ in range(40):  # the smallest factor that spends at least the budget
        middle = (low + high) / 2
        low, high = (middle, high) if spend(middle, window) < budget else (low, middle)
    return scaled(min((low, high), key=lambda f: abs(spend(f, window) - budget)), window)
