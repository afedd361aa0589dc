"""write_report: report.md with every section, and every plot a valid PNG it embeds."""

from __future__ import annotations

import pytest
from fake_runs import broken, fake_results
from PIL import Image

from mssr.report import write_report

PLOTS = ["acc_matrix.png", "task_scores.png", "replay_timeline.png"]


def assert_png(path, min_size=(300, 200)):
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size[0] >= min_size[0] and image.size[1] >= min_size[1]


def test_an_mssr_run_gets_report_and_four_plots(tmp_path):
    written = write_report(tmp_path, fake_results("mssr"))
    assert [path.name for path in written] == ["report.md", *PLOTS, "memory.png"]
    for path in written[1:]:
        assert_png(path)
    report = (tmp_path / "report.md").read_text()
    for embedded in [*PLOTS, "memory.png"]:
        assert f"]({embedded})" in report
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)


def test_report_holds_header_metrics_matrix_compute_and_budget(tmp_path):
    write_report(tmp_path, fake_results("uniform", seed=3))
    report = (tmp_path / "report.md").read_text()
    assert report.startswith("# Run report: uniform, seed 3\n")
    assert "`arithmetic` (numeric) → `capitals` (exact_match) → `sentiment` (multiple_choice)" \
        in report
    assert "| AP (average performance) | 0.750 |" in report
    assert "| BWT (backward transfer) | -0.200 |" in report
    assert "| Forgetting (max-based) | 0.200 |" in report
    assert "| after capitals | 0.550 | 0.900 | 0.450 |" in report
    assert "| base model | 0.050 | 0.100 | 0.500 |" in report
    assert "| new tokens | 61,000 |" in report
    assert "| replay budget | match:mssr (100 / task) |" in report


def test_no_memory_plot_without_snapshots_and_no_replay_still_plots(tmp_path):
    results = broken(fake_results("none", replayed=0), ["metrics", "bwt"], None)
    written = write_report(tmp_path, results)
    assert [path.name for path in written] == ["report.md", *PLOTS]
    assert "| BWT (backward transfer) | — |" in (tmp_path / "report.md").read_text()
    assert_png(tmp_path / "replay_timeline.png")


@pytest.mark.parametrize("seen_only", [True, False])
def test_unevaluated_scores_show_as_gaps(tmp_path, seen_only):
    results = fake_results("mssr")
    if seen_only:
        results["acc_matrix"][0][1:] = [None, None]
    write_report(tmp_path, results)
    row = "| after arithmetic | 0.800 | — | — |" if seen_only else "| after arithmetic | 0.800 |"
    assert row in (tmp_path / "report.md").read_text()
    assert_png(tmp_path / "acc_matrix.png")
