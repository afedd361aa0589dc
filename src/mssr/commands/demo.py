"""`mssr demo`: the whole story on a laptop CPU. The bundled model learns five built-in tasks
one after another without replay, with classic replay and with the shipped default at the
same replay budget; the comparison table and the reports show what was forgotten and what
replay kept."""

from __future__ import annotations

import argparse

DEMO_STRATEGIES = ("none", "uniform", "adaptive")  # the shipped default: configs/demo.yaml


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the quick demo: forgetting, and replay fixing it",
                                   description=__doc__)
    parser.add_argument("--strategies", nargs="+", default=list(DEMO_STRATEGIES),
                        help="strategies to compare (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default="runs/demo", help="where the runs go")
    parser.add_argument("--jobs", type=int, default=len(DEMO_STRATEGIES),
                        help="strategies trained at once, each in its own process with an "
                             "equal share of the CPU threads (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true",
                        help="rerun from scratch instead of reusing or resuming earlier runs")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="overrides of configs/demo.yaml")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.commands.run import with_flags
    from mssr.engine.launch import execute_all
    from mssr.paths import CONFIGS_DIR
    from mssr.report import compare_runs
    from mssr.run_config import load_config

    demo = load_config(CONFIGS_DIR / "demo.yaml", args.overrides)
    configs = [with_flags(demo, strategy, args.seed, f"{args.output}/{{strategy}}")
               for strategy in args.strategies]
    jobs = max(1, min(args.jobs, len(configs)))
    print(f"== {', '.join(args.strategies)}: {jobs} at a time", flush=True)
    run_dirs = execute_all(configs, jobs, resume=not args.overwrite, overwrite=args.overwrite)
    print(compare_runs(run_dirs, output_dir=run_dirs[0].parent))
    print("\nreports:")
    for run_dir in run_dirs:
        print(f"  {run_dir / 'report.md'}")
    print(f"  {run_dirs[0].parent / 'comparison.md'}")
    return 0
