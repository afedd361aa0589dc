"""calibration.png and results.json's `calibration` (issue 11 item 2)."""

from __future__ import annotations

import numpy as np
import pytest
from fake_runs import fake_results
from test_run_report import assert_png

from mssr.errors import MSSRError
from mssr.replay.calibration import RetentionCalibration
from mssr.replay.config import MemoryConfig
from mssr.report import write_report
from mssr.report.results import validate_results


def with_calibration(results: dict, measurements: int = 60) -> dict:
    rng = np.random.default_rng(0)
    calibration = RetentionCalibration(MemoryConfig(calibrate="per_task"))
    exponent = rng.uniform(0.0, 3.0, measurements)
    tasks = rng.integers(0, 2, measurements)
    calibration.observe(tasks, exponent, np.exp(-exponent), 1.0 + 0.5 * exponent,
                        np.ones(measurements))
    return {**results, "calibration": calibration.summary()}


def test_an_mssr_run_with_calibration_gets_calibration_png(tmp_path):
    results = with_calibration(fake_results("mssr"))
    validate_results(results, "fake")
    written = write_report(tmp_path, results)
    assert [path.name for path in written][-1] == "calibration.png"
    assert_png(tmp_path / "calibration.png")
    assert "](calibration.png)" in (tmp_path / "report.md").read_text()
    assert results["calibration"]["spearman"] == pytest.approx(1.0)


def test_no_measurement_yet_still_plots_and_baselines_get_none(tmp_path):
    write_report(tmp_path / "mssr", with_calibration(fake_results("mssr"), measurements=0))
    assert_png(tmp_path / "mssr" / "calibration.png")
    write_report(tmp_path / "uniform", with_calibration(fake_results("uniform")))
    assert not (tmp_path / "uniform" / "calibration.png").exists()


def test_schema_rejects_a_retention_outside_zero_one():
    results = with_calibration(fake_results("mssr"))
    results["calibration"]["observed"][0] = 1.5
    with pytest.raises(MSSRError, match=r"\$.calibration.observed\[0\]"):
        validate_results(results, "fake")
