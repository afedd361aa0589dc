"""Subcommands of the `mssr` CLI, one module each (see mssr.cli)."""
