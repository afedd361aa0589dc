"""`mssr bench replay`: the replay core's per-step and per-event cost."""

from __future__ import annotations

import argparse
import json

DEFAULT_SIZES = (10**4, 10**5, 10**6)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("bench", help="measure the replay core's overhead")
    benches = parser.add_subparsers(dest="bench", required=True, metavar="BENCH")
    replay = benches.add_parser(
        "replay", help="review of a batch of 64 and a replay event, per buffer size")
    replay.add_argument("--buffer", type=int, action="append",
                        help="buffer size (repeatable; default 1e4, 1e5, 1e6)")
    replay.add_argument("--repeats", type=int, default=50)
    replay.add_argument("--json", action="store_true", help="one JSON object per line")
    replay.set_defaults(handler=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    from mssr.replay.benchmark import measure_replay_cost

    rows = [measure_replay_cost(size, repeats=args.repeats)
            for size in (args.buffer or DEFAULT_SIZES)]
    if args.json:
        for row in rows:
            print(json.dumps(row))
        return 0
    print("| buffer | review of 64 (ms) | replay event, draw 64 (ms) |\n|---:|---:|---:|")
    for row in rows:
        print(f"| {row['buffer_size']:,} | {row['review_ms']:.4f} | {row['event_ms']:.3f} |")
    return 0
