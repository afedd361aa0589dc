"""The replay core: clock, memory tracker, samplers, schedulers, buffer intake, strategies and
the driver that runs them step by step.

numpy only: no torch, no files. It takes example ids, losses and step counts and returns the
ids to replay (docs/MSSR.md)."""

from mssr.replay.budget import match_budget, planned_replays, resolve, with_allowance
from mssr.replay.config import ReplayConfig
from mssr.replay.registry import STRATEGY_NAMES, StrategySpec, build_strategy, register, spec_for
from mssr.replay.strategy import ReplayStrategy

__all__ = ["STRATEGY_NAMES", "ReplayConfig", "ReplayStrategy", "StrategySpec", "build_strategy",
           "match_budget", "planned_replays", "register", "resolve", "spec_for",
           "with_allowance"]
