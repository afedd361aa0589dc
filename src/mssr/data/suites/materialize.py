"""Write a suite's tasks as JSONL files (deterministic from the seed) and describe them as
TaskConfigs for the run."""

from __future__ import annotations

import json
import os
import tempfile
import zlib
from pathlib import Path

import numpy as np

from mssr.data.suites.catalog import TaskInfo, suite_order
from mssr.data.suites.world import World, build_world
from mssr.errors import ConfigError
from mssr.run_config import SuiteConfig, TaskConfig

MAX_DRAWS_PER_EXAMPLE = 50  # give up when a task's space of distinct records is exhausted


def check_suite(suite: SuiteConfig | None) -> None:
    """A ConfigError (suite.name, suite.order) listing the valid names when the config's
    suite or order is not a built-in one; nothing for a config without a suite."""
    if suite is None:
        return
    try:
        suite_order(suite.name, suite.order, suite.num_tasks)
    except ConfigError as error:
        raise ConfigError(f"suite.{error.field}", error.message) from None


def materialize(suite: SuiteConfig, root: Path, seed: int) -> list[TaskConfig]:
    """Write root/<suite>/<task>/{train,eval}.jsonl for the order's first `num_tasks` tasks and
    return their TaskConfigs in that order: generated from the seed, or (suites of real text)
    the first records of the shipped files."""
    check_suite(suite)
    info, names = suite_order(suite.name, suite.order, suite.num_tasks)
    train_count = suite.train_examples or info.train_examples
    eval_count = suite.eval_examples or info.eval_examples
    world = build_world(np.random.default_rng([seed, _stable_id(info.name)]))
    configs = []
    for name in names:
        task = info.tasks[name]
        if task.data is not None:
            eval_records = _shipped(task.data / "eval.jsonl", eval_count, name)
            train_records = _shipped(task.data / "train.jsonl", train_count, name)
        else:
            rng = np.random.default_rng([seed, _stable_id(info.name), _stable_id(name)])
            records = _distinct_records(task, world, rng, eval_count + train_count, name)
            eval_records, train_records = records[:eval_count], records[eval_count:]
        directory = Path(root) / info.name / name
        train_path, eval_path = directory / "train.jsonl", directory / "eval.jsonl"
        write_jsonl(eval_path, eval_records)
        write_jsonl(train_path, train_records)
        configs.append(TaskConfig(name=name, train=str(train_path), eval=str(eval_path),
                                  format=task.format, scorer=task.scorer))
    return configs


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Write records one JSON object a line, atomically; an identical file is left untouched."""
    text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _distinct_records(task: TaskInfo, world: World, rng: np.random.Generator, count: int,
                      name: str) -> list[dict]:
    """`count` different records, so no evaluation record also appears in training."""
    seen: set[str] = set()
    records = []
    for _ in range(MAX_DRAWS_PER_EXAMPLE * count):
        record = task.generate(world, rng)
        key = json.dumps(record, sort_keys=True)
        if key not in seen:
            seen.add(key)
            records.append(record)
            if len(records) == count:
                return records
    raise ConfigError("suite.train_examples", f"task {name!r} has fewer than {count} distinct "
                      "examples; ask for fewer train_examples or eval_examples")


def _shipped(path: Path, count: int | None, name: str) -> list[dict]:
    """The first `count` records of a shipped file (built by scripts/build_realtext_suite.py;
    the same for every seed), or all of them for None. Asking for more than it holds is an
    error."""
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    if count is not None and count > len(records):
        raise ConfigError("suite.train_examples", f"task {name!r} ships {len(records)} "
                          f"records in {path.name}, asked for {count}")
    return records[:count]


def _stable_id(name: str) -> int:
    """A seed component from a name that is the same in every process (unlike hash())."""
    return zlib.crc32(name.encode("utf-8"))
