"""Continual-learning metrics from an accuracy matrix (MSSR.md section 5)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from mssr.errors import MSSRError


def continual_metrics(acc_matrix: Sequence[Sequence[float | None]],
                      base_scores: Sequence[float]) -> dict[str, float | None]:
    """AP, BWT, FWT and forgetting of a run; scores are higher-is-better.

    A[i][j] is the score on task j after training task i (0-based), T the number of trained
    tasks (rows), A[T-1] the last row, b_j the base model's score on task j:
      ap         = mean_j A[T-1][j]
      bwt        = mean_{j<T-1} (A[T-1][j] - A[j][j])
      fwt        = mean_{1<=j<T} (A[j-1][j] - b_j)    (GEM's FWT, against the base model)
      forgetting = mean_{j<T-1} (max_{i<T-1} A[i][j] - A[T-1][j])   (max-based, Chaudhry et al.)
    Entries that are None (not evaluated) drop out of every mean; a metric with no terms (one
    task, or tasks never evaluated before training) is None.
    """
    rows = [list(row) for row in acc_matrix]
    if not rows:
        raise MSSRError("continual_metrics needs at least one row of scores")
    if any(len(row) != len(base_scores) for row in rows):
        raise MSSRError(f"every accuracy-matrix row needs {len(base_scores)} scores (one per "
                        f"task), got rows of length {sorted({len(row) for row in rows})}")
    last, trained = rows[-1], len(rows)
    earlier = range(trained - 1)
    return {
        "ap": _mean(last),
        "bwt": _mean(_difference(last[j], rows[j][j]) for j in earlier),
        "fwt": _mean(_difference(rows[j - 1][j], base_scores[j]) for j in range(1, trained)),
        "forgetting": _mean(_difference(_max(rows[i][j] for i in earlier), last[j])
                            for j in earlier),
    }


def normalised_score(final_scores: Sequence[float | None],
                     reference_scores: Sequence[float | None]) -> float | None:
    """The average normalised score: mean_j A[T-1][j] / R_j, R_j the reference's final score
    on task j (a joint run, or fine-tuning on task j alone). Tasks without a score or with a
    reference of 0 or less (nothing to normalise by) drop out; None when none is left."""
    if len(final_scores) != len(reference_scores):
        raise MSSRError(f"normalised_score needs one reference per task: {len(final_scores)} "
                        f"scores, {len(reference_scores)} references")
    return _mean(score / reference for score, reference in zip(final_scores, reference_scores,
                                                               strict=True)
                 if score is not None and reference is not None and reference > 0)


def _difference(minuend: float | None, subtrahend: float | None) -> float | None:
    if minuend is None or subtrahend is None:
        return None
    return minuend - subtrahend


def _max(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return max(present) if present else None


def _mean(values: Iterable[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(np.mean(present)) if present else None
