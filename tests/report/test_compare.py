"""compare_runs and `mssr compare`: mean ± std per strategy, best marked, budgets shown,
files written, mismatched task lists refused."""

from __future__ import annotations

import re

import pytest
from fake_runs import TASKS, fake_results, write_run
from PIL import Image

from mssr.cli import main
from mssr.errors import MSSRError
from mssr.report import compare_runs, write_results


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
    assert "Norm. score" not in table  # no reference: no such column
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


def test_a_joint_run_is_the_reference_of_the_normalised_score(tmp_path, three_strategies):
    joint = write_run(tmp_path, "joint-0", strategy="joint", ap_shift=0.2, replayed=0)
    table = compare_runs([*three_strategies, joint])
    header = row_of(table, "Strategy")
    column = header.index("Norm. score")
    assert header[column - 1] == "Forgetting"
    # joint's final row: 0.8, 0.9, 0.95; mssr seed 0: 0.65, 0.75, 0.95; seed 1: 0.75, 0.85, 0.95
    seed0 = (0.65 / 0.8 + 0.75 / 0.9 + 1) / 3
    seed1 = (0.75 / 0.8 + 0.85 / 0.9 + 1) / 3
    assert row_of(table, "mssr")[column] == (
        f"**{(seed0 + seed1) / 2:.3f} ± {abs(seed1 - seed0) / 2 ** 0.5:.3f}**")
    assert row_of(table, "joint")[column] == "1.000"
    assert "divided by its final score in the reference" in table


def single_task_run(root, task: str, scorer: str, score: float):
    """A finished run that fine-tuned `task` alone, ending at `score`."""
    results = fake_results("none", replayed=0) | {
        "tasks": [task], "scorers": {task: scorer}, "base_scores": [0.1],
        "acc_matrix": [[score]], "task_boundaries": [0], "replay_timeline": []}
    write_results(root / task, results)
    return root / task


def test_single_task_runs_given_as_reference(tmp_path, three_strategies):
    scorers = fake_results()["scorers"]
    alone = [single_task_run(tmp_path / "alone", task, scorer, 0.5)
             for task, scorer in scorers.items()]
    table = compare_runs(three_strategies[-1:], reference_dirs=alone)
    expected = (0.6 / 0.5 + 0.7 / 0.5 + 0.95 / 0.5) / 3  # uniform's final row: 0.6, 0.7, 0.95
    assert row_of(table, "uniform")[row_of(table, "Strategy").index("Norm. score")] == (
        f"{expected:.3f}")
    with pytest.raises(MSSRError, match="no final score for task.*capitals, sentiment"):
        compare_runs(three_strategies[-1:], reference_dirs=alone[:1])
    other_scorer = single_task_run(tmp_path / "other", "arithmetic", "exact_match", 0.5)
    with pytest.raises(MSSRError, match="'arithmetic' is scored with numeric, its reference "
                       "with exact_match"):
        compare_runs(three_strategies[-1:], reference_dirs=[other_scorer, *alone[1:]])


def test_final_scores_per_task_name_their_scorers(three_strategies):
    table = compare_runs(three_strategies)
    assert "| Strategy | `arithmetic` (numeric) | `capitals` (exact_match) | `sentiment` " \
        "(multiple_choice) |" in table
    assert "| mssr | 0.700 | 0.800 | 0.950 |" in table  # mean of seeds' final rows


def test_the_command_takes_a_reference(tmp_path, three_strategies, capsys):
    joint = write_run(tmp_path / "ref", "joint-0", strategy="joint", replayed=0)
    with pytest.raises(SystemExit) as exited:
        main(["compare", str(tmp_path / "none-*"), "--reference", str(joint),
              "--output", str(tmp_path / "out")])
    assert exited.value.code == 0
    assert "Norm. score" in capsys.readouterr().out


def test_without_a_reference_the_runs_own_normalised_scores_are_shown(tmp_path):
    results = fake_results("mssr") | {"reference": {"runs": ["joint-0"],
                                                    "scores": dict.fromkeys(TASKS, 1.0)}}
    results["metrics"]["normalised_score"] = 0.8
    write_results(tmp_path / "mssr-0", results)
    table = compare_runs([tmp_path / "mssr-0"])
    assert row_of(table, "mssr")[row_of(table, "Strategy").index("Norm. score")] == "0.800"
    assert "against that run's own `reference_runs`" in table
