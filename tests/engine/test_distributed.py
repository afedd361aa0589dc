"""Two real processes through `accelerate launch --cpu` (gloo): every rank takes the same replay
decisions and the run matches a one-process run with the same global batch."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import load_file

from mssr.config import dump_config

pytestmark = [pytest.mark.slow, pytest.mark.distributed]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def final_adapter(run_dir) -> dict:
    latest = (run_dir / "checkpoints" / "latest").read_text().strip()
    return load_file(run_dir / "checkpoints" / latest / "weights" / "adapter_model.safetensors")


def test_two_processes_match_one(make_config, tmp_path):
    config_path = tmp_path / "config.yaml"
    config_path.write_text(dump_config(make_config("replay.strategy=mssr")))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = ["run", str(config_path), "--no-progress", "--output"]
    single = subprocess.run([sys.executable, "-m", "mssr", *run, str(tmp_path / "one")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert single.returncode == 0, single.stderr
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(free_port()), "-m", "mssr"]
    double = subprocess.run([*launch, *run, str(tmp_path / "two")], env=env,
                            capture_output=True, text=True, timeout=300)
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
