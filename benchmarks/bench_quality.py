"""The budget-matched quality benchmark: every strategy on the built-in suite, several seeds
and task orders, all at MSSR's replay budget, through the same engine.

    python benchmarks/bench_quality.py [--orders default] [--seeds 0 1 2] [--tasks 11]
        [--strategies none uniform ...] [--output runs/quality] [--jobs N] [key=value ...]

Finished runs are reused (and killed ones resumed), so the benchmark can be run in pieces.
`--jobs N` runs N trainings at once in worker processes, each with its share of the CPU threads.
Prints, per order, the comparison table (AP, BWT, FWT, forgetting, replayed examples, the
method's evaluation tokens, wall time) and the suite's sanity numbers: each task's score after
its own training and the BWT of sequential fine-tuning without replay.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mssr.commands.run import strategy_overrides
from mssr.engine.launch import execute_all
from mssr.paths import CONFIGS_DIR
from mssr.replay import STRATEGY_NAMES
from mssr.report import compare_runs, load_results
from mssr.run_config import load_config

ALL_STRATEGIES = (*STRATEGY_NAMES, "joint")


def sanity(run_dirs: dict[str, list[Path]]) -> str:
    """Does the suite test continual learning? Diagonal scores, no-replay BWT, joint AP."""
    lines = []
    for run_dir in run_dirs.get("none", []):
        results = load_results(run_dir)
        matrix = results["acc_matrix"]
        diagonal = [matrix[j][j] for j in range(len(matrix))]
        lines.append(f"- none, seed {results['seed']}: A[j][j] = "
                     + ", ".join(f"{task} {score:.2f}"
                                 for task, score in zip(results["tasks"], diagonal, strict=True))
                     + f"; {sum(d >= 0.6 for d in diagonal)}/{len(diagonal)} tasks >= 0.6; "
                     f"BWT {results['metrics']['bwt']:+.3f}")
    joint = [load_results(d)["metrics"]["ap"] for d in run_dirs.get("joint", [])]
    if joint:
        lines.append(f"- joint (upper bound): AP {np.mean(joint):.3f}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=CONFIGS_DIR / "demo.yaml",
                        help="base settings (default: the demo's, with every task of the order)")
    parser.add_argument("--orders", nargs="+", default=["default"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--tasks", type=int, help="first N tasks of each order (default: all)")
    parser.add_argument("--strategies", nargs="+", default=list(ALL_STRATEGIES))
    parser.add_argument("--output", type=Path, default=Path("runs/quality"))
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once")
    parser.add_argument("overrides", nargs="*", metavar="key=value")
    args = parser.parse_args()
    for order in args.orders:
        runs = []
        for seed in args.seeds:
            for strategy in args.strategies:
                overrides = [*args.overrides, *strategy_overrides(strategy), f"seed={seed}",
                             f"suite.order={order}",
                             f"output={args.output}/{order}/{{strategy}}-seed{{seed}}",
                             f"suite.num_tasks={args.tasks or 'null'}"]
                runs.append((strategy, load_config(args.config, overrides)))
        print(f"== order {order}: {len(runs)} runs, {args.jobs} at a time", flush=True)
        run_dirs: dict[str, list[Path]] = {}
        for (strategy, _), run_dir in zip(runs, execute_all([c for _, c in runs], args.jobs),
                                          strict=True):
            run_dirs.setdefault(strategy, []).append(run_dir)
        table = compare_runs([d for dirs in run_dirs.values() for d in dirs],
                             output_dir=args.output / order)
        print(f"\n### Order `{order}`, seeds {args.seeds}\n\n{table}\n\nSuite sanity:\n"
              f"{sanity(run_dirs)}\n")


if __name__ == "__main__":
    main()
