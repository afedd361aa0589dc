"""The `mssr` command line: overrides before or after the options, help for every command."""

import subprocess
import sys

import pytest

from mssr.cli import COMMANDS, parse


def test_overrides_may_follow_the_options():
    args = parse(["run", "c.yaml", "a.b=1", "--seed", "3", "c=2", "--resume", "d=x"])
    assert args.overrides == ["a.b=1", "c=2", "d=x"] and args.seed == 3 and args.resume


def test_unknown_arguments_are_still_errors(capsys):
    with pytest.raises(SystemExit):
        parse(["run", "c.yaml", "--bogus"])
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "mssr", command, "--help"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "usage: mssr" in out.stdout


def test_errors_are_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: {lr: -1}\nsuite: {name: default}\n")
    out = subprocess.run([sys.executable, "-m", "mssr", "run", str(bad)],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip() == f"mssr: error: {bad}: config field 'train.lr': must be > 0"
