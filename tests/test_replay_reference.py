"""Every strategy replays the same ids and reports the same results as the recorded reference
(tests/references/replay_reference.py), through the engine and through the simulation: the
replay protocol's refactors must not move a result."""

from __future__ import annotations

import json

import pytest
from references.replay_reference import RECORD, cases, run_case, simulation_record

REFERENCE = json.loads(RECORD.read_text())


def _without_added_keys(fresh: dict, recorded: dict) -> dict:
    """`fresh` with only the keys the reference has (a refactor may add records)."""
    if not isinstance(fresh, dict) or not isinstance(recorded, dict):
        return fresh
    return {key: _without_added_keys(fresh[key], recorded[key]) if key in recorded else None
            for key in fresh if key in recorded} | {
        key: fresh.get(key) for key in recorded if key not in fresh}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(cases()))
def test_engine_run_matches_the_reference(name, tmp_path):
    config_file, overrides = cases()[name]
    fresh = json.loads(json.dumps(run_case(config_file, overrides, tmp_path)))
    recorded = REFERENCE["runs"][name]
    assert fresh["batches"] == recorded["batches"]
    assert _without_added_keys(fresh["results"], recorded["results"]) == recorded["results"]
    resolved, budget = fresh["results"]["resolved_replay"], fresh["results"]["replay_budget"]
    if name.startswith("smoke-matched/"):  # results.json says what the budget set
        assert resolved["budget_per_task"] == budget["per_task"]
    assert resolved["strategy"] == ("none" if name.endswith("/joint") else
                                    fresh["results"]["strategy"])


def test_simulation_matches_the_reference():
    """Every recorded arm, in order; arms of strategies registered since (mir) are new rows,
    fields added since are left out."""
    recorded = REFERENCE["simulation"]
    labels = {row["strategy"] for row in recorded}
    fresh = [row for row in simulation_record() if row["strategy"] in labels]
    assert len(fresh) == len(recorded)
    for row, reference in zip(fresh, recorded, strict=True):
        assert _without_added_keys(row, reference) == reference
