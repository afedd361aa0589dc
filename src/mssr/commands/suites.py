"""`mssr suites`: the built-in suites, their orders and tasks; `--write DIR` writes their JSONL."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("suites", help="list the built-in task suites or write them")
    parser.add_argument("--write", metavar="DIR", help="write the suite's JSONL files under DIR")
    parser.add_argument("--suite", default="default", help="suite to write (default: default)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mssr.data.suites import list_suites, materialize
    from mssr.run_config import SuiteConfig

    if args.write:
        for task in materialize(SuiteConfig(name=args.suite), Path(args.write), args.seed):
            print(f"{task.name:20s} {task.train}  {task.eval}")
        return 0
    for suite in list_suites():
        print(f"suite {suite.name}: {suite.description} "
              f"({suite.train_examples} train / {suite.eval_examples} eval examples per task)")
        for name, order in suite.orders.items():
            print(f"  order {name}: {' '.join(order)}")
        for name, task in suite.tasks.items():
            print(f"  {name:20s} {task.format:16s} {task.scorer:16s} {task.description}")
    return 0
