"""The `mssr` command. Each subcommand lives in `mssr.commands.<name>` with
`register(subparsers)`; modules are imported only when listed here, and heavy imports
(torch, transformers) happen inside each command's `run`, so `mssr --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from mssr import __version__
from mssr.errors import MSSRError

COMMANDS = ("run", "demo", "compare", "suites", "simulate", "bench", "config", "sequences",
            "fetch-data")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mssr", description="Continual fine-tuning of language models with replay.")
    parser.add_argument("--version", action="version", version=f"mssr {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mssr.commands.{name.replace('-', '_')}").register(subparsers)
    return parser


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; `key=value` overrides may also follow the options."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and hasattr(args, "overrides") and all("=" in item and not item.startswith("-")
                                                    for item in extra):
        args.overrides = [*args.overrides, *extra]
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    try:
        code = args.handler(args)
    except MSSRError as error:
        print(f"mssr: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("mssr: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
