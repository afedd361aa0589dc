"""`mssr sequences`: the ready task sequences (configs/sequences/), their orders and tasks."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sequences", help="list the ready task sequences, their orders, tasks and sizes",
        description="Ready sequences run with `mssr run --sequence NAME[:ORDER]`.")
    parser.add_argument("name", nargs="?", help="show only this sequence")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.data.sequences import load_sequence, sequence_names

    for name in [args.name] if args.name else sequence_names():
        sequence = load_sequence(name)
        print(f"sequence {name}: {sequence.description}")
        for order, tasks in sequence.orders.items():
            print(f"  order {order} ({len(tasks)} tasks): {' '.join(tasks)}")
        if sequence.probes:
            print(f"  probes (scored, not trained; not run by the engine yet): "
                  f"{' '.join(sequence.probes)}")
        for task_name, task in sequence.tasks.items():
            print(f"  {task_name:14s} {task.scorer:15s} train {_size(task.max_train_examples):>6s}"
                  f"  eval {_size(task.max_eval_examples):>5s}  {task.train}"
                  + (f" {task.where}" if task.where else ""))
    return 0


def _size(limit: int | None) -> str:
    return "all" if limit is None else str(limit)
