"""`mssr suites`: the built-in suites, their orders and tasks; `--write DIR` writes their JSONL."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("suites", help="list the built-in task suites or write them")
    parser.add_argument("--write", metavar="DIR", help="write the suite's JSONL files under DIR")
    parser.add_argument("--suite", help="list (or write) this suite only, with each task's "
                        "source and licence (--write: default)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mssr.data.suites import list_suites, materialize
    from mssr.errors import ConfigError
    from mssr.run_config import SuiteConfig

    if args.write:
        suite_config = SuiteConfig(name=args.suite or "default")
        for task in materialize(suite_config, Path(args.write), args.seed):
            print(f"{task.name:20s} {task.train}  {task.eval}")
        return 0
    suites = list_suites()
    if args.suite is not None:
        suites = [suite for suite in suites if suite.name == args.suite]
        if not suites:
            raise ConfigError("--suite", f"unknown suite {args.suite!r}; valid suites are: "
                              f"{', '.join(suite.name for suite in list_suites())}")
    for suite in suites:
        print(f"suite {suite.name}: {suite.description} "
              f"({suite.train_examples} train / {suite.eval_examples} eval examples per task)")
        for name, order in suite.orders.items():
            print(f"  order {name}: {' '.join(order)}")
        for name, task in suite.tasks.items():
            print(f"  {name:20s} {task.format:16s} {task.scorer:16s} {task.description}")
            if args.suite is not None:
                print(f"  {'':20s} source: {task.source}" +
                      (f"; licence: {task.licence}" if task.licence else ""))
    return 0
