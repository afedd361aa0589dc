"""Recorded behaviour of every replay strategy, so that a refactor of the replay protocol can
show it changed nothing: each step's batch ids, results.json (timings left out) and the
simulation's numbers. `python tests/references/replay_reference.py` rewrites the record;
tests/test_replay_reference.py compares a fresh run with it.

The engine runs were recorded before the replay protocol moved into one driver
(replay/driver.py) and still match. The simulation's were re-recorded then: it now draws each
task's examples in the driver's epoch order instead of at random every step."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

RECORD = Path(__file__).with_name("replay_reference.json")
TIMINGS = ("train_seconds", "eval_seconds", "wall_seconds")
# smoke runs: every strategy as configured, then at a matched budget; the demo's strategies on
# a shortened demo (the bundled model with LoRA)
STRATEGIES = ("none", "uniform", "fixed", "loss", "accuracy", "mssr", "mssr-sampler",
              "mssr-every-step", "mssr-scheduler", "forever", "joint")
DEMO_STRATEGIES = ("none", "uniform", "mssr-every-step")
DEMO_SHORTENING = ["suite.num_tasks=3", "suite.train_examples=64", "suite.eval_examples=16",
                   "train.steps_per_task=10", "train.warmup_steps=2", "replay.buffer.per_task=16"]


def cases() -> dict[str, tuple[str, list[str]]]:
    """name -> (config file in configs/, overrides)."""
    found = {}
    for strategy in STRATEGIES:
        found[f"smoke/{strategy}"] = ("smoke.yaml", _strategy(strategy))
        if strategy not in ("none", "joint"):
            found[f"smoke-matched/{strategy}"] = ("smoke.yaml", [*_strategy(strategy),
                                                                 "replay_budget=match:mssr"])
    for strategy in DEMO_STRATEGIES:
        found[f"demo-short/{strategy}"] = ("demo.yaml", [*_strategy(strategy),
                                                         *DEMO_SHORTENING])
    return found


def _strategy(name: str) -> list[str]:
    return ["joint=true"] if name == "joint" else [f"replay.strategy={name}"]


def run_case(config_file: str, overrides: list[str], run_dir: Path) -> dict[str, Any]:
    """One engine run: its results.json without timings or paths, and every step's batch."""
    import torch

    from mssr.engine import recipe
    from mssr.engine.launch import execute
    from mssr.paths import CONFIGS_DIR
    from mssr.run_config import load_config

    torch.set_num_threads(1)
    batches: list[list[int]] = []
    original = recipe.ContinualRun.forward_backward

    def recording(self, plan, *rest):
        batches.append([int(i) for i in plan.ids])
        return original(self, plan, *rest)

    recipe.ContinualRun.forward_backward = recording
    try:
        config = load_config(CONFIGS_DIR / config_file, [*overrides, f"output={run_dir}"])
        _, results = execute(config, run_dir=run_dir, overwrite=True, show_progress=False)
    finally:
        recipe.ContinualRun.forward_backward = original
    results = json.loads(json.dumps(results))
    for key in TIMINGS:
        results["compute"].pop(key)
    results["config"].pop("output")
    results["config"].get("continual", {}).pop("reference_runs", None)
    return {"batches": batches, "results": results}


def simulation_record() -> list[dict[str, Any]]:
    from mssr.simulation import LAW_ARMS, Arm, simulate

    results, _ = simulate(tasks=3, steps_per_task=60, examples_per_task=80, per_task_buffer=20,
                          arms=tuple(Arm(*arm) for arm in LAW_ARMS))
    strategies, _ = simulate(tasks=3, steps_per_task=60, examples_per_task=80,
                             per_task_buffer=20)
    return [json.loads(json.dumps(vars(result), default=_plain))
            for result in [*results, *strategies]]


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray) else float(value)


def record(run_root: Path) -> dict[str, Any]:
    runs = {name: run_case(config, overrides, run_root / name.replace("/", "-"))
            for name, (config, overrides) in cases().items()}
    return {"runs": runs, "simulation": simulation_record()}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        RECORD.write_text(json.dumps(record(Path(directory)), indent=None, sort_keys=True) + "\n")
    print(f"wrote {RECORD}", file=sys.stderr)
