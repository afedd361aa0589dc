"""`mssr run CONFIG`: one continual fine-tuning run (or its resumption)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING, Any

from mssr.errors import ConfigError

if TYPE_CHECKING:
    from mssr.run_config import RunConfig

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
    """A strategy as `key=value` overrides (for scripts that compose configs from them):
    'joint' is multi-task training; any other name is a replay strategy."""
    if strategy is None:
        return []
    if strategy == "joint":
        return ["joint=true"]
    return [f"replay.strategy={strategy}", "joint=false"]


def with_flags(config: RunConfig, strategy: str | None = None, seed: int | None = None,
               output: str | None = None) -> RunConfig:
    """`config` with the command line's --strategy ('joint': multi-task training), --seed and
    --output; the copy checks itself as it is built."""
    changes: dict[str, Any] = {}
    if strategy == "joint":
        changes["joint"] = True
    elif strategy is not None:
        from mssr.replay import spec_for

        spec_for(strategy)  # an unknown name: an error listing the valid ones
        changes.update(joint=False, replay=dataclasses.replace(config.replay, strategy=strategy))
    if seed is not None:
        changes["seed"] = seed
    if output is not None:
        changes["output"] = output
    return dataclasses.replace(config, **changes)


def run(args: argparse.Namespace) -> int:
    from mssr.data.sequences import sequence_config, split_file_and_overrides
    from mssr.engine.launch import execute
    from mssr.run_config import load_config

    config_file, overrides = split_file_and_overrides(args.config, args.overrides)
    if args.sequence is not None:
        config = sequence_config(args.sequence, overrides, config_file)
    elif config_file is not None:
        config = load_config(config_file, overrides)
    else:
        raise ConfigError("config", "give a config file, --sequence NAME[:ORDER], or both "
                          "(the file's model and training settings, the sequence's tasks)")
    config = with_flags(config, args.strategy, args.seed, args.output)
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
