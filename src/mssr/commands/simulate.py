"""`mssr simulate`: every replay strategy on synthetic examples with a known forgetting law."""

from __future__ import annotations

import argparse
import dataclasses
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "simulate", help="replay strategies on synthetic examples, no model",
        description="Runs every strategy (or the given arms) at the same replay budget in a "
        "world whose true forgetting is known, and prints replays spent, the true retention "
        "kept, and how well the memory model's predictions tracked forgetting.")
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--steps-per-task", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--examples-per-task", type=int, default=200)
    parser.add_argument("--buffer-per-task", type=int, default=50)
    parser.add_argument("--budget", default="match:mssr",
                        help="replayed examples per task, or match:STRATEGY (default)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--world", choices=("exponential", "takeover"), default="exponential",
                        help="the hidden forgetting law: per-example exponential forgetting, "
                        "or a task's format taken over early in the next task with some "
                        "examples never learned (fitted to the frontier runs)")
    parser.add_argument("--arm", action="append", metavar="'LABEL=STRATEGY [KEY=VALUE ...]'",
                        help="a row: a strategy with replay config overrides, e.g. "
                        "'paper=mssr sampler.law=inverse_strength' (repeatable)")
    parser.add_argument("--laws", action="store_true",
                        help="compare today's laws, the paper's laws, calibration and the "
                        "retention schedule (a preset list of arms)")
    parser.add_argument("--plot", help="write a PNG of each strategy's replay timeline")
    parser.add_argument("--json", action="store_true", help="one JSON object per strategy")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.simulation import LAW_ARMS, Arm, format_table, plot_timelines, simulate

    budget = int(args.budget) if args.budget.isdigit() else args.budget
    arms = [Arm(*arm) for arm in LAW_ARMS] if args.laws else []
    arms += [Arm.parse(text) for text in args.arm or ()]
    results, budget = simulate(tasks=args.tasks, steps_per_task=args.steps_per_task,
                               batch_size=args.batch_size,
                               examples_per_task=args.examples_per_task,
                               per_task_buffer=args.buffer_per_task, budget=budget,
                               seed=args.seed, arms=tuple(arms) or None, world=args.world)
    if args.json:
        for result in results:
            row = {k: v for k, v in dataclasses.asdict(result).items() if k != "timeline"}
            print(json.dumps({**row, "budget_per_task": budget}))
    else:
        print(format_table(results, budget))
    if args.plot:
        plot_timelines(results, args.steps_per_task, args.plot)
        print(f"timeline plot: {args.plot}")
    return 0
