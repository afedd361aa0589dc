"""Deterministic train/eval splits: a pure function of (seed, task name), so every rank and
every resumed run sees the same examples."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

from mssr.errors import ConfigError, DataError

T = TypeVar("T")


def task_rng(seed: int, task_name: str) -> np.random.Generator:
    """The generator of a task's data order, seeded by (seed, crc32 of its name)."""
    if seed < 0:
        raise ConfigError("seed", f"must be >= 0, got {seed}")
    return np.random.default_rng((seed, zlib.crc32(task_name.encode("utf-8"))))


def split_examples(train: Sequence[T], eval_examples: Sequence[T] | None, eval_fraction: float,
                   rng: np.random.Generator, source: str) -> tuple[list[T], list[T]]:
    """(train, eval): train in a shuffled order; without `eval_examples`, `eval_fraction` of
    train (at least one example, in file order) is carved out first."""
    order = rng.permutation(len(train))
    if eval_examples is not None:
        return [train[i] for i in order], list(eval_examples)
    if len(train) < 2:
        raise DataError(source, f"{len(train)} example(s): too few to carve an eval split; "
                        "give the task an eval file")
    carved = min(len(train) - 1, max(1, round(eval_fraction * len(train))))
    return ([train[i] for i in order[carved:]],
            [train[i] for i in sorted(order[:carved])])



def sample_in_order(items: Sequence[T], count: int, rng: np.random.Generator) -> list[T]:
    """`count` items drawn without replacement, in their original order (all when fewer)."""
    if count >= len(items):
        return list(items)
    return [items[i] for i in sorted(rng.choice(len(items), size=count, replace=False))]


def row_sampler(count: int | None,
                rng: np.random.Generator) -> Callable[[int], list[int]] | None:
    """A chooser of `count` sorted row positions out of n (all when n <= count); None when
    there is no limit."""
    if count is None:
        return None
    return lambda total: sorted(rng.choice(total, size=count, replace=False).tolist()) \
        if total > count else list(range(total))
