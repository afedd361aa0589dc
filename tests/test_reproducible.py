"""Published numbers reproduce: two short runs of the shipped configs (the smoke config as it
ships, and the demo's first task, shortened) give exactly the scores and per-step losses
recorded in tests/reference/ with the versions of constraints.txt. A difference means the
code or a library changed the numbers: BENCHMARKS.md's and the README's then need re-measuring.

Re-record after a deliberate change (then say so in the commit):
    OMP_NUM_THREADS=1 .venv/bin/python tests/test_reproducible.py --record
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

REFERENCE = Path(__file__).parent / "reference" / "reproducible.json"
CHECKOUT = Path(__file__).resolve().parents[1]
RUNS = {
    "smoke": ("smoke", []),
    "demo-first-task": ("demo", ["suite.num_tasks=1", "train.steps_per_task=30",
                                 "train.warmup_steps=3", "suite.eval_examples=24"]),
}


def run_numbers(name: str, output: Path) -> dict:
    """The numbers of one short run: scores and every step's loss, as written to its files.
    One torch thread, as `mssr demo` runs each strategy on 2 cores (sums over another number
    of threads may round differently)."""
    import torch

    from mssr.engine.launch import execute
    from mssr.run_config import load_config

    config_name, overrides = RUNS[name]
    config = load_config(config_name, [*overrides, f"output={output}"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_dir, results = execute(config, overwrite=True, show_progress=False)
    finally:
        torch.set_num_threads(threads)
    log = [json.loads(line) for line in (run_dir / "train_log.jsonl").read_text().splitlines()]
    return {"base_scores": results["base_scores"], "acc_matrix": results["acc_matrix"],
            "metrics": results["metrics"],
            "replayed_examples": results["compute"]["replayed_examples"],
            "losses": [entry["loss"] for entry in log]}


def pinned_versions() -> dict[str, str]:
    """constraints.txt's pins, and torch's from the Makefile's TORCH_SPEC."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$",
                           (CHECKOUT / "constraints.txt").read_text(), re.MULTILINE))
    pins = {name.lower().replace("_", "-"): version for name, version in pins.items()}
    pins["torch"] = re.search(r"TORCH_SPEC \?= torch==(\S+)",
                              (CHECKOUT / "Makefile").read_text()).group(1)
    return pins


def version_differences(recorded: dict[str, str]) -> list[str]:
    from mssr.report.results import library_versions

    installed = library_versions()
    return [f"{name} {installed[name]} (recorded with {version})"
            for name, version in recorded.items() if installed[name] != version]


def test_the_reference_was_recorded_with_the_pinned_versions():
    recorded = json.loads(REFERENCE.read_text())["versions"]
    pins = pinned_versions()
    for name, version in recorded.items():
        assert pins[name] == version.split("+")[0], (name, pins[name], version)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_a_rerun_gives_the_recorded_numbers_exactly(name, tmp_path):
    reference = json.loads(REFERENCE.read_text())
    differences = version_differences(reference["versions"])
    if differences:
        pytest.skip("installed versions differ from the recorded ones (install through "
                    f"constraints.txt to check): {', '.join(differences)}")
    assert run_numbers(name, tmp_path / name) == reference["runs"][name]


def record() -> None:
    import tempfile

    from mssr.report.results import VERSIONED_PACKAGES, library_versions

    installed = library_versions()
    with tempfile.TemporaryDirectory() as scratch:
        runs = {name: run_numbers(name, Path(scratch) / name) for name in RUNS}
    REFERENCE.parent.mkdir(exist_ok=True)
    REFERENCE.write_text(json.dumps({
        "versions": {name: installed[name] for name in VERSIONED_PACKAGES},
        "runs": runs}, indent=1) + "\n")
    print(f"wrote {REFERENCE}")


if __name__ == "__main__" and sys.argv[1:] == ["--record"]:
    record()
