"""Two real processes through `accelerate launch --multi_gpu` on CPU (DDP over gloo): every
rank takes the same replay decisions and the run matches a one-process run with the same
global batch; Ctrl-C on one process stops both after the same step, each saving its own RNG
states, and the resumed run ends like an unbroken one; FSDP, which accelerate cannot run on
CPU, is refused before training."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from mssr.run_config import dump_config

pytestmark = [pytest.mark.slow, pytest.mark.distributed]
HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def final_adapter(run_dir) -> dict:
    latest = (run_dir / "checkpoints" / "latest").read_text().strip()
    return load_file(run_dir / "checkpoints" / latest / "weights" / "adapter_model.safetensors")


def launch(args: list[str], processes: int = 2, kill: str | None = None,
           launch_config: Path | None = None) -> subprocess.CompletedProcess:
    """`accelerate launch` of the mssr CLI (or of fault_injection.py when `kill` is given)."""
    path = os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    if launch_config is not None:
        command += ["--config_file", str(launch_config)]
    else:
        command += ["--multi_gpu", "--num_processes", str(processes), "--num_machines", "1",
                    "--mixed_precision", "no", "--dynamo_backend", "no"]
    command += ["--main_process_port", str(free_port())]
    if kill is not None:
        env["MSSR_KILL"] = kill
        command += [str(HERE / "fault_injection.py")]
    else:
        command += ["-m", "mssr"]
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True,
                          timeout=300)


def test_two_processes_match_one(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config("replay.strategy=mssr")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = ["run", str(config_path), "--no-progress", "--output"]
    single = subprocess.run([sys.executable, "-m", "mssr", *run, str(tmp_path / "one")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    double = launch([*run, str(tmp_path / "two")])
    assert double.returncode == 0, double.stderr

    one = json.loads((tmp_path / "one" / "results.json").read_text())
    two = json.loads((tmp_path / "two" / "results.json").read_text())
    assert two["replay_timeline"] == one["replay_timeline"]
    assert two["compute"]["replayed_examples"] == one["compute"]["replayed_examples"]
    np.testing.assert_allclose(np.array(two["acc_matrix"], dtype=float),
                               np.array(one["acc_matrix"], dtype=float), atol=0.15)
    weights_one, weights_two = final_adapter(tmp_path / "one"), final_adapter(tmp_path / "two")
    assert weights_one.keys() == weights_two.keys()
    for name in weights_one:
        np.testing.assert_allclose(weights_two[name], weights_one[name], atol=1e-4, rtol=1e-3)


def comparable(run_dir: Path) -> dict:
    results = json.loads((run_dir / "results.json").read_text())
    return {key: results[key] for key in ("acc_matrix", "replay_timeline", "task_boundaries")} | {
        "compute": {k: v for k, v in results["compute"].items() if not k.endswith("seconds")}}


def test_ctrl_c_on_one_process_stops_both_and_resume_matches(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config("replay.strategy=uniform",
                                                   "train.checkpoint_every=0",
                                                   "lora.dropout=0.1")))  # RNG in every step
    run = ["run", str(config_path), "--no-progress", "--output"]
    reference = launch([*run, str(tmp_path / "reference")])
    assert reference.returncode == 0, reference.stderr

    stopped = launch([*run, str(tmp_path / "stopped")], kill="sigint-rank1:10")
    assert stopped.returncode != 0, stopped.stderr
    checkpoints = tmp_path / "stopped" / "checkpoints"
    latest = (checkpoints / "latest").read_text()
    assert latest == "step-00000011-task-001-interrupted"
    states = sorted(p.name for p in (checkpoints / latest / "accelerate").glob("random_states_*"))
    assert states == ["random_states_0.pkl", "random_states_1.pkl"]

    resumed = launch([*run, str(tmp_path / "stopped"), "--resume"])
    assert resumed.returncode == 0, resumed.stderr
    assert comparable(tmp_path / "stopped") == comparable(tmp_path / "reference")


def test_fsdp_on_cpu_is_refused_before_training(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config()))
    fsdp = tmp_path / "fsdp.yaml"
    fsdp.write_text("distributed_type: FSDP\nnum_processes: 2\nnum_machines: 1\n"
                    "mixed_precision: 'no'\nfsdp_config:\n  fsdp_version: 2\n")
    refused = launch(["run", str(config_path), "--no-progress", "--output",
                      str(tmp_path / "run")], launch_config=fsdp)
    assert refused.returncode != 0
    assert "config field 'launch'" in refused.stderr and "FSDP needs CUDA GPUs" in refused.stderr
    assert not (tmp_path / "run" / "checkpoints").exists()
