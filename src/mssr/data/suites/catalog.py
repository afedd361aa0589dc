"""What the built-in suites contain: their tasks (format, scorer, generator) and task orders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mssr.data.suites import arithmetic, knowledge, language
from mssr.data.suites.world import World
from mssr.errors import ConfigError

Generator = Callable[[World, np.random.Generator], dict]


@dataclass(frozen=True)
class TaskInfo:
    """One task of a suite: its record format, its scorer, and the generator of one record."""

    format: str
    scorer: str
    description: str
    generate: Generator = field(repr=False, compare=False)


@dataclass(frozen=True)
class SuiteInfo:
    """A suite: its tasks by name and its named task orders."""

    name: str
    description: str
    orders: dict[str, list[str]]
    tasks: dict[str, TaskInfo]
    train_examples: int = 800
    eval_examples: int = 80


def _task(format: str, scorer: str, generate: Generator) -> TaskInfo:
    description = (generate.__doc__ or "").strip().split("\n")[0]
    return TaskInfo(format=format, scorer=scorer, description=description, generate=generate)


DEFAULT_TASKS = {
    "word_problems": _task("prompt_response", "numeric", arithmetic.word_problem),
    "country_capitals": TaskInfo("multiple_choice", "multiple_choice",
                                 "Pick the capital of a made-up country.",
                                 knowledge.country_capitals),
    "review_sentiment": _task("prompt_response", "exact_match", language.review_sentiment),
    "reverse_words": _task("prompt_response", "exact_match", language.reverse_words),
    "chat_opposites": _task("chat", "exact_match", language.chat_opposites),
    "count_color": _task("prompt_response", "numeric", arithmetic.count_color),
    "country_languages": TaskInfo("multiple_choice", "multiple_choice",
                                  "Pick the language of a made-up country (same countries).",
                                  knowledge.country_languages),
    "topic_label": _task("prompt_response", "exact_match", language.topic_label),
    "pluralize": _task("prompt_response", "rouge_l", language.pluralize),
    "chat_arithmetic": _task("chat", "numeric", arithmetic.chat_arithmetic),
    "creature_habitats": TaskInfo("multiple_choice", "multiple_choice",
                                  "Pick where a made-up creature lives.",
                                  knowledge.creature_habitats),
}
DEFAULT_ORDER = list(DEFAULT_TASKS)
# numpy.random.default_rng(2026).permutation of the default order, written out so it never
# depends on the numpy version.
SHUFFLED_ORDER = ["country_capitals", "chat_arithmetic", "word_problems", "country_languages",
                  "pluralize", "reverse_words", "count_color", "review_sentiment", "topic_label",
                  "chat_opposites", "creature_habitats"]

SUITES: dict[str, SuiteInfo] = {
    "default": SuiteInfo(
        name="default",
        description="11 small interfering tasks: arithmetic, synthetic facts, classification, "
                    "text transformation and chat",
        orders={"default": DEFAULT_ORDER, "reverse": DEFAULT_ORDER[::-1],
                "shuffled": SHUFFLED_ORDER},
        tasks=DEFAULT_TASKS),
}


def list_suites() -> list[SuiteInfo]:
    """Every built-in suite, by name."""
    return [SUITES[name] for name in sorted(SUITES)]


def suite_order(name: str, order: str, num_tasks: int | None = None) -> tuple[SuiteInfo,
                                                                              list[str]]:
    """The suite `name` and the first `num_tasks` task names of its `order`; a ConfigError
    (field relative to the suite section) listing the valid names otherwise."""
    if name not in SUITES:
        raise ConfigError("name", f"unknown suite {name!r}; valid suites are: "
                          f"{', '.join(sorted(SUITES))}")
    info = SUITES[name]
    if order not in info.orders:
        raise ConfigError("order", f"suite {name!r} has no order {order!r}; valid orders are: "
                          f"{', '.join(sorted(info.orders))}")
    tasks = info.orders[order]
    if num_tasks is not None and num_tasks > len(tasks):
        raise ConfigError("num_tasks", f"suite {name!r} has {len(tasks)} tasks, asked for "
                          f"{num_tasks}")
    return info, tasks[:num_tasks]
