"""The example scripts run as documented (smaller settings through their flags), print the
AP/BWT table and leave results that `mssr compare` reads; two processes through
`accelerate launch` take the same replay decisions as one."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from mssr.report import load_results

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).parents[2] / "examples"
SMALL = ["--tasks", "2", "--steps-per-task", "12", "--train-examples", "48",
         "--eval-examples", "8"]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run_example(script: str, output: Path, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(EXAMPLES / script), *SMALL, "--output",
                           str(output), *flags], env=ENV, capture_output=True, text=True,
                          timeout=600)


NEEDS_TRL = pytest.mark.skipif(importlib.util.find_spec("trl") is None,
                               reason="needs the trl extra")


@pytest.mark.parametrize("script", ["hf_trainer.py", pytest.param("trl_sft.py",
                                                                  marks=NEEDS_TRL)])
def test_example_prints_the_table_and_writes_comparable_results(script, tmp_path):
    finished = run_example(script, tmp_path)
    assert finished.returncode == 0, finished.stderr[-3000:]
    assert "| Strategy | Seeds | Replay budget | AP | BWT |" in finished.stdout
    none, shipped = load_results(tmp_path / "none"), load_results(tmp_path / "adaptive")
    assert none["compute"]["replayed_examples"] == 0
    assert shipped["compute"]["replayed_examples"] > 0
    assert len(shipped["acc_matrix"]) == 2 and shipped["metrics"]["bwt"] is not None
    compared = subprocess.run([sys.executable, "-m", "mssr", "compare", str(tmp_path / "none"),
                               str(tmp_path / "adaptive")], env=ENV, capture_output=True,
                              text=True, timeout=120)
    assert compared.returncode == 0, compared.stderr
    assert (tmp_path / "comparison.md").is_file()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.distributed
def test_two_processes_take_the_decisions_of_one(tmp_path):
    one = run_example("hf_trainer.py", tmp_path / "one", "--strategies", "mssr")
    assert one.returncode == 0, one.stderr[-3000:]
    # --multi_gpu starts real processes (gloo on CPU); --cpu would start a single one
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu",
              "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
              "--dynamo_backend", "no", "--main_process_port", str(free_port())]
    two = subprocess.run([*launch, str(EXAMPLES / "hf_trainer.py"), *SMALL, "--strategies",
                          "mssr", "--output", str(tmp_path / "two")], env=ENV,
                         capture_output=True, text=True, timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]

    single = json.loads((tmp_path / "one" / "mssr" / "results.json").read_text())
    double = json.loads((tmp_path / "two" / "mssr" / "results.json").read_text())
    assert double["config"]["processes"] == 2 and single["config"]["processes"] == 1
    assert single["replay_timeline"] and double["replay_timeline"] == single["replay_timeline"]
    assert double["compute"]["replayed_tokens"] == single["compute"]["replayed_tokens"]
    np.testing.assert_allclose(np.array(double["acc_matrix"], dtype=float),
                               np.array(single["acc_matrix"], dtype=float), atol=0.15)
