"""Evaluation: task scorers and the continual-learning metrics built from their scores."""

from mssr.evaluation.metrics import continual_metrics
from mssr.evaluation.scorers import TaskScore, score_task

__all__ = ["TaskScore", "continual_metrics", "score_task"]
