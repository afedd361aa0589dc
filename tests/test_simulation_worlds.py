"""The `takeover` world behaves as the frontier runs do: a task's format is overwritten early in
the next task, a few replays bring it back, and never-learned examples keep a high loss."""

from __future__ import annotations

import argparse

import numpy as np

from mssr.commands import simulate as simulate_command
from mssr.simulation_worlds import ID_STRIDE, TakeoverLaw, TakeoverWorld

LAW = TakeoverLaw(takeover=0.1, takeover_steps=10.0, drift=0.0, recovery=0.3, unlearned=0.2)


def trained_first_task(steps: int = 100) -> tuple[TakeoverWorld, np.random.Generator]:
    rng = np.random.default_rng(0)
    world = TakeoverWorld.create(tasks=2, examples=50, rng=rng, law=LAW)
    world.start_task(0, 0)
    for step in range(steps):
        world.train(np.arange(8), step, rng)
    return world, rng


def test_the_next_task_takes_the_format_over_in_its_first_steps():
    world, rng = trained_first_task()
    assert world.format[0] > 0.99
    world.start_task(1, 100)
    formats = []
    for step in range(100, 200):
        world.train(ID_STRIDE + np.arange(8), step, rng)
        formats.append(world.format[0])
    lost = 1 - np.array(formats)
    assert lost[19] > 0.75 * lost[-1]  # most of the loss comes in the first 20 steps
    assert formats[-1] < 0.5


def test_a_few_replays_bring_the_format_back():
    world, rng = trained_first_task()
    world.start_task(1, 100)
    for step in range(100, 130):
        world.train(ID_STRIDE + np.arange(8), step, rng)
    before = world.format[0]
    world.train(np.concatenate([ID_STRIDE + np.arange(6), np.arange(2)]), 130, rng)
    assert world.format[0] - before > 0.4 * (1 - before)  # two replays: 1 - 0.7^2 of the gap


def test_never_learned_examples_keep_a_high_loss_and_score_zero():
    world, rng = trained_first_task()
    losses = world.train(np.arange(50), 100, rng)
    learned = world.learned[0]
    assert 0 < (~learned).sum() < 50
    assert losses[~learned].min() > losses[learned].max()
    assert (world.retention(100)[0][~learned] == 0).all()


def test_the_command_runs_the_takeover_world(capsys):
    parser = argparse.ArgumentParser()
    simulate_command.register(parser.add_subparsers())
    args = parser.parse_args(["simulate", "--world", "takeover", "--tasks", "3",
                              "--steps-per-task", "40", "--arm", "uniform=uniform",
                              "--arm", "none=none"])
    assert args.handler(args) == 0
    out = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.splitlines()
            if line.startswith("| uniform") or line.startswith("| none")}
    assert float(rows["uniform"][7]) > float(rows["none"][7])  # true AP: replay keeps more
