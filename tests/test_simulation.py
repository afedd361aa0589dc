"""`mssr simulate`: every strategy runs through the synthetic world at one budget."""

from __future__ import annotations

import argparse

from mssr.commands import simulate as simulate_command
from mssr.replay import STRATEGY_NAMES
from mssr.simulation import format_table, simulate


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
