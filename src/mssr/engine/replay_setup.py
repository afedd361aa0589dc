"""From the run config to the replay config actually run: joint trains without replay, and a
replay budget sets each baseline's ratio or interval to spend what the reference spends."""

from __future__ import annotations

import dataclasses
from typing import Any

from mssr.replay import match_budget, planned_replays, with_allowance
from mssr.replay.config import ReplayConfig
from mssr.run_config import RunConfig


def resolve_replay(config: RunConfig) -> tuple[ReplayConfig, dict[str, Any]]:
    """(the replay config to run, the budget record for results.json)."""
    steps, batch = config.train.steps_per_task, config.train.batch_size
    if config.joint:
        return dataclasses.replace(config.replay, strategy="none"), {"mode": "joint",
                                                                     "per_task": 0}
    budget = config.replay_budget
    if budget is None:
        return with_allowance(config.replay, steps, batch), {
            "mode": "unmatched", "per_task": planned_replays(config.replay, steps, batch)}
    if isinstance(budget, str):
        reference = budget.split(":", 1)[1]
        # validate_replay_budget (at config load) admits only references with a planned spend
        per_task = planned_replays(dataclasses.replace(config.replay, strategy=reference),
                                   steps, batch)
    else:
        per_task = budget
    if config.replay.strategy == "none":
        return config.replay, {"mode": str(budget), "per_task": 0}
    return (match_budget(config.replay, per_task, steps, batch),
            {"mode": str(budget), "per_task": per_task})
