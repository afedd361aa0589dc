"""Hand-made results.json content for report tests: realistic shape, chosen numbers."""

from __future__ import annotations

import copy

import numpy as np

from mssr.report import write_results

TASKS = ["arithmetic", "capitals", "sentiment"]
LEDGER = {"optimizer_steps": 300, "new_examples": 2200, "new_tokens": 61000,
          "replayed_examples": 200, "replayed_tokens": 5400, "method_eval_tokens": 0,
          "replay_events": 18, "skipped_nonfinite_steps": 0, "skipped_lines": 1,
          "truncated_examples": 2, "train_seconds": 41.5, "eval_seconds": 6.25,
          "wall_seconds": 50.0}


def fake_results(strategy: str = "mssr", seed: int = 0, ap_shift: float = 0.0,
                 replayed: int = 200, tasks: list[str] | None = None) -> dict:
    """A valid three-task run; `ap_shift` moves the final row, `replayed` the replay spend."""
    tasks = list(tasks or TASKS)
    rng = np.random.default_rng(seed)
    timeline = [{"step": int(step), "task": int(step) // 100, "replayed": 8}
                for step in sorted(rng.choice(np.arange(100, 300), replayed // 8, replace=False))]
    compute = dict(LEDGER, replayed_examples=replayed, replayed_tokens=27 * replayed,
                   replay_events=len(timeline) // 4)
    memory = strategy.startswith("mssr")
    return {
        "schema_version": 1, "strategy": strategy, "seed": seed, "tasks": tasks,
        "scorers": dict(zip(tasks, ["numeric", "exact_match", "multiple_choice"], strict=True)),
        "base_scores": [0.05, 0.1, 0.5],
        "acc_matrix": [[0.8, 0.15, 0.5], [0.55, 0.9, 0.45],
                       [round(0.6 + ap_shift, 4), round(0.7 + ap_shift, 4), 0.95]],
        "metrics": {"ap": 0.75 + ap_shift, "bwt": -0.2 + ap_shift, "fwt": 0.0,
                    "forgetting": 0.2 - ap_shift},
        "compute": compute,
        "replay_budget": {"mode": "match:mssr", "per_task": 100},
        "replay_timeline": timeline,
        "task_boundaries": [0, 100, 200],
        "memory_snapshots": [
            {"task": task, "retention": rng.uniform(0.2, 1.0, 30 * task).tolist(),
             "strength": rng.lognormal(4, 1, 30 * task).tolist()}
            for task in range(len(tasks))] if memory else [],
        "config": {"seed": seed, "replay": {"strategy": strategy}},
    }


def write_run(root, name: str, **kwargs) -> object:
    run_dir = root / name
    write_results(run_dir, fake_results(**kwargs))
    return run_dir


def broken(results: dict, path: list, value) -> dict:
    """A copy of `results` with the item at `path` replaced (or deleted when value is ...)."""
    copied = copy.deepcopy(results)
    node = copied
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copied
