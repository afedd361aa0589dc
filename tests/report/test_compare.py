"""compare_runs and `mssr compare`: mean ± std per strategy, best marked, budgets shown,
files written, mismatched task lists refused."""

from __future__ import annotations

import re

import pytest
from fake_runs import write_run
from PIL import Image

from mssr.cli import main
from mssr.errors import MSSRError
from mssr.report import compare_runs


def row_of(table: str, strategy: str) -> list[str]:
    line = next(line for line in table.splitlines() if line.startswith(f"| {strategy} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


@pytest.fixture
def three_strategies(tmp_path):
    """none and mssr with two seeds each, uniform with one."""
    return [write_run(tmp_path, "none-0", strategy="none", seed=0, ap_shift=-0.2, replayed=0),
            write_run(tmp_path, "none-1", strategy="none", seed=1, ap_shift=-0.1, replayed=0),
            write_run(tmp_path, "mssr-0", strategy="mssr", seed=0, ap_shift=0.05, replayed=192),
            write_run(tmp_path, "mssr-1", strategy="mssr", seed=1, ap_shift=0.15, replayed=208),
            write_run(tmp_path, "uniform-0", strategy="uniform", ap_shift=0.0, replayed=400)]


def test_mean_and_sample_std_over_seeds(three_strategies):
    table = compare_runs(three_strategies)
    strategy, seeds, budget, ap, bwt, fwt, forgetting, replayed, *_ = row_of(table, "mssr")
    assert (strategy, seeds, budget) == ("mssr", "0, 1", "match:mssr (100 / task)")
    # AP 0.80 and 0.90: mean 0.85, sample std 0.0707
    assert ap == "**0.850 ± 0.071**"
    assert forgetting == "**0.100 ± 0.071**"
    assert replayed == "200 ± 11.3"  # 192 and 208
    assert row_of(table, "uniform")[3] == "0.750"  # one seed: no ± part


def test_best_per_column_is_bold_and_only_there(three_strategies):
    table = compare_runs(three_strategies)
    none, mssr, uniform = (row_of(table, name) for name in ("none", "mssr", "uniform"))
    assert mssr[3].startswith("**") and not none[3].startswith("**")
    assert none[7] == "**0 ± 0**"  # fewest replayed examples
    assert not any(cell.startswith("**") for cell in uniform)
    assert "**" not in " ".join(row_of(table, "mssr")[5:6])  # FWT identical everywhere


def test_the_joint_upper_bound_is_never_marked_best(tmp_path, three_strategies):
    joint = write_run(tmp_path, "joint-0", strategy="joint", ap_shift=0.3, replayed=0)
    table = compare_runs([*three_strategies, joint])
    assert not any("**" in cell for cell in row_of(table, "joint"))
    assert row_of(table, "mssr")[3].startswith("**")


def test_files_go_to_the_common_parent_or_output(tmp_path, three_strategies):
    table = compare_runs(three_strategies)
    assert (tmp_path / "comparison.md").read_text() == table + "\n"
    with Image.open(tmp_path / "comparison.png") as image:
        assert image.format == "PNG"
    compare_runs(three_strategies[:1], output_dir=tmp_path / "elsewhere")
    assert (tmp_path / "elsewhere" / "comparison.md").exists()


def test_runs_of_different_task_lists_are_refused(tmp_path, three_strategies):
    other = write_run(tmp_path, "other", tasks=["a", "b", "c"])
    with pytest.raises(MSSRError, match=r"cannot compare .*other.* different task lists"):
        compare_runs([three_strategies[0], other])


def test_the_command_expands_globs_and_prints_the_table(tmp_path, three_strategies, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(tmp_path / "*-0"), str(tmp_path / "mssr-1"),
              "--output", str(tmp_path / "out")])
    assert exited.value.code == 0
    printed = capsys.readouterr().out
    assert re.search(r"\| mssr \| 0, 1 \|", printed)
    assert "| none | 0 |" in printed and "| uniform | 0 |" in printed
    assert (tmp_path / "out" / "comparison.md").read_text() == printed


def test_the_command_names_a_pattern_that_matches_nothing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(tmp_path / "missing-*")])
    assert exited.value.code == 2
    assert "missing-*: matches no run directory" in capsys.readouterr().err
