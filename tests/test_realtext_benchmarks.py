"""The realtext data-only ceiling and the realtext report: the learner, what the shipped data
determines, and the table's target marks from finished runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: benchmarks/
sys.path.insert(0, str(PROJECT_ROOT / "benchmarks"))
import realtext_ceiling  # noqa: E402
import realtext_report  # noqa: E402


def test_naive_bayes_learns_the_words_of_each_label():
    fitted = realtext_ceiling.NaiveBayes([("a puzzle game", "games"), ("arcade game", "games"),
                                          ("mail server", "mail"), ("mail reader", "mail")])
    assert fitted.predict("a card game") == "games"
    assert fitted.predict("a mail client") == "mail"


def test_the_shipped_answers_are_in_their_documents():
    """The multiple choice's description says its package's name and no distractor's; each
    generated answer is written in its passage."""
    assert realtext_ceiling.ceiling("debian_packages")["word overlap"] >= 0.95
    for task in ("manpage_names", "python_doc_modules"):
        assert realtext_ceiling.ceiling(task)["answer in passage"] == 1.0


def fake_run(directory: Path, arm: str, seed: int, learned: list[float], ap: float,
             bwt: float | None) -> None:
    """A results.json whose A[j][j] are `learned` and whose last row is half of them."""
    size = len(learned)
    matrix = np.zeros((size, size))
    matrix[np.arange(size), np.arange(size)] = learned
    matrix[-1] = np.array(learned) / 2
    matrix[-1, -1] = learned[-1]
    run = directory / f"seed{seed}" / arm
    run.mkdir(parents=True)
    tasks = list(realtext_report.realtext.TASKS)[:size]
    (run / "results.json").write_text(json.dumps({
        "tasks": tasks, "acc_matrix": matrix.tolist(), "metrics": {"ap": ap, "bwt": bwt}}))


def test_report_marks_a_target_met_only_on_every_seed(tmp_path):
    # debian_sections (target 0.6), wordnet_nouns (0.6)
    fake_run(tmp_path, "none", 0, [0.7, 0.9], ap=0.5, bwt=-0.3)
    fake_run(tmp_path, "none", 1, [0.7, 0.5], ap=0.5, bwt=-0.3)
    fake_run(tmp_path, "joint", 0, [0.9, 0.9], ap=0.9, bwt=None)
    table = realtext_report.report(tmp_path)
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()}
    assert rows["debian_sections"].endswith("| met |")
    assert rows["wordnet_nouns"].endswith("| missed |")  # seed 1 at 0.5
    assert "0.70 (0.50)" in rows["wordnet_nouns"]  # mean over seeds (lowest seed)
    assert "**1 / 2**" in table
    assert "joint AP >= 0.8: met" in table and "BWT in [-0.5, -0.1]: inside" in table
