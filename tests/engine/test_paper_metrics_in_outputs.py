"""The paper's metrics in a run's outputs: a `token_f1` task is scored and named in
results.json and report.md; with `reference_runs`, both carry the average normalised score, and
a reference that lacks a task fails before training."""

from __future__ import annotations

import json

import pytest

from mssr.engine.launch import execute
from mssr.engine.recipe import ContinualRun
from mssr.errors import MSSRError
from mssr.report import load_results, write_results


@pytest.fixture
def reference(make_config, tmp_path, monkeypatch):
    """A finished run (scores stubbed at 0.5; without a reference, its normalised score is
    null) re-written to end at 1.0, 0.25, 0.5."""
    monkeypatch.setattr(ContinualRun, "evaluate", lambda self, upto: [0.5] * 3)
    run_dir, _ = execute(make_config("replay.strategy=none", "train.steps_per_task=1",
                                     f"output={tmp_path / 'reference'}"), show_progress=False)
    results = load_results(run_dir)
    assert results["metrics"]["normalised_score"] is None and "reference" not in results
    results["acc_matrix"][-1] = [1.0, 0.25, 0.5]
    write_results(run_dir, results)
    return run_dir


def test_results_and_report_carry_the_normalised_score(make_config, reference):
    config = make_config("replay.strategy=none", "train.steps_per_task=1",
                         f"reference_runs={json.dumps([str(reference)])}")
    run_dir, _ = execute(config, show_progress=False)
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["metrics"]["normalised_score"] == pytest.approx((0.5 + 2.0 + 1.0) / 3)
    assert saved["reference"] == {"runs": [str(reference)],
                                  "scores": {"arithmetic": 1.0, "choice": 0.25, "chat": 0.5}}
    report = (run_dir / "report.md").read_text()
    assert "| Average normalised score (final / reference) | 1.167 |" in report
    assert "`choice` 0.250" in report


def test_a_reference_without_every_task_fails_before_training(make_config, reference,
                                                              monkeypatch):
    results = load_results(reference)
    write_results(reference, results | {"tasks": ["arithmetic", "choice", "other"],
                                        "scorers": {"arithmetic": results["scorers"]["arithmetic"],
                                                    "choice": results["scorers"]["choice"],
                                                    "other": "exact_match"}})
    monkeypatch.setattr(ContinualRun, "run", lambda self: pytest.fail("trained"))
    config = make_config("replay.strategy=none", f"reference_runs={json.dumps([str(reference)])}")
    with pytest.raises(MSSRError, match="no final score for task.*chat"):
        execute(config, show_progress=False)


def test_a_token_f1_task_is_scored_and_named_in_the_outputs(make_config, engine_assets):
    tasks = [{"name": name, "train": str(path), "max_eval_examples": 4,
              **({"scorer": "token_f1"} if name == "chat" else {})}
             for name, path in engine_assets["tasks"].items()]
    run_dir, _ = execute(make_config("replay.strategy=none", "train.steps_per_task=1",
                                     f"tasks={json.dumps(tasks)}"), show_progress=False)
    saved = json.loads((run_dir / "results.json").read_text())
    assert saved["scorers"]["chat"] == "token_f1"
    assert all(0.0 <= row[2] <= 1.0 for row in saved["acc_matrix"])
    assert "`chat` (token_f1)" in (run_dir / "report.md").read_text()
