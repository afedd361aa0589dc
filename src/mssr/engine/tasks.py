"""The task sequence of a run: loaded, checked, tokenized once, with stable example ids."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mssr.data.formatting import Encoded, encode_example, with_response
from mssr.data.loaders import TaskData, check_task_size, load_task
from mssr.data.schema import Example
from mssr.errors import ConfigError
from mssr.evaluation.scorers import ANSWER_SCORERS, CHOICE_SCORERS
from mssr.replay import spec_for
from mssr.run_config import RunConfig, TaskConfig

ID_STRIDE = 1_000_000_000  # example id = task index * ID_STRIDE + row: stable across resumes


@dataclass
class PreparedTask:
    """A task's data plus its tokenized training examples."""

    index: int
    data: TaskData
    encoded: list[Encoded]

    @property
    def name(self) -> str:
        return self.data.name

    @property
    def ids(self) -> np.ndarray:
        return self.index * ID_STRIDE + np.arange(len(self.encoded), dtype=np.int64)


def task_configs(config: RunConfig, data_dir: Path) -> list[TaskConfig]:
    """The explicit task list, or the built-in suite written under `data_dir`."""
    if config.suite is None:
        return config.tasks
    from mssr.data.suites import materialize

    return materialize(config.suite, data_dir, seed=config.seed)


def prepare_tasks(config: RunConfig, tokenizer: Any, data_dir: Path) -> list[PreparedTask]:
    """Load, validate and tokenize every task before any training starts."""
    prepared = []
    for index, task in enumerate(task_configs(config, data_dir)):
        data = load_task(task, seed=config.seed, skip_bad_lines=config.skip_bad_lines,
                         data_root=config.data_root)
        check_task_size(data, config.train.batch_size, "train.batch_size")
        if config.replay.targets == "self":
            check_self_targets(data.name, data.scorer, "replay.targets")
        if spec_for(config.replay.strategy).replays:
            check_task_size(data, config.replay.buffer.per_task, "replay.buffer.per_task")
        encoded = [encode_example(example, tokenizer, config.model.max_length)
                   for example in data.train]
        prepared.append(PreparedTask(index=index, data=data, encoded=encoded))
    return prepared


def check_self_targets(task: str, scorer: str, field: str) -> None:
    """`replay.targets: self` needs every task's scorer to judge a generated answer (or to pick
    among stored choices): a ConfigError on `field` naming the task otherwise (`loss`)."""
    if scorer not in ANSWER_SCORERS | CHOICE_SCORERS:
        raise ConfigError(field, f"'self' needs every task's scorer to judge a generated "
                          f"answer, but task {task!r} is scored by {scorer!r} "
                          f"(tasks[{task}].scorer); use replay.targets: stored, or score it "
                          f"with one of: {', '.join(sorted(ANSWER_SCORERS | CHOICE_SCORERS))}")


def lookup(tasks: list[PreparedTask], ids: np.ndarray,
           replaced: dict[int, Encoded] | None = None) -> list[Encoded]:
    """The tokenized examples behind a batch of ids; an id in `replaced` (a buffered example
    whose replay target is the model's own accepted answer) is that replacement."""
    replaced = replaced or {}
    return [replaced.get(int(i)) or tasks[int(i) // ID_STRIDE].encoded[int(i) % ID_STRIDE]
            for i in ids]


def examples_of(tasks: list[PreparedTask], ids: np.ndarray) -> list[Example]:
    """The stored training examples behind ids."""
    return [tasks[int(i) // ID_STRIDE].data.train[int(i) % ID_STRIDE] for i in ids]


def encode_answer(tasks: list[PreparedTask], example_id: int, answer: str, tokenizer: Any,
                  max_length: int) -> Encoded:
    """The training view of example `example_id` with `answer` as its response: the same
    encoding, max_length and truncation rules as its stored response."""
    example = examples_of(tasks, np.array([example_id]))[0]
    return encode_example(with_response(example, answer), tokenizer, max_length)
