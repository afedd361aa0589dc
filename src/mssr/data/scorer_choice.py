"""Which scorer a task gets: the one asked for, checked against the data, or one inferred from
the responses when the config says `auto`."""

from __future__ import annotations

from collections.abc import Sequence

from mssr.answers import is_number, last_number
from mssr.data.schema import Example
from mssr.errors import ConfigError

SHORT_RESPONSE_WORDS = 4.0  # mean words per response at or below which exact match is used


def resolve_scorer(requested: str, record_format: str, examples: Sequence[Example],
                   task_name: str) -> str:
    """`requested`, or for `auto` the scorer the data calls for; ConfigError naming the task's
    scorer field when an explicit choice cannot score this data."""
    all_numeric = all(is_number(example.response) for example in examples)
    field = f"tasks[{task_name}].scorer"
    if requested == "multiple_choice" and record_format != "multiple_choice":
        raise ConfigError(field, f"multiple_choice needs multiple-choice data (question, "
                          f"choices, answer), but task '{task_name}' is {record_format}")
    if requested == "numeric":
        example = next((e for e in examples if last_number(e.response) is None), None)
        if example is not None:
            raise ConfigError(field, f"numeric needs a number in every response (its last "
                              f"number is the answer), but task '{task_name}' has "
                              f"{example.response!r} ({example.source})")
    if requested != "auto":
        return requested
    if record_format == "multiple_choice":
        return "multiple_choice"
    if all_numeric:
        return "numeric"
    mean_words = sum(len(example.response.split()) for example in examples) / len(examples)
    return "exact_match" if mean_words <= SHORT_RESPONSE_WORDS else "rouge_l"
