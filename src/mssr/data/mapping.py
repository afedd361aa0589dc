"""Field mapping: a task's prompt, response, choices, answer and gold answers built from any
dataset's columns with lm-eval style templates (`doc_to_text`, `doc_to_target`,
`doc_to_choice`, `doc_to_answers`).

Templates come from config files people share, so they are rendered in Jinja's immutable
sandbox (as transformers renders chat templates) with `StrictUndefined`: a missing column is
an error, never an empty string. Template syntax is checked when the config loads; every
record-level mistake is a DataError naming the task, the record and the template field.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mssr.data.schema import Example
from mssr.errors import ConfigError, DataError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.environment import TemplateExpression

    from mssr.run_config import TaskConfig

MAPPING_FIELDS = ("doc_to_text", "doc_to_target", "doc_to_choice", "answer_pattern",
                  "doc_to_answers")
_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)
_INDEX = re.compile(r"^\s*-?\d+\s*$")


@dataclass(frozen=True)
class FieldMapping:
    """A task's compiled templates. `format` is the record format it builds: multiple_choice
    (choices and answer index) or prompt_response (with choices, the response is the label).
    `answers` yields every accepted answer (`Example.gold_answers`, for token_f1)."""

    task: str
    format: str
    text: Template
    target: Template
    choices: TemplateExpression | tuple[str, ...] | None
    answer_pattern: re.Pattern[str] | None
    answers: TemplateExpression | None = None

    def example(self, record: Any, source: str, line: int) -> Example:
        """The Example `record` maps to; DataError naming the task, record and field."""
        if not isinstance(record, Mapping):
            raise DataError(source, f"task '{self.task}': expected a record of columns, got "
                            f"{type(record).__name__}", line)
        origin = f"{source}:{line}"
        prompt = self._text(self.text, record, source, line, "doc_to_text")
        target = self._text(self.target, record, source, line, "doc_to_target")
        if self.choices is None:
            response = self._extract(target, source, line)
            gold_answers = (None if self.answers is None else
                            self._list(self.answers, record, source, line, "doc_to_answers",
                                       "gold answer", 1))
            return Example(prompt=prompt, response=response, source=origin,
                           gold_answers=gold_answers)
        choices = self._choices(record, source, line)
        answer = self._answer_index(target, choices, source, line)
        if self.format == "prompt_response":
            return Example(prompt=prompt, response=choices[answer], source=origin)
        return Example(prompt=prompt, response=choices[answer], choices=choices, answer=answer,
                       source=origin)

    def _error(self, source: str, line: int, field: str, message: str) -> DataError:
        return DataError(source, f"task '{self.task}': {message}", line, field)

    def _render(self, render: Any, record: Mapping[str, Any], source: str, line: int,
                field: str) -> Any:
        from jinja2 import TemplateError, UndefinedError

        try:
            return render(dict(record))  # a column may be named like a parameter
        except UndefinedError as error:
            raise self._error(source, line, field, f"{error.message}; the record's columns "
                              f"are: {', '.join(map(str, record))}") from None
        except (TemplateError, TypeError, ValueError, LookupError, AttributeError) as error:
            raise self._error(source, line, field, f"{type(error).__name__}: {error}") from None

    def _text(self, template: Template, record: Mapping[str, Any], source: str, line: int,
              field: str) -> str:
        text = self._render(template.render, record, source, line, field)
        if not text.strip():
            raise self._error(source, line, field, "the template renders an empty string")
        return text

    def _extract(self, target: str, source: str, line: int) -> str:
        """The answer `answer_pattern` finds in the target (its last match), or the target."""
        if self.answer_pattern is None:
            return target
        matches = list(self.answer_pattern.finditer(target))
        if not matches:
            raise self._error(source, line, "answer_pattern", f"no match for "
                              f"{self.answer_pattern.pattern!r} in {_shorten(target)!r}")
        last = matches[-1]
        answer = (last.group(1) if self.answer_pattern.groups else last.group(0)).strip()
        if not answer:
            raise self._error(source, line, "answer_pattern", "the match is empty")
        return answer

    def _choices(self, record: Mapping[str, Any], source: str, line: int) -> tuple[str, ...]:
        if isinstance(self.choices, tuple):
            return self.choices
        return self._list(self.choices, record, source, line, "doc_to_choice", "choice", 2)

    def _list(self, expression: TemplateExpression, record: Mapping[str, Any], source: str,
              line: int, field: str, item: str, minimum: int) -> tuple[str, ...]:
        """The list of at least `minimum` non-empty strings (each an `item`) that `expression`
        yields for `record`."""
        from jinja2 import Undefined

        value = self._render(expression, record, source, line, field)
        if isinstance(value, Undefined):
            raise self._error(source, line, field, f"{value._undefined_message}; "
                              f"the record's columns are: {', '.join(map(str, record))}")
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise self._error(source, line, field,
                              f"expected a list of {item}s, got {type(value).__name__}")
        items = tuple(value)
        if len(items) < minimum:
            raise self._error(source, line, field,
                              f"needs at least {minimum} {item}(s), got {len(items)}")
        for index, text in enumerate(items):
            if not isinstance(text, str) or not text.strip():
                raise self._error(source, line, field, f"{item} {index} is {text!r}; every "
                                  f"{item} must be a non-empty string")
        return items

    def _answer_index(self, target: str, choices: tuple[str, ...], source: str,
                      line: int) -> int:
        """The target as an index into `choices`: rendered as that index or as the choice."""
        if _INDEX.match(target):
            index = int(target)
            if not 0 <= index < len(choices):
                raise self._error(source, line, "doc_to_target", f"choice index {index} is "
                                  f"out of range for {len(choices)} choices")
            return index
        if target in choices:
            return choices.index(target)
        if target.strip() in choices:
            return choices.index(target.strip())
        raise self._error(source, line, "doc_to_target", f"{_shorten(target)!r} is neither a "
                          f"choice index nor one of the choices {list(choices)}")


def compile_mapping(task: TaskConfig) -> FieldMapping | None:
    """The task's FieldMapping, or None for records in one of the three built-in formats;
    ConfigError when its mapping keys do not fit together or a template does not compile."""
    given = [name for name in MAPPING_FIELDS if getattr(task, name) is not None]
    if task.doc_to_text is None and task.doc_to_target is None:
        if given:
            raise ConfigError(given[0], f"task '{task.name}': needs doc_to_text and "
                              "doc_to_target")
        return None
    for name in ("doc_to_text", "doc_to_target"):
        if getattr(task, name) is None:
            raise ConfigError(name, f"task '{task.name}': doc_to_text and doc_to_target go "
                              "together")
    if task.format == "chat":
        raise ConfigError("format", f"task '{task.name}': templates build prompt_response or "
                          "multiple_choice examples, not chat")
    if task.format == "multiple_choice" and task.doc_to_choice is None:
        raise ConfigError("doc_to_choice", f"task '{task.name}': multiple_choice needs choices")
    for name in ("answer_pattern", "doc_to_answers"):
        if getattr(task, name) is not None and task.doc_to_choice is not None:
            raise ConfigError(name, f"task '{task.name}': with doc_to_choice the target is "
                              "already a choice")
    if task.doc_to_answers is not None and task.scorer != "token_f1":
        raise ConfigError("doc_to_answers", f"task '{task.name}': only the token_f1 scorer "
                          f"reads gold answers, but the scorer is {task.scorer!r}")
    record_format = task.format
    if record_format == "auto":
        record_format = "prompt_response" if task.doc_to_choice is None else "multiple_choice"
    return FieldMapping(
        task=task.name, format=record_format,
        text=_template(task.doc_to_text, "doc_to_text", task.name),
        target=_template(task.doc_to_target, "doc_to_target", task.name),
        choices=_choices(task.doc_to_choice, task.name),
        answer_pattern=_pattern(task.answer_pattern, task.name),
        answers=(None if task.doc_to_answers is None else
                 _expression(task.doc_to_answers, "doc_to_answers", task.name,
                             "{{ answers.text }}")))


@functools.cache
def sandbox() -> Any:
    """The shared Jinja environment: immutable sandbox, StrictUndefined, `boxed` filter."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    environment = ImmutableSandboxedEnvironment(undefined=StrictUndefined,
                                                keep_trailing_newline=True)
    environment.filters["boxed"] = last_boxed
    return environment


