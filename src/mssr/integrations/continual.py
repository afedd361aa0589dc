"""What every trainer integration shares: the continual settings, the task record, and the
replay driver (replay/driver.py, the engine's own) with what a host trainer adds to it.

Per optimizer step the trainer asks the driver for the step's example ids (`plan_step`),
trains on them in one forward pass, and hands back every trained id with its loss
(`finish_step`); at each task end it records the scores. Same seed, same losses: same ids as
`mssr run`."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from mssr.engine.anchor import WeightAnchor
from mssr.engine.checkpoint import load_tree, save_tree
from mssr.engine.scoring import results_record
from mssr.engine.tasks import ID_STRIDE
from mssr.errors import ConfigError, MSSRError
from mssr.replay.budget import validate_replay_budget
from mssr.replay.config import ReplayConfig
from mssr.replay.driver import ReplayDriver
from mssr.replay.progress import Progress
from mssr.run_config import EvalConfig
from mssr.typed_config import Section, help_field, require, to_mapping

if TYPE_CHECKING:
    from mssr.report.reference import Reference

# files in each checkpoint folder, beside the trainer's own
REPLAY_STATE, PROGRESS_STATE, ANCHOR_STATE = "mssr_replay", "mssr_progress", "mssr_anchor.pt"


@dataclass
class ContinualConfig(Section):
    """What `mssr run` configures beyond the host trainer's own arguments (the trainer's
    arguments give the seed, batch size, learning rate and schedule)."""

    steps_per_task: int = help_field(help="optimizer steps on each task")
    replay: ReplayConfig = help_field(default_factory=ReplayConfig)
    replay_budget: int | str | None = help_field(
        None, "replayed examples per task: a number, or 'match:STRATEGY' (as in `mssr run`)")
    reset_optimizer: bool = help_field(
        True, "fresh optimizer state and LR schedule (warm-up included) at every task")
    eval: EvalConfig = help_field(default_factory=EvalConfig)
    max_length: int = help_field(128, "tokens per scored example (prompt + answer)")
    reference_runs: list[str] = help_field(
        [], "finished runs (joint, or each task fine-tuned alone) whose final scores give "
        "metrics.normalised_score, as in `mssr run`")

    def validate(self) -> None:
        require(self.steps_per_task >= 1, "steps_per_task", "must be >= 1")
        require(self.max_length >= 8, "max_length", "must be >= 8")
        require(all(isinstance(run, str) for run in self.reference_runs), "reference_runs",
                "give the run directories as strings (they go into results.json)")
        validate_replay_budget(self.replay_budget, self.replay, self.steps_per_task)


@dataclass
class ContinualTask:
    """One task of the sequence: the rows the trainer trains on (ReplayTrainer: tokenized
    input_ids and labels; ReplaySFTTrainer: a Dataset or list in SFTTrainer's formats, or rows
    in any format `mssr run` reads, or mssr Examples) and the data scored after every task
    with `scorer` (one of mssr's scorers, or auto): a `datasets.Dataset`, a list of dicts in
    any format `mssr run` reads (prompt/completion or prompt/response, messages,
    question/choices/answer) or a list of mssr Examples. The trainer's constructor checks
    both before any training (see `check_tasks`)."""

    name: str
    train: Any
    eval: Any
    scorer: str = "auto"


class TrainerReplay(ReplayDriver):
    """The replay driver of a trainer run over a task sequence of `sizes[i]` training rows
    each (example id = task index * ID_STRIDE + row, as in the engine), with FOREVER's
    anchor, the reference runs, results.json and the replay files of the trainer's
    checkpoints."""

    def __init__(self, continual: ContinualConfig, sizes: list[int], batch_size: int,
                 seed: int):
        super().__init__(continual.replay, continual.replay_budget,
                         [index * ID_STRIDE + np.arange(size, dtype=np.int64)
                          for index, size in enumerate(sizes)],
                         continual.steps_per_task, batch_size, seed)
        self.continual = continual
        self.anchor = WeightAnchor(enabled=self.spec.anchors)
        self.reference: Reference | None = None

    def check_reference(self, tasks: list[ContinualTask]) -> None:
        """Load `reference_runs` (if any) and check they score every task the same way, before
        any training, as `mssr run` does."""
        from mssr.report.reference import load_reference

        if self.continual.reference_runs:
            self.reference = load_reference(self.continual.reference_runs)
            self.reference.for_tasks([task.name for task in tasks],
                                     {task.name: task.scorer for task in tasks}, "reference_runs")

    def start_step(self, trainable: list[torch.nn.Parameter]) -> bool:
        """`begin_step`; at a task's first step FOREVER's anchor keeps the `trainable` weights
        the task starts from. True then."""
        started = self.begin_step()
        if started:
            self.anchor.start_task(trainable)
        return started

    def evaluated_upto(self) -> int | None:
        """Tasks scored after the current one: all, or those seen so far (`eval.tasks`)."""
        return None if self.continual.eval.tasks == "all" else self.progress.task

    def add_eval_seconds(self, seconds: float) -> None:
        self.progress.ledger.eval_seconds += seconds

    # ---------------------------------------------------------------- results and state
    def results(self, tasks: list[ContinualTask], run_config: dict[str, Any]) -> dict[str, Any]:
        """results.json's content, as `mssr run` writes it (normalised score included)."""
        from mssr.report.reference import with_normalised_score

        progress = self.progress
        if not self.finished or progress.base_scores is None:
            raise MSSRError("no results yet: the task sequence has not been trained to the end")
        results = results_record(
            strategy=self.config.strategy, seed=self.seed,
            tasks=[task.name for task in tasks], scorers=[task.scorer for task in tasks],
            progress=progress, replay=self.record(),
            config={**run_config, "continual": to_mapping(self.continual)})
        return with_normalised_score(results, self.reference, "reference_runs")

    def save(self, directory: Path) -> None:
        save_tree(directory, REPLAY_STATE, self.strategy.state_dict())
        save_tree(directory, PROGRESS_STATE, self.progress.state_dict())
        torch.save(self.anchor.state_dict(), directory / ANCHOR_STATE)

    def load_checkpoint(self, directory: Path) -> None:
        for name in (f"{PROGRESS_STATE}.json", ANCHOR_STATE):
            if not (directory / name).is_file():
                raise MSSRError(f"{directory}: no {name}, so no replay state to resume (was this "
                                "checkpoint written by an mssr replay trainer of this version?)")
        self.load(Progress.from_state(load_tree(directory, PROGRESS_STATE)),
                  load_tree(directory, REPLAY_STATE))
        self.anchor.load_state_dict(torch.load(directory / ANCHOR_STATE, map_location="cpu",
                                               weights_only=True))


def check_tasks(tasks: list[ContinualTask]) -> list[ContinualTask]:
    """The tasks with their eval data as mssr Examples (format detected and every row checked
    as `mssr run` checks a file) and their scorers resolved; ConfigErrors naming the task (and
    the row and field) for an empty sequence, repeated names, a task without data, eval data
    of a wrong type or a row that fits no format, or a scorer that cannot score the data."""
    from mssr.data.loaders import examples_from_rows
    from mssr.data.scorer_choice import resolve_scorer
    from mssr.run_config import SCORERS

    if not tasks:
        raise ConfigError("tasks", "give at least one ContinualTask")
    names = [task.name for task in tasks]
    if len(set(names)) != len(names):
        raise ConfigError("tasks", f"task names repeat: {names}")
    checked = []
    for task in tasks:
        if task.train is None or len(task.train) == 0:
            raise ConfigError(f"tasks[{task.name}].train", "no training rows")
        if task.scorer not in SCORERS:
            raise ConfigError(f"tasks[{task.name}].scorer", f"{task.scorer!r} is not a scorer; "
                              f"choose one of: {', '.join(SCORERS)}")
        evaluation = examples_from_rows(task.eval, f"tasks[{task.name}].eval")
        scorer = resolve_scorer(task.scorer, evaluation.format, evaluation.examples, task.name)
        checked.append(dataclasses.replace(task, eval=evaluation.examples, scorer=scorer))
    return checked
