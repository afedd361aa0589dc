"""The package as users get it: a wheel built from the sources carries the ready configs, the
bundled model, LICENSE and NOTICE, and once installed in a fresh environment runs a ready
config offline from an empty folder, with no checkout in sight.

The fresh venv has no packages of its own: a .pth line lends it the test environment's
dependencies (torch and the rest, not reinstalled), whose own .pth files, the editable mssr
among them, are not run from there."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
CHECKOUT = Path(__file__).resolve().parents[1]
BUILD_FILES = ("pyproject.toml", "README.md", "LICENSE", "NOTICE")
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
       "PYTHONNOUSERSITE": "1"}
ENV.pop("PYTHONPATH", None)
ENV.pop("MSSR_BUNDLED_MODEL", None)


def build_wheel(tmp_path: Path) -> Path:
    """The wheel of a copy of the sources (so the build leaves nothing in the checkout)."""
    source = tmp_path / "source"
    for name in BUILD_FILES:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CHECKOUT / name, source / name)
    shutil.copytree(CHECKOUT / "src" / "mssr", source / "src" / "mssr",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                            "--no-build-isolation", "--wheel-dir", str(tmp_path / "dist"),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "dist").glob("mssr-*.whl")
    return wheel


def fresh_environment(tmp_path: Path, wheel: Path) -> Path:
    """A new venv holding only the installed wheel, the dependencies lent by a .pth line."""
    home = tmp_path / "venv"
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig."
                              "get_paths()['purelib'])"], capture_output=True, text=True,
                             check=True).stdout.strip()
    Path(purelib, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                                "--quiet", "--no-deps", "--no-index", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return home / "bin"


def test_the_wheel_installs_and_runs_a_ready_config_offline_from_an_empty_folder(tmp_path):
    wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("mssr/configs/demo.yaml", "mssr/configs/smoke.yaml",
                    "mssr/configs/models/qwen2.5-0.5b-instruct.yaml",
                    "mssr/configs/sequences/paper.yaml", "mssr/assets/base-model/config.json",
                    "mssr/assets/base-model/model.safetensors",
                    "mssr/assets/base-model/tokenizer.json", "mssr/report/results_schema.json",
                    "mssr-0.1.0.dist-info/licenses/LICENSE",
                    "mssr-0.1.0.dist-info/licenses/NOTICE"):
        assert shipped in names, shipped

    bin_dir = fresh_environment(tmp_path, wheel)
    empty = tmp_path / "elsewhere"
    empty.mkdir()

    def mssr(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(bin_dir / "mssr"), *argv], cwd=empty, env=ENV,
                              capture_output=True, text=True, timeout=600)

    where = subprocess.run([str(bin_dir / "python"), "-c", "import mssr; print(mssr.__file__)"],
                           cwd=empty, env=ENV, capture_output=True, text=True)
    assert where.stdout.startswith(str(tmp_path / "venv")), where.stdout + where.stderr
    version = mssr("--version")
    assert version.returncode == 0 and version.stdout.startswith("mssr 0.1.0")
    assert "smoke" in mssr("config", "--list").stdout
    ran = mssr("run", "smoke", "--no-progress", "train.steps_per_task=4")
    assert ran.returncode == 0, ran.stderr[-3000:]
    results = json.loads((empty / "runs" / "smoke" / "mssr-seed0" / "results.json").read_text())
    assert len(results["acc_matrix"]) == 3 and results["versions"]["torch"]
    assert "Warning" not in ran.stderr, ran.stderr
