"""What every trainer integration shares: the continual settings, the task record, and the
driver that takes the replay decisions step by step exactly as the engine's recipe does.

The driver knows nothing of the host trainer. Per optimizer step the trainer asks it for the
step's example ids (`plan_step`), trains on them in one forward pass, and hands back every
trained id with its loss (`finish_step`); at each task end it records the scores. Same seed,
same losses: same ids as `mssr run`."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from mssr.engine.anchor import WeightAnchor
from mssr.engine.checkpoint import load_tree, save_tree
from mssr.engine.data_order import step_ids
from mssr.engine.ledger import count_batch
from mssr.engine.recipe import close_task
from mssr.engine.replay_setup import resolve_replay
from mssr.engine.scoring import results_record
from mssr.engine.state import Progress
from mssr.engine.tasks import ID_STRIDE
from mssr.errors import ConfigError, MSSRError
from mssr.replay import build_strategy
from mssr.replay.budget import validate_replay_budget
from mssr.replay.config import ReplayConfig
from mssr.run_config import EvalConfig, RunConfig, TrainConfig
from mssr.typed_config import help_field, require, to_mapping

if TYPE_CHECKING:
    from mssr.report.reference import Reference

# files in each checkpoint folder, beside the trainer's own
REPLAY_STATE, PROGRESS_STATE, ANCHOR_STATE = "mssr_replay", "mssr_progress", "mssr_anchor.pt"


@dataclass
class ContinualConfig:
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
        for name, section in (("replay", self.replay), ("eval", self.eval)):
            try:
                section.validate()
            except ConfigError as error:
                raise ConfigError(f"{name}.{error.field}", error.message) from None
        validate_replay_budget(self.replay_budget, self.replay)


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


class ReplayDriver:
    """The replay strategy and the run's progress through a task sequence of `sizes[i]`
    training rows each; example id = task index * ID_STRIDE + row, as in the engine."""

    def __init__(self, config: ContinualConfig, sizes: list[int], batch_size: int, seed: int):
        self.config, self.batch_size, self.seed = config, batch_size, seed
        run_config = RunConfig(train=TrainConfig(steps_per_task=config.steps_per_task,
                                                 batch_size=batch_size),
                               replay=config.replay, replay_budget=config.replay_budget)
        self.replay_config, self.budget = resolve_replay(run_config)
        self.strategy = build_strategy(self.replay_config, seed=seed)
        self.anchor = WeightAnchor(enabled=self.strategy.anchors)
        self.reference: Reference | None = None
        self.task_ids = [index * ID_STRIDE + np.arange(size, dtype=np.int64)
                         for index, size in enumerate(sizes)]
        self.progress = Progress()
        self.current_count = 0
        self.wall_start = time.perf_counter()
        self.step_start = 0.0

    def check_reference(self, tasks: list[ContinualTask]) -> None:
        """Load `reference_runs` (if any) and check they score every task the same way, before
        any training, as `mssr run` does."""
        from mssr.report.reference import load_reference

        if self.config.reference_runs:
            self.reference = load_reference(self.config.reference_runs)
            self.reference.for_tasks([task.name for task in tasks],
                                     {task.name: task.scorer for task in tasks}, "reference_runs")

    # ---------------------------------------------------------------- where the run stands
    @property
    def total_steps(self) -> int:
        return self.config.steps_per_task * len(self.task_ids)

    @property
    def finished(self) -> bool:
        return self.progress.phase >= len(self.task_ids)

    @property
    def task_done(self) -> bool:
        return self.progress.phase_step == self.config.steps_per_task

    # ---------------------------------------------------------------- one step
    def begin_step(self, trainable: list[torch.nn.Parameter]) -> bool:
        """Open the step; True when it is the first of a task (the task is started here, and
        FOREVER's anchor keeps the `trainable` weights the task starts from)."""
        self.step_start = time.perf_counter()
        if self.progress.phase_step:
            return False
        progress = self.progress
        progress.cursor = 0
        progress.task_boundaries.append(progress.global_step)
        self.strategy.start_task(progress.phase, progress.global_step,
                                 self.task_ids[progress.phase])
        self.anchor.start_task(trainable)
        return True

    def probe_ids(self) -> np.ndarray | None:
        """Buffered ids the accuracy baseline wants scored before this step's plan."""
        return self.strategy.probe_ids(self.progress.global_step)

    def report_probe(self, accuracy: float, tokens: int) -> None:
        self.strategy.report_probe(self.progress.global_step, accuracy, tokens)
        self.progress.ledger["method_eval_tokens"] += tokens

    def plan_step(self) -> np.ndarray:
        """The step's global batch of ids, composed as the engine composes it (after
        `begin_step` and `probe_ids`)."""
        progress = self.progress
        ids, self.current_count = step_ids(self.strategy, progress.global_step, self.batch_size,
                                           self.seed, progress.phase,
                                           self.task_ids[progress.phase], progress.cursor)
        replayed = len(ids) - self.current_count
        if replayed:
            progress.replay_timeline.append({"step": progress.global_step,
                                             "task": progress.phase, "replayed": replayed})
        return ids

    def finish_step(self, token_counts: np.ndarray, ids: np.ndarray, losses: np.ndarray,
                    update_norm: float | None) -> None:
        """After the optimizer step: `token_counts` are the tokens of the planned batch's
        examples, in plan order; `ids`/`losses` every trained example of the global batch
        (gathered across processes)."""
        progress, ledger = self.progress, self.progress.ledger
        step = progress.global_step
        task_loss = float(losses[np.isin(ids, self.task_ids[progress.phase])].mean())
        if np.isfinite(losses).all():
            self.strategy.observe(step, ids, losses, task_loss=task_loss, update_norm=update_norm)
        else:
            ledger["skipped_nonfinite_steps"] += 1
        ledger["optimizer_steps"] += 1
        count_batch(ledger, token_counts[:self.current_count], token_counts[self.current_count:])
        ledger["replay_events"] = self.strategy.stats["replay_events"]
        ledger["train_seconds"] += time.perf_counter() - self.step_start
        ledger["wall_seconds"] = time.perf_counter() - self.wall_start
        progress.cursor += self.current_count
        progress.global_step += 1
        progress.phase_step += 1

    def end_task(self, scores: list[float | None]) -> None:
        """Close the current task: the buffer takes its share, `scores` is its accuracy row."""
        close_task(self.progress, self.strategy, scores)
        self.progress.ledger["wall_seconds"] = time.perf_counter() - self.wall_start

    def evaluated_upto(self) -> int | None:
        """Tasks scored after the current one: all, or those seen so far (`eval.tasks`)."""
        return None if self.config.eval.tasks == "all" else self.progress.phase

    def add_eval_seconds(self, seconds: float) -> None:
        self.progress.ledger["eval_seconds"] += seconds

    # ---------------------------------------------------------------- results and state
    def results(self, tasks: list[ContinualTask], run_config: dict[str, Any]) -> dict[str, Any]:
        """results.json's content, as `mssr run` writes it (normalised score included)."""
        from mssr.report.reference import with_normalised_score

        progress = self.progress
        if not self.finished or progress.base_scores is None:
            raise MSSRError("no results yet: the task sequence has not been trained to the end")
        results = results_record(
            strategy=self.replay_config.strategy, seed=self.seed,
            tasks=[task.name for task in tasks], scorers=[task.scorer for task in tasks],
            progress=progress, budget=self.budget,
            calibration=self.strategy.calibration_record(),
            config={**run_config, "continual": to_mapping(self.config),
                    "resolved_replay": to_mapping(self.replay_config)})
        return with_normalised_score(results, self.reference, "reference_runs")

    def save(self, directory: Path) -> None:
        save_tree(directory, REPLAY_STATE, self.strategy.state_dict())
        save_tree(directory, PROGRESS_STATE, dataclasses.asdict(self.progress))
        torch.save(self.anchor.state_dict(), directory / ANCHOR_STATE)

    def load(self, directory: Path) -> None:
        for name in (f"{PROGRESS_STATE}.json", ANCHOR_STATE):
            if not (directory / name).is_file():
                raise MSSRError(f"{directory}: no {name}, so no replay state to resume (was this "
                                "checkpoint written by an mssr replay trainer of this version?)")
        self.progress = Progress(**load_tree(directory, PROGRESS_STATE))
        self.strategy.load_state_dict(load_tree(directory, REPLAY_STATE))
        self.anchor.load_state_dict(torch.load(directory / ANCHOR_STATE, map_location="cpu",
                                               weights_only=True))

    def start_clock(self) -> None:
        """Wall time counts from here, on top of what a resumed run had already spent."""
        self.wall_start = time.perf_counter() - self.progress.ledger["wall_seconds"]


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
