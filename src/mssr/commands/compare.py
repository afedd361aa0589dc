"""`mssr compare`: runs side by side, grouped by strategy, budgets beside the scores."""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

from mssr.errors import MSSRError


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare finished runs: AP, BWT, FWT, forgetting and replay spent",
        description="Print one markdown table across the runs (mean ± std over seeds of each "
        "strategy) and write comparison.md and comparison.png.")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="run directories holding results.json (glob patterns allowed)")
    parser.add_argument("--output", type=Path, default=None,
                        help="where comparison.md and comparison.png go "
                        "(default: the runs' common parent directory)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.report import compare_runs

    print(compare_runs(expand_run_dirs(args.run_dirs), output_dir=args.output))
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
