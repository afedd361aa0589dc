"""The replay core: clock, memory tracker, samplers, schedulers, buffer intake and strategies.

numpy only: no torch, no files. It takes example ids, losses and step counts and returns the
ids to replay (docs/MSSR.md)."""

from mssr.replay.budget import match_budget, planned_replays, with_allowance
from mssr.replay.config import STRATEGY_NAMES, ReplayConfig
from mssr.replay.strategy import ReplayStrategy, build_strategy

__all__ = ["STRATEGY_NAMES", "ReplayConfig", "ReplayStrategy", "build_strategy",
           "match_budget", "planned_replays", "with_allowance"]
