"""A run killed with SIGKILL (in a step, in evaluation, in a checkpoint write) and resumed with
--resume ends exactly like an unbroken run: same accuracy matrix, same replay decisions."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from mssr.engine.launch import execute_all, prepare_run_dir, same_run
from mssr.errors import ConfigError
from mssr.run_config import dump_config

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent


def run_cli(args: list[str], kill: str | None = None,
            accept: str | None = None) -> subprocess.CompletedProcess:
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    command = [sys.executable, "-m", "mssr", *args]
    if kill is not None or accept is not None:
        env.update({"MSSR_KILL": kill} if kill else {})
        env.update({"MSSR_ACCEPT": accept} if accept else {})
        command = [sys.executable, str(HERE / "fault_injection.py"), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def comparable(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    return {key: results[key] for key in ("acc_matrix", "base_scores", "replay_timeline",
                                          "task_boundaries", "memory_snapshots",
                                          "buffer_learned", "replay_targets", "right_to_wrong")} | {
        "compute": {k: v for k, v in results["compute"].items() if not k.endswith("seconds")}}


@pytest.mark.parametrize(("strategy", "kill", "options"), [
    ("mssr", "step:8", ()), ("mssr", "eval:2", ()), ("mssr", "checkpoint:3", ()),
    ("mir", "step:10", ()),  # MIR's virtual steps
    # round 3's options: the forgetting ledger and the adaptive law's profile travel too
    ("mssr", "step:10", ("replay.memory.risk=forgetting", "replay.schedule.law=adaptive",
                         "replay_budget=10")),
    # the drift law (full fine-tuning: the tiny model's answers drift): task 1's reference,
    # set at step 6, comes back from the checkpoint; so do the ledger's task-end answers
    # (targets: self), which its probes turn into right-to-wrong events
    ("mssr", "step:10", ("replay.schedule.law=drift", "replay.schedule.drift_every=2",
                         "replay.schedule.drift_drop=0", "lora.enabled=false",
                         "replay.targets=self", "replay.memory.risk=forgetting"))],
    ids=["step", "eval", "checkpoint", "mir", "forgetting-adaptive", "drift"])
def test_sigkill_then_resume_matches_an_unbroken_run(make_config, tmp_path, strategy, kill,
                                                     options):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config(f"replay.strategy={strategy}", *options)))
    reference = run_cli(["run", str(config_path), "--output", str(tmp_path / "reference"),
                         "--no-progress"])
    assert reference.returncode == 0, reference.stderr

    killed = run_cli(["run", str(config_path), "--output", str(tmp_path / "broken"),
                      "--no-progress"], kill=kill)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "broken" / "results.json").exists()
    resumed = run_cli(["run", str(config_path), "--output", str(tmp_path / "broken"),
                       "--resume", "--no-progress"])
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(tmp_path / "broken") == comparable(tmp_path / "reference")


@pytest.mark.parametrize("kill", ["step:8", "eval:2"])
def test_self_targets_resume_exactly(make_config, tmp_path, kill):
    """replay.targets: self with every other answer accepted and the rest dropped: killed after
    task 1's answers (their replacements replay from the checkpoint) or while task 2 ends (its
    answers are generated again by the resumed model), the run ends as an unbroken one."""
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config(
        "replay.strategy=uniform", "replay.targets=self", "replay.targets_rejected=drop")))
    common = ["--no-progress"]
    reference = run_cli(["run", str(config_path), "--output", str(tmp_path / "reference"),
                         *common], accept="alternate")
    assert reference.returncode == 0, reference.stderr
    killed = run_cli(["run", str(config_path), "--output", str(tmp_path / "broken"), *common],
                     kill=kill, accept="alternate")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    resumed = run_cli(["run", str(config_path), "--output", str(tmp_path / "broken"),
                       "--resume", *common], accept="alternate")
    assert resumed.returncode == 0, resumed.stderr
    expected = comparable(tmp_path / "reference")
    assert [r["accepted"] for r in expected["replay_targets"]] == [4, 0]
    assert expected["compute"]["target_tokens"] > 0
    assert comparable(tmp_path / "broken") == expected


def test_sigint_checkpoints_then_stops_and_resume_finishes_the_same(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config("replay.strategy=uniform",
                                                   "train.checkpoint_every=0")))
    reference = run_cli(["run", str(config_path), "--output", str(tmp_path / "reference"),
                         "--no-progress"])
    assert reference.returncode == 0, reference.stderr
    stopped = run_cli(["run", str(config_path), "--output", str(tmp_path / "stopped"),
                       "--no-progress"], kill="sigint:10")
    assert stopped.returncode == 130, stopped.stderr
    latest = (tmp_path / "stopped" / "checkpoints" / "latest").read_text()
    assert latest.endswith("interrupted") and "step-00000011" in latest
    resumed = run_cli(["run", str(config_path), "--output", str(tmp_path / "stopped"),
                       "--resume", "--no-progress"])
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(tmp_path / "stopped") == comparable(tmp_path / "reference")


def test_existing_run_is_not_overwritten_without_a_flag(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config("replay.strategy=none")))
    output = ["--output", str(tmp_path / "run"), "--no-progress"]
    assert run_cli(["run", str(config_path), *output]).returncode == 0
    again = run_cli(["run", str(config_path), *output])
    assert again.returncode == 2 and "--resume" in again.stderr and "--overwrite" in again.stderr
    assert run_cli(["run", str(config_path), *output, "--overwrite"]).returncode == 0


def test_a_config_error_in_a_worker_of_execute_all_reaches_the_caller(make_config, tmp_path):
    """Two runs side by side whose directories hold other runs: each worker's ConfigError
    comes back through the process pool with its message (it once broke the pool instead)."""
    configs = [make_config("replay.strategy=none", f"output={tmp_path / name}")
               for name in ("a", "b")]
    for config in configs:
        prepare_run_dir(Path(config.output), make_config("replay.strategy=uniform"),
                        resume=False, overwrite=False)
    with pytest.raises(ConfigError, match="holds a run with a different config"):
        execute_all(configs, jobs=2)


def test_a_joint_run_resumes_whatever_its_unused_replay_settings(make_config):
    joint = make_config("joint=true", "replay.strategy=mssr")
    assert same_run(joint, make_config("joint=true", "replay.strategy=mssr-every-step",
                                       "replay_budget=16"))
    assert not same_run(joint, make_config("joint=true", "train.lr=0.02"))
    assert not same_run(make_config("replay.strategy=mssr"),
                        make_config("replay.strategy=mssr-every-step"))
