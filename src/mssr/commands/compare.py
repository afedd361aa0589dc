"""`mssr compare`: runs side by side, grouped by strategy, budgets beside the scores."""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from mssr.errors import MSSRError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare finished runs: AP, BWT, FWT, forgetting, normalised score "
        "and replay spent",
        description="Print markdown tables across the runs (mean ± std over seeds of each "
        "strategy; each task's final score) and write comparison.md and comparison.png. With a "
        "reference (--reference, or a joint run among the runs), each run's average normalised "
        "score too.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="run directories holding results.json (glob patterns allowed)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where comparison.md and comparison.png go "
                        "(default: the runs' common parent directory)")
    parser.add_argument("--reference", nargs="+", metavar="REF_DIR", default=None,
                        help="runs whose final scores normalise every run's (a joint run, or "
                        "single-task fine-tuning runs; glob patterns allowed); default: the "
                        "joint runs among RUN_DIR")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.report import compare_runs

    reference = expand_run_dirs(args.reference) if args.reference else None
    print(compare_runs(expand_run_dirs(args.run_dirs), output_dir=args.output,
                       reference_dirs=reference))
    return 0


def expand_run_dirs(patterns: list[str]) -> list[Path]:
    """Each pattern's matches in sorted order (a plain path stands for itself), without
    duplicates; a pattern matching nothing is an error naming it."""
    run_dirs: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise MSSRError(f"{pattern}: matches no run directory")
        run_dirs += [Path(match) for match in matches if Path(match) not in run_dirs]
    return run_dirs