def last_boxed(text: str) -> str:
    r"""The content of the last `\boxed{...}` (or `\fbox{...}`, or `\boxed x`) in `text`,
    nested braces included: MATH's final answers. ValueError when there is none."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        raise ValueError("no \\boxed{...} answer in the text")
    if text.startswith("\\boxed ", start):
        answer = text[start + len("\\boxed "):].split("$")[0].strip()
        if answer:
            return answer
    opening = start + len("\\boxed" if text.startswith("\\boxed", start) else "\\fbox")
    if not text.startswith("{", opening):
        raise ValueError("no \\boxed{...} answer in the text")
    depth = 0
    for index in range(opening, len(text)):
        if text[index] == "{":
            depth += 1
        elif text[index] == "}":
            depth -= 1
            if depth == 0:
                return text[opening + 1:index]
    raise ValueError("unbalanced braces in \\boxed{...}")


def _template(source: str, field: str, task: str) -> Template:
    from jinja2 import TemplateError

    try:
        return sandbox().from_string(source)
    except TemplateError as error:
        raise ConfigError(field, f"task '{task}': template error: {error}") from None


def _choices(choices: list[str] | str | None,
             task: str) -> TemplateExpression | tuple[str, ...] | None:
    if choices is None or isinstance(choices, list):
        if choices is not None and (len(choices) < 2 or not all(
                isinstance(choice, str) and choice.strip() for choice in choices)):
            raise ConfigError("doc_to_choice", f"task '{task}': a list of at least 2 "
                              "non-empty labels")
        return None if choices is None else tuple(choices)
    return _expression(choices, "doc_to_choice", task, "{{ choices.text }}",
                       "a list of labels or ")


def _expression(source: str, field: str, task: str, example: str,
                alternative: str = "") -> TemplateExpression:
    """`source`, one '{{ expression }}', compiled; ConfigError naming `field` otherwise."""
    from jinja2 import TemplateError

    match = _EXPRESSION.match(source)
    if match is None:
        raise ConfigError(field, f"task '{task}': give {alternative}one '{{{{ expression }}}}' "
                          f"that yields a list, e.g. '{example}'")
    try:
        return sandbox().compile_expression(match.group(1), undefined_to_none=False)
    except TemplateError as error:
        raise ConfigError(field, f"task '{task}': template error: {error}") from None


def _pattern(pattern: str | None, task: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ConfigError("answer_pattern", f"task '{task}': invalid regex: {error}") from None
    if compiled.groups > 1:
        raise ConfigError("answer_pattern", f"task '{task}': at most one group (the answer)")
    return compiled


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
