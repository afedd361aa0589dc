"""Continual metrics on hand-made matrices, each value worked out by hand in the comment."""

from __future__ import annotations

import pytest

from mssr.errors import MSSRError
from mssr.evaluation import continual_metrics

THREE_TASKS = [[0.9, 0.2, 0.1],
               [0.6, 0.8, 0.3],
               [0.7, 0.5, 0.9]]
THREE_BASE = [0.1, 0.1, 0.2]


def test_three_tasks():
    metrics = continual_metrics(THREE_TASKS, THREE_BASE)
    # AP = (0.7 + 0.5 + 0.9) / 3
    assert metrics["ap"] == pytest.approx(0.7)
    # BWT = ((0.7 - 0.9) + (0.5 - 0.8)) / 2
    assert metrics["bwt"] == pytest.approx(-0.25)
    # FWT = ((A[0][1] - b1) + (A[1][2] - b2)) / 2 = ((0.2 - 0.1) + (0.3 - 0.2)) / 2
    assert metrics["fwt"] == pytest.approx(0.1)
    # forgetting: task 0 max(0.9, 0.6) - 0.7 = 0.2; task 1 max(0.2, 0.8) - 0.5 = 0.3
    assert metrics["forgetting"] == pytest.approx(0.25)


def test_forgetting_is_max_based_not_first_minus_last():
    # task 0 peaks after task 1 (0.95), not when it was learned (0.5)
    metrics = continual_metrics([[0.5, 0.0, 0.0], [0.95, 0.6, 0.0], [0.8, 0.6, 0.7]],
                                [0.0, 0.0, 0.0])
    # max-based: ((0.95 - 0.8) + (0.6 - 0.6)) / 2; first-minus-last would be (-0.3 + 0) / 2
    assert metrics["forgetting"] == pytest.approx(0.075)
    assert metrics["bwt"] == pytest.approx(0.15)


def test_one_task_has_only_ap():
    assert continual_metrics([[0.4, None]], [0.1, 0.2]) == {
        "ap": pytest.approx(0.4), "bwt": None, "fwt": None, "forgetting": None}


def test_unevaluated_entries_drop_out_of_the_means():
    # tasks scored only once seen: no A[j-1][j], so no FWT
    rows = [[0.9, None], [0.6, 0.8]]
    metrics = continual_metrics(rows, [0.1, 0.3])
    assert metrics["ap"] == pytest.approx(0.7)
    assert metrics["bwt"] == pytest.approx(-0.3)
    assert metrics["forgetting"] == pytest.approx(0.3)
    assert metrics["fwt"] is None


def test_rows_must_match_the_task_count():
    with pytest.raises(MSSRError, match="2 scores"):
        continual_metrics([[0.5, 0.5, 0.5]], [0.0, 0.0])
    with pytest.raises(MSSRError, match="at least one row"):
        continual_metrics([], [0.0])


def test_normalised_score_is_the_mean_ratio_to_the_reference():
    from mssr.evaluation.metrics import normalised_score

    assert normalised_score([0.4, 0.9, 0.3], [0.8, 0.9, 0.6]) == pytest.approx((0.5 + 1 + 0.5) / 3)
    # a missing score or a reference of 0 drops the task out of the mean
    assert normalised_score([0.4, None, 0.3], [0.8, 0.9, 0.0]) == pytest.approx(0.5)
    assert normalised_score([None], [0.5]) is None
    with pytest.raises(MSSRError, match="one reference per task"):
        normalised_score([0.4], [0.8, 0.9])
