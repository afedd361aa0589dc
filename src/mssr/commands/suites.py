"""`mssr suites`: the built-in suites, their orders and tasks; `--write DIR` writes their JSONL."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("suites", help="list the built-in task suites or write them")
    parser.add_argument("--write", metavar="DIR", help="write the suite's JSONL files under DIR")
    parser.add_argument("--suite", help="only this suite, with each task's source and licence "
                        "(default: every suite; --write: default)")
    parser.add_argument("--order", help="only this order of the suite (--write: its tasks in "
                        "that order; default: default)")
    parser.add_argument("--seed", type=int, default=0, help="generation seed (default: 0)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mssr.data.suites import check_suite, list_suites, materialize
    from mssr.run_config import SuiteConfig
    from mssr.typed_config import from_mapping

    chosen = {"name": args.suite or "default", **({"order": args.order} if args.order else {})}
    suite = from_mapping(SuiteConfig, chosen, "suite")
    check_suite(suite)  # unknown names list the valid ones
    if args.write:
        for task in materialize(suite, Path(args.write), args.seed):
            print(f"{task.name:20s} {task.train}  {task.eval}")
        return 0
    for info in list_suites():
        if args.suite and info.name != suite.name:
            continue
        print(f"suite {info.name}: {info.description} "
              f"({info.train_examples or 'every shipped'} train / {info.eval_examples} eval "
              "examples per task)")
        for name, order in info.orders.items():
            if not args.order or name == suite.order:
                print(f"  order {name}: {' '.join(order)}")
        for name, task in info.tasks.items():
            print(f"  {name:20s} {task.format:16s} {task.scorer:16s} {task.description}")
            if args.suite is not None:
                print(f"  {'':20s} source: {task.source}" +
                      (f"; licence: {task.licence}" if task.licence else ""))
    return 0
