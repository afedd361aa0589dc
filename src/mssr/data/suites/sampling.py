"""Small drawing helpers shared by the task generators (numpy Generators only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def pick(rng: np.random.Generator, options: Sequence[T]) -> T:
    """One element of `options`, uniformly."""
    return options[int(rng.integers(len(options)))]


def pick_distinct(rng: np.random.Generator, options: Sequence[T], count: int) -> list[T]:
    """`count` different elements of `options`, in random order."""
    return [options[int(i)] for i in rng.choice(len(options), size=count, replace=False)]


def multiple_choice(rng: np.random.Generator, question: str, answer: str,
                    candidates: Sequence[str], num_choices: int = 4) -> dict:
    """A multiple-choice record: the answer among distractors drawn from `candidates`."""
    distractors = pick_distinct(rng, [c for c in candidates if c != answer], num_choices - 1)
    choices = [answer, *distractors]
    order = rng.permutation(num_choices)
    shuffled = [choices[int(i)] for i in order]
    return {"question": question, "choices": shuffled, "answer": int(np.argmin(order))}
