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


def run_mssr(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mssr", *argv], capture_output=True, text=True,
                          cwd=cwd)


def test_version_and_the_ready_configs():
    from mssr import __version__

    assert run_mssr("--version").stdout.strip() == f"mssr {__version__}"
    listed = run_mssr("config", "--list")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()[:3]] == [
        "demo", "demo-full", "models/gemma-2-2b-it"]


@pytest.mark.parametrize("argv, valid", [
    (["suites", "--suite", "nosuch"], "valid suites are: default"),
    (["suites", "--order", "nope"], "valid orders are: default, reverse, shuffled"),
    (["suites", "--write", "out", "--suite", "nosuch"], "valid suites are: default"),
    (["run", "nosuch"], "ready configs: demo, demo-full, models/"),
    (["config", "nosuch.yaml"], "ready configs: demo, demo-full, models/"),
    (["run", "smoke", "suite.order=nope"], "valid orders are: default, reverse, shuffled"),
    (["run", "--sequence", "nosuch"], "choose one of: olora, paper, superni"),
    (["config", "--sequence", "paper:nope"], "orders: three_task, long"),
    (["sequences", "nosuch"], "choose one of: olora, paper, superni"),
    (["fetch-data", "nosuch", "out"], "sequences: olora, paper, superni"),
    (["demo", "--strategies", "magic"], "valid: none, uniform"),
])
def test_an_unknown_name_is_an_error_listing_the_valid_ones(argv, valid, tmp_path):
    out = run_mssr(*argv, cwd=tmp_path)
    assert out.returncode == 2, out.stdout
    assert valid in out.stderr and not list(tmp_path.iterdir())


def test_a_config_beside_its_data_reads_it_from_any_folder(tmp_path):
    """`mssr run sub/c.yaml` whose `train: tr.jsonl` lies in sub/ (checked up to the model)."""
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "tr.jsonl").write_text('{"prompt": "1 plus 1 is", "response": "2"}\n' * 20)
    (sub / "c.yaml").write_text("tasks: [{name: a, train: tr.jsonl}]\n")
    out = run_mssr("config", "sub/c.yaml", cwd=tmp_path)
    assert out.returncode == 0 and f"train: {sub / 'tr.jsonl'}" in out.stdout
