"""`mssr simulate`: every strategy runs through the synthetic world at one budget."""

from __future__ import annotations

import argparse
import dataclasses

import pytest

from mssr.commands import simulate as simulate_command
from mssr.errors import ConfigError
from mssr.replay import STRATEGY_NAMES, ReplayConfig
from mssr.simulation import LAW_ARMS, Arm, format_table, simulate, simulate_strategy


def test_every_strategy_runs_at_the_matched_budget():
    results, budget = simulate(tasks=3, steps_per_task=60, examples_per_task=40,
                               per_task_buffer=10, seed=1)
    assert [r.strategy for r in results] == list(STRATEGY_NAMES)
    by_name = {r.strategy: r for r in results}
    assert by_name["none"].replayed_examples == 0
    for result in results:
        assert result.replayed_examples <= 2 * budget  # tasks 2 and 3 replay, capped per task
        assert len(result.timeline) == 180 and sum(result.timeline) == result.replayed_examples
        assert 0.0 <= result.mean_retention <= 1.0
    # replay keeps more of what is really being forgotten than no replay at all
    assert by_name["mssr"].mean_retention > by_name["none"].mean_retention
    table = format_table(results, budget)
    assert all(f"| {name} |" in table for name in STRATEGY_NAMES)


def test_the_simulation_is_reproducible():
    first, _ = simulate(strategies=("mssr",), tasks=2, steps_per_task=40, seed=3)
    second, _ = simulate(strategies=("mssr",), tasks=2, steps_per_task=40, seed=3)
    assert first == second


def test_command_prints_the_table_and_writes_the_plot(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    simulate_command.register(parser.add_subparsers())
    plot = tmp_path / "timeline.png"
    args = parser.parse_args(["simulate", "--tasks", "2", "--steps-per-task", "40",
                              "--plot", str(plot)])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert "| mssr |" in out and "mean true retention" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calibration_brings_predicted_retention_to_the_worlds_true_retention():
    """The memory model's prior forgets far faster than the synthetic world (which strengthens
    examples through their own task's training); fitting the decay scale from replayed
    examples' losses must close most of that gap, and in the right direction (scale < 1)."""
    arms = (Arm("today", "mssr-sampler"),
            Arm("calibrated", "mssr-sampler", ("memory.calibrate=global",)),
            Arm("per task", "mssr-sampler", ("memory.calibrate=per_task",)))
    results, _ = simulate(tasks=3, steps_per_task=150, examples_per_task=100, per_task_buffer=30,
                          seed=0, arms=arms)
    today, calibrated, per_task = results
    assert today.decay_scale == 1.0 and calibrated.decay_scale < 0.5
    assert calibrated.prediction_error < 0.5 * today.prediction_error
    assert per_task.prediction_error < 0.5 * today.prediction_error
    assert calibrated.calibration_error < 0.5 * today.calibration_error
    assert today.spearman > 0.2  # predicted and observed forgetting agree in rank


def test_arms_parse_and_the_law_preset_runs_through_the_command(capsys):
    arm = Arm.parse("paper=mssr sampler.law=inverse_strength schedule.law=sequence")
    assert arm == Arm("paper", "mssr", ("sampler.law=inverse_strength", "schedule.law=sequence"))
    config = arm.config(ReplayConfig())
    assert (config.strategy, config.sampler.law, config.schedule.law) == (
        "mssr", "inverse_strength", "sequence")
    assert Arm.parse("uniform") == Arm("uniform", "uniform")
    with pytest.raises(ConfigError, match="replay.sampler.law"):
        Arm.parse("bad=mssr sampler.law=magic").config(ReplayConfig())
    parser = argparse.ArgumentParser()
    simulate_command.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", "--tasks", "2", "--steps-per-task", "40", "--laws",
                              "--arm", "q25=mssr schedule.law=retention "
                              "schedule.retention_quantile=0.25"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    assert all(f"| {label} |" in out for label, _, _ in LAW_ARMS) and "| q25 |" in out
    assert "calibration Spearman" in out and "error vs true retention" in out


@pytest.mark.parametrize("budget", [30, None])
def test_the_adaptive_strategy_is_uniform_sampling_on_the_adaptive_law(budget):
    """The shipped default `adaptive` replays exactly what `mssr-scheduler` does on
    `schedule.law: adaptive` (the arm round 3's rule chose), with a budget and without one
    (then both are allotted the geometric law's planned spend)."""
    base = ReplayConfig()
    by_law = dataclasses.replace(base, strategy="mssr-scheduler", schedule=dataclasses.replace(
        base.schedule, law="adaptive"))
    runs = [simulate_strategy(config, tasks=3, steps_per_task=60, batch_size=16,
                              examples_per_task=40, seed=2, budget=budget, label="x")
            for config in (dataclasses.replace(base, strategy="adaptive"), by_law)]
    assert runs[0] == runs[1]
    assert runs[0].replayed_examples > 0
