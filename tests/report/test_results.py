"""results.json: the schema accepts real output and rejects broken files with a message that
names the file and the field; writes are atomic and round-trip."""

from __future__ import annotations

import json

import jsonschema
import pytest
from fake_runs import broken, fake_results

from mssr.errors import MSSRError
from mssr.report import load_results, write_results
from mssr.report.results import results_schema


def test_the_schema_is_valid_and_accepts_a_real_shape():
    jsonschema.Draft202012Validator.check_schema(results_schema())
    jsonschema.validate(fake_results(), results_schema())
    jsonschema.validate(fake_results(strategy="none"), results_schema())


def test_write_then_load_round_trips(tmp_path):
    path = write_results(tmp_path / "run", fake_results())
    assert path == tmp_path / "run" / "results.json"
    assert load_results(tmp_path / "run") == fake_results()
    assert load_results(path) == fake_results()
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["results.json"]


@pytest.mark.parametrize(("path", "value", "field"), [
    (["schema_version"], 2, "$.schema_version"),
    (["metrics", "ap"], "high", "$.metrics.ap"),
    (["metrics", "bwt"], ..., "$.metrics"),
    (["compute", "replayed_examples"], -1, "$.compute.replayed_examples"),
    (["acc_matrix", 1, 0], [0.5], "$.acc_matrix[1][0]"),
    (["replay_timeline", 0, "replayed"], 0, "$.replay_timeline[0].replayed"),
    (["memory_snapshots", 1, "retention", 0], 1.5, "$.memory_snapshots[1].retention[0]"),
    (["scorers", "capitals"], "bleu", "$.scorers.capitals"),
    (["surprise"], 1, "$"),
    (["acc_matrix", 2], [0.1, 0.2], "$.acc_matrix[2]"),
    (["base_scores"], [0.1], "$.base_scores"),
    (["scorers"], {"arithmetic": "numeric"}, "$.scorers"),
    (["memory_snapshots", 2, "task"], 3, "$.memory_snapshots[2].task"),
])
def test_broken_results_are_rejected_naming_file_and_field(tmp_path, path, value, field):
    bad = broken(fake_results(), path, value)
    with pytest.raises(MSSRError) as raised:
        write_results(tmp_path, bad)
    assert str(tmp_path / "results.json") in str(raised.value)
    assert f"at {field}:" in str(raised.value)
    assert not (tmp_path / "results.json").exists()
    (tmp_path / "results.json").write_text(json.dumps(bad))
    with pytest.raises(MSSRError, match="invalid results"):
        load_results(tmp_path)


def test_non_finite_scores_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(MSSRError, match="non-finite"):
        write_results(tmp_path, broken(fake_results(), ["acc_matrix", 0, 0], float("nan")))
    assert not (tmp_path / "results.json").exists()


def test_unreadable_files_name_the_file_and_line(tmp_path):
    with pytest.raises(MSSRError, match="no such results file"):
        load_results(tmp_path)
    (tmp_path / "results.json").write_text('{"schema_version": 1,\n  "tasks": [oops]}')
    with pytest.raises(MSSRError, match=r"results\.json, line 2: not valid JSON"):
        load_results(tmp_path / "results.json")
    (tmp_path / "results.json").write_text("[1, 2]")
    with pytest.raises(MSSRError, match="is not of type 'object'"):
        load_results(tmp_path)


def test_versions_name_every_library_the_numbers_depend_on():
    from importlib import metadata

    from mssr.report.results import VERSIONED_PACKAGES, library_versions

    versions = library_versions()
    assert list(versions)[:len(VERSIONED_PACKAGES)] == list(VERSIONED_PACKAGES)
    assert versions["torch"] == metadata.version("torch") and versions["python"]
