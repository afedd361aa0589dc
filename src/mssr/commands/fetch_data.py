"""`mssr fetch-data CONFIG DIR`: save every hub dataset a config or ready sequence uses under
DIR, so that runs with `data_root: DIR` (or $MSSR_DATA_ROOT=DIR) work offline."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mssr.run_config import TaskConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "fetch-data", help="download a config's hub datasets into a data root (online)",
        description="Write a datasets.save_to_disk copy of every hf: source of CONFIG (a YAML "
        "config or a ready sequence NAME, all its orders and probes) under DIR/hf/NAME/CONFIG.")
    parser.add_argument("config", help="YAML config file, a ready config's name (`mssr config "
                        "--list`) or a ready sequence (`mssr sequences`)")
    parser.add_argument("directory", metavar="DIR", help="the data root to write")
    parser.add_argument("--overwrite", action="store_true", help="download copies again")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from mssr.data.hub import fetch_copy, hub_sources
    from mssr.run_config import DATA_ROOT_FIELD

    root = Path(args.directory).expanduser()
    tasks = _tasks(args.config)
    for source, trust_remote_code in hub_sources(tasks).items():
        path, written = fetch_copy(source, root, trust_remote_code, args.overwrite)
        print(f"{'wrote' if written else 'kept '} {source:50s} {path}")
    for task in tasks:
        for source in {task.train, task.eval} - {None}:
            if DATA_ROOT_FIELD in source:
                print(f"task {task.name}: not on the hub; put your copy at "
                      f"{source.replace(DATA_ROOT_FIELD, str(root))}")
    print(f"offline runs: set data_root: {root} in the config, or MSSR_DATA_ROOT={root}")
    return 0


def _tasks(config: str) -> list[TaskConfig]:
    """The tasks of a config file, or of every order and probe of a ready sequence."""
    from mssr.data.sequences import load_sequence, sequence_names
    from mssr.errors import ConfigError
    from mssr.paths import find_config, ready_config_names
    from mssr.run_config import load_config

    if config in sequence_names():
        return list(load_sequence(config).tasks.values())
    try:
        path = find_config(config)
    except ConfigError:
        raise ConfigError("config", f"{config}: neither a config file nor a ready config or "
                          f"sequence; ready configs: {', '.join(ready_config_names())}; "
                          f"sequences: {', '.join(sequence_names())}") from None
    return load_config(path).tasks
