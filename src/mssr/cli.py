"""The `mssr` command. Each subcommand lives in `mssr.commands.<name>` with
`register(subparsers)`; modules are imported only when listed here, and heavy imports
(torch, transformers) happen inside each command's `run`, so `mssr --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import sys

from mssr.errors import MSSRError

COMMANDS = ("run", "demo", "compare", "suites", "simulate", "bench", "config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mssr", description="Continual fine-tuning of language models with replay.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"mssr.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    try:
        code = args.handler(args)
    except MSSRError as error:
        print(f"mssr: error: {error}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("mssr: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(code or 0)
