"""`mssr config`: every run-config field with its type, default and help."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="list every config field with its help")
    parser.add_argument("file", nargs="?", help="a config to validate and print in full")
    parser.add_argument("overrides", nargs="*", help="key=value overrides")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mssr.config import RunConfig, dump_config, load_config
    from mssr.configuration import describe

    if args.file:
        print(dump_config(load_config(args.file, args.overrides)), end="")
        return 0
    for name, kind, default, help_text in describe(RunConfig):
        print(f"{name:34s} {kind:24s} {default!r:>16}  {help_text}")
    return 0
