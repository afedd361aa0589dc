"""Strategies are registered specs: the facts the library asks come from the spec, and a new
strategy registered in one line runs through validation, budgets and the driver."""

from __future__ import annotations

import numpy as np
import pytest

from mssr.errors import ConfigError
from mssr.replay import STRATEGY_NAMES, ReplayConfig, StrategySpec, planned_replays, register
from mssr.replay.driver import ReplayDriver
from mssr.replay.registry import SPECS, spec_for
from mssr.replay.schedulers import EveryStep, FixedInterval, MemorySchedule, Scheduler


def test_the_facts_come_from_the_specs():
    assert STRATEGY_NAMES == tuple(SPECS)
    assert [name for name in STRATEGY_NAMES if spec_for(name).memory] == [
        "mssr", "mssr-sampler", "mssr-every-step", "mssr-scheduler", "adaptive"]
    assert [name for name in STRATEGY_NAMES if spec_for(name).adaptive_spend] == [
        "loss", "accuracy"]
    assert [name for name in STRATEGY_NAMES if not spec_for(name).replays] == ["none"]
    forever = spec_for("forever")
    assert forever.anchors and forever.needs_update_norm and not forever.shardable
    assert issubclass(spec_for("mssr").schedule, MemorySchedule)


def test_an_unknown_name_lists_the_registered_ones():
    with pytest.raises(ConfigError, match="valid: none, uniform") as error:
        spec_for("nosuch")
    assert error.value.field == "replay.strategy"
    with pytest.raises(ValueError, match="registered twice"):
        register(StrategySpec("uniform", EveryStep))


@pytest.fixture
def registered():
    """A strategy registered for one test: the memory sampler on a fixed interval, named anew."""
    spec = register(StrategySpec("fixed-memory", FixedInterval, memory_sampler=True))
    yield spec
    del SPECS[spec.name]


def test_a_strategy_registered_in_one_line_validates_plans_matches_and_runs(registered):
    config = ReplayConfig(strategy="fixed-memory")
    config.validate()
    assert planned_replays(config, 100, 8) == planned_replays(
        ReplayConfig(strategy="mssr-sampler"), 100, 8)
    tasks = [task * 1000 + np.arange(40) for task in range(3)]
    driver = ReplayDriver(config, 30, tasks, steps_per_task=50, batch_size=8, seed=0)
    assert driver.config.budget_per_task == 30 and driver.spec is registered
    while not driver.finished:
        driver.begin_step()
        plan = driver.plan_step()
        driver.finish_step(plan, [1] * len(plan.ids), plan.ids, np.ones(len(plan.ids)))
        if driver.task_done:
            driver.end_task([0.0])
    assert 0 < driver.progress.ledger.replayed_examples <= 60
    assert len(driver.progress.memory_snapshots) == 3  # a memory sampler: its model is recorded


def test_a_schedule_kind_without_a_planned_spend_is_not_a_budget_reference():
    class Whenever(Scheduler):
        adaptive = True

    assert Whenever.planned_spend(ReplayConfig(), 10, 8) is None


def test_only_mssr_schedule_kinds_read_the_law():
    assert [name for name in STRATEGY_NAMES if spec_for(name).reads_schedule_law] == [
        "mssr", "mssr-scheduler"]
    assert spec_for("adaptive").memory  # its buffer's memory model is recorded, as mssr's
