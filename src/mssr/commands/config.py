"""`mssr config`: every run-config field with its type, default and help."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="list every config field with its help")
    parser.add_argument("file", nargs="?", help="a config to validate and print in full (a file "
                        "or a ready config's name, see --list)")
    parser.add_argument("overrides", nargs="*", help="key=value overrides")
    parser.add_argument("--sequence", metavar="NAME[:ORDER]",
                        help="validate and print a ready sequence's run config (with the "
                        "settings of FILE when given)")
    parser.add_argument("--list", action="store_true",
                        help="list the ready configs shipped with mssr (`mssr run NAME`)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.run_config import RunConfig, dump_config, load_config
    from mssr.typed_config import describe

    if args.list:
        list_ready_configs()
        return 0
    if args.sequence:
        from mssr.data.sequences import sequence_config, split_file_and_overrides

        config_file, overrides = split_file_and_overrides(args.file, args.overrides)
        print(dump_config(sequence_config(args.sequence, overrides, config_file)), end="")
        return 0
    if args.file:
        from mssr.data.suites import check_suite

        config = load_config(args.file, args.overrides)
        check_suite(config.suite)
        print(dump_config(config), end="")
        return 0
    for name, kind, default, help_text in describe(RunConfig):
        print(f"{name:34s} {kind:24s} {default!r:>16}  {help_text}")
    return 0


def list_ready_configs() -> None:
    """Each ready config's name, with the first line of its leading comment."""
    from mssr.paths import CONFIGS_DIR, ready_config_names

    for name in ready_config_names():
        lines = (CONFIGS_DIR / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
        summary = lines[0].lstrip("# ") if lines and lines[0].startswith("#") else ""
        print(f"{name:32s} {summary}")
    print(f"(in {CONFIGS_DIR}; run one with `mssr run NAME`, print it with `mssr config NAME`)")
