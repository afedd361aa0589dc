"""One raw record (a JSON object or a dataset row) to a validated `Example`.

The three record formats and their keys are listed in `REQUIRED_KEYS`; extra keys are ignored.
Every failure is a DataError naming the file, the 1-based line and the offending field.
"""

from __future__ import annotations

from typing import Any

from mssr.data.formatting import plain_chat_prompt
from mssr.data.schema import Example
from mssr.errors import ConfigError, DataError

# In detection order: a record carrying the keys of several formats gets the first. A tuple
# is one key under any of its names: TRL's prompt/completion rows are prompt_response records.
REQUIRED_KEYS: dict[str, tuple[str | tuple[str, ...], ...]] = {
    "chat": ("messages",),
    "multiple_choice": ("question", "choices", "answer"),
    "prompt_response": ("prompt", ("response", "completion")),
}
CHAT_ROLES = ("system", "user", "assistant")


def matching_formats(record: dict[str, Any]) -> list[str]:
    """The formats whose required keys `record` carries, in detection order."""
    return [name for name, keys in REQUIRED_KEYS.items()
            if all(_key_in(record, key) is not None for key in keys)]


def detect_format(record: Any, path: str, line: int) -> str:
    """The format a record's keys match; DataError when they match none."""
    _require_object(record, path, line)
    formats = matching_formats(record)
    if not formats:
        expected = "; ".join(f"{name}: {', '.join(map(_key_names, keys))}"
                             for name, keys in REQUIRED_KEYS.items())
        raise DataError(path, f"keys {sorted(record)} match no record format (expected {expected})",
                        line)
    return formats[0]


def _key_in(record: dict[str, Any], key: str | tuple[str, ...]) -> str | None:
    """The name under which `record` carries `key` (the first of its names), or None."""
    return next((name for name in ((key,) if isinstance(key, str) else key) if name in record),
                None)


def _key_names(key: str | tuple[str, ...]) -> str:
    return key if isinstance(key, str) else " or ".join(key)


def to_example(record: Any, record_format: str, path: str, line: int) -> Example:
    """Validate `record` as `record_format` and build its Example."""
    _require_object(record, path, line)
    source = f"{path}:{line}"
    if record_format == "prompt_response":
        response = _key_in(record, ("response", "completion")) or "response"
        return Example(prompt=_string(record.get("prompt"), path, line, "prompt"),
                       response=_string(record.get(response), path, line, response),
                       source=source)
    if record_format == "multiple_choice":
        return _multiple_choice(record, path, line, source)
    if record_format == "chat":
        return _chat(record, path, line, source)
    raise ConfigError("format", f"unknown record format {record_format!r}; choose one of: "
                      f"auto, {', '.join(REQUIRED_KEYS)}")


def _require_object(record: Any, path: str, line: int) -> None:
    if not isinstance(record, dict):
        raise DataError(path, f"expected a JSON object, got {type(record).__name__}", line)


def _string(value: Any, path: str, line: int, field: str) -> str:
    """A required, non-empty string."""
    if value is None:
        raise DataError(path, "missing", line, field)
    if not isinstance(value, str):
        raise DataError(path, f"expected a string, got {type(value).__name__}", line, field)
    if not value.strip():
        raise DataError(path, "empty", line, field)
    return value


def _list(record: dict[str, Any], key: str, path: str, line: int) -> list[Any]:
    if key not in record or record[key] is None:
        raise DataError(path, "missing", line, key)
    value = record[key]
    if not isinstance(value, list):
        raise DataError(path, f"expected a list, got {type(value).__name__}", line, key)
    return value


def _multiple_choice(record: dict[str, Any], path: str, line: int, source: str) -> Example:
    question = _string(record.get("question"), path, line, "question")
    raw_choices = _list(record, "choices", path, line)
    if len(raw_choices) < 2:
        raise DataError(path, f"needs at least 2 choices, got {len(raw_choices)}", line, "choices")
    choices = tuple(_string(choice, path, line, f"choices[{index}]")
                    for index, choice in enumerate(raw_choices))
    answer = _answer_index(record.get("answer"), choices, path, line)
    return Example(prompt=f"{question}\nAnswer:", response=choices[answer], choices=choices,
                   answer=answer, source=source)


def _answer_index(answer: Any, choices: tuple[str, ...], path: str, line: int) -> int:
    """The answer as an index into `choices`: given as that index or as the choice's text."""
    if answer is None:
        raise DataError(path, "missing", line, "answer")
    if isinstance(answer, bool) or not isinstance(answer, (int, str)):
        raise DataError(path, f"expected a choice index or a choice's text, got "
                        f"{type(answer).__name__}", line, "answer")
    if isinstance(answer, str):
        if answer not in choices:
            raise DataError(path, f"{answer!r} is not one of the choices {list(choices)}", line,
                            "answer")
        return choices.index(answer)
    if not 0 <= answer < len(choices):
        raise DataError(path, f"index {answer} is out of range for {len(choices)} choices", line,
                        "answer")
    return answer


def _chat(record: dict[str, Any], path: str, line: int, source: str) -> Example:
    turns = _list(record, "messages", path, line)
    if len(turns) < 2:
        raise DataError(path, "needs at least one turn before the assistant's reply", line,
                        "messages")
    messages = tuple(_turn(turn, f"messages[{index}]", path, line)
                     for index, turn in enumerate(turns))
    if messages[-1]["role"] != "assistant":
        raise DataError(path, f"the last turn must be the assistant's, got "
                        f"{messages[-1]['role']!r}", line, f"messages[{len(turns) - 1}].role")
    return Example(prompt=plain_chat_prompt(messages[:-1]), response=messages[-1]["content"],
                   messages=messages, source=source)


def _turn(turn: Any, field: str, path: str, line: int) -> dict[str, str]:
    if not isinstance(turn, dict):
        raise DataError(path, f"expected an object, got {type(turn).__name__}", line, field)
    role = _string(turn.get("role"), path, line, f"{field}.role")
    if role not in CHAT_ROLES:
        raise DataError(path, f"{role!r} is not one of {', '.join(CHAT_ROLES)}", line,
                        f"{field}.role")
    return {"role": role, "content": _string(turn.get("content"), path, line, f"{field}.content")}
