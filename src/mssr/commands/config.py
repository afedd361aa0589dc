"""`mssr config`: every run-config field with its type, default and help."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="list every config field with its help")
    parser.add_argument("file", nargs="?", help="a config to validate and print in full")
    parser.add_argument("overrides", nargs="*", help="key=value overrides")
    parser.add_argument("--sequence", metavar="NAME[:ORDER]",
                        help="validate and print a ready sequence's run config (with the "
                        "settings of FILE when given)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.run_config import RunConfig, dump_config, load_config
    from mssr.typed_config import describe

    if args.sequence:
        from mssr.data.sequences import sequence_config, split_file_and_overrides

        config_file, overrides = split_file_and_overrides(args.file, args.overrides)
        print(dump_config(sequence_config(args.sequence, overrides, config_file)), end="")
        return 0
    if args.file:
        print(dump_config(load_config(args.file, args.overrides)), end="")
        return 0
    for name, kind, default, help_text in describe(RunConfig):
        print(f"{name:34s} {kind:24s} {default!r:>16}  {help_text}")
    return 0
