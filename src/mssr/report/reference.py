"""The reference of the average normalised score: each task's final score in finished reference
runs (a `joint` run, or single-task fine-tuning runs), and a run's score normalised by it."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mssr.errors import MSSRError
from mssr.evaluation.metrics import normalised_score
from mssr.report.results import load_results


@dataclass(frozen=True)
class Reference:
    """Per task: the mean final score over the reference runs that scored it, and its scorer."""

    runs: list[str]
    scores: dict[str, float]
    scorers: dict[str, str]

    def for_tasks(self, tasks: Sequence[str], scorers: dict[str, str], source: str
                  ) -> list[float]:
        """The reference score of each task; an error naming `source` when a task has none or
        was scored differently."""
        missing = [task for task in tasks if task not in self.scores]
        if missing:
            raise MSSRError(f"{source}: the reference runs ({', '.join(self.runs)}) have no final "
                            f"score for task(s) {', '.join(missing)}")
        for task in tasks:
            if scorers[task] != self.scorers[task]:
                raise MSSRError(f"{source}: task {task!r} is scored with {scorers[task]}, its "
                                f"reference with {self.scorers[task]}: the ratio would mean "
                                "nothing")
        return [self.scores[task] for task in tasks]


def load_reference(run_dirs: Sequence[str | Path]) -> Reference:
    """The final row of each reference run's accuracy matrix, averaged per task over the runs
    (seeds of a joint run; one run per task for single-task fine-tuning)."""
    if not run_dirs:
        raise MSSRError("a reference needs at least one finished run")
    return reference_from([load_results(run_dir) for run_dir in run_dirs],
                          [str(run_dir) for run_dir in run_dirs])


def reference_from(runs: Sequence[dict], names: Sequence[str]) -> Reference:
    """`load_reference` on results already loaded; `names` say where each came from."""
    finals: dict[str, list[float]] = {}
    scorers: dict[str, str] = {}
    for results, name in zip(runs, names, strict=True):
        for task, score in zip(results["tasks"], results["acc_matrix"][-1], strict=True):
            scorer = results["scorers"][task]
            if scorers.setdefault(task, scorer) != scorer:
                raise MSSRError(f"{name}: task {task!r} is scored with {scorer} here and with "
                                f"{scorers[task]} in another reference run")
            if score is not None:
                finals.setdefault(task, []).append(score)
    return Reference(runs=list(names), scorers=scorers,
                     scores={task: float(np.mean(values)) for task, values in finals.items()})


def with_normalised_score(results: dict, reference: Reference | None, source: str) -> dict:
    """A copy of `results` whose metrics hold `normalised_score` (None without a reference)
    and, with one, a `reference` record: the runs and each task's reference score."""
    updated = copy.deepcopy(results)
    if reference is None:
        updated["metrics"]["normalised_score"] = None
        return updated
    tasks = results["tasks"]
    scores = reference.for_tasks(tasks, results["scorers"], source)
    updated["metrics"]["normalised_score"] = normalised_score(results["acc_matrix"][-1], scores)
    updated["reference"] = {"runs": reference.runs,
                            "scores": dict(zip(tasks, scores, strict=True))}
    return updated
