"""`mssr run CONFIG`: one continual fine-tuning run (or its resumption)."""

from __future__ import annotations

import argparse

from mssr.errors import ConfigError

# the summary line's label and format of each metric: differences signed, levels not
SUMMARY_FORMATS = {"ap": ("AP", ".3f"), "bwt": ("BWT", "+.3f"), "fwt": ("FWT", "+.3f"),
                   "forgetting": ("forgetting", "+.3f"), "normalised_score": ("norm. score", ".3f")}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "run", help="run a continual fine-tuning config",
        description="Train the config's tasks one after another with a replay strategy; "
        "writes results.json, report.md and plots to the run directory.")
    parser.add_argument("config", nargs="?",
                        help="YAML config file, or a ready config's name (`mssr config --list`, "
                        "e.g. smoke); optional with --sequence")
    parser.add_argument("--sequence", metavar="NAME[:ORDER]",
                        help="run a ready sequence (`mssr sequences`): its tasks, with the "
                        "config file's settings (optional: defaults) and key=value overrides")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="config overrides, e.g. train.lr=1e-4 replay.schedule.window=2")
    parser.add_argument("--strategy", help="replay strategy, or 'joint' for multi-task training")
    parser.add_argument("--seed", type=int, help="seed (default: the config's)")
    parser.add_argument("--output", help="run directory (default: the config's output)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in the output directory from its last checkpoint")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a run already in the output directory")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def strategy_overrides(strategy: str | None) -> list[str]:
    """`--strategy joint` is multi-task training; any other name is a replay strategy."""
    if strategy is None:
        return []
    if strategy == "joint":
        return ["joint=true"]
    return [f"replay.strategy={strategy}", "joint=false"]


def run(args: argparse.Namespace) -> int:
    from mssr.data.sequences import sequence_config, split_file_and_overrides
    from mssr.engine.launch import execute
    from mssr.run_config import load_config

    config_file, overrides = split_file_and_overrides(args.config, args.overrides)
    overrides += strategy_overrides(args.strategy)
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.output is not None:
        overrides.append(f"output={args.output}")
    if args.sequence is not None:
        config = sequence_config(args.sequence, overrides, config_file)
    elif config_file is not None:
        config = load_config(config_file, overrides)
    else:
        raise ConfigError("config", "give a config file, --sequence NAME[:ORDER], or both "
                          "(the file's model and training settings, the sequence's tasks)")
    run_dir, results = execute(config, resume=args.resume, overwrite=args.overwrite,
                               show_progress=not args.no_progress)
    print(f"{results['strategy']} seed {results['seed']}: {metrics_summary(results['metrics'])}; "
          f"replayed {results['compute']['replayed_examples']} examples")
    print(f"results: {run_dir / 'results.json'}\nreport:  {run_dir / 'report.md'}")
    return 0


def metrics_summary(metrics: dict[str, float | None]) -> str:
    """'AP 0.512, BWT -0.031, ..., norm. score 0.930': the metrics that have a value."""
    parts = []
    for key, value in metrics.items():
        if value is not None:
            label, number = SUMMARY_FORMATS.get(key, (key, ".3f"))
            parts.append(f"{label} {value:{number}}")
    return ", ".join(parts)
