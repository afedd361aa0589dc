"""Field mapping: a task's prompt, response, choices, answer and gold answers built from any
dataset's columns with its compiled lm-eval style templates (`mssr.templates`).

Templates are rendered in Jinja's immutable sandbox with `StrictUndefined`: a missing column
is an error, never an empty string. Template syntax is checked when the config loads; every
record-level mistake is a DataError naming the task, the record and the template field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mssr.data.schema import Example
from mssr.errors import DataError
from mssr.templates import TaskTemplates

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.environment import TemplateExpression

    from mssr.run_config import TaskConfig

_INDEX = re.compile(r"^\s*-?\d+\s*$")


@dataclass(frozen=True)
class FieldMapping:
    """A task's compiled templates (`templates`) applied to its records."""

    templates: TaskTemplates

    def example(self, record: Any, source: str, line: int) -> Example:
        """The Example `record` maps to; DataError naming the task, record and field."""
        templates = self.templates
        if not isinstance(record, Mapping):
            raise DataError(source, f"task '{templates.task}': expected a record of columns, "
                            f"got {type(record).__name__}", line)
        origin = f"{source}:{line}"
        prompt = self._text(templates.text, record, source, line, "doc_to_text")
        target = self._text(templates.target, record, source, line, "doc_to_target")
        if templates.choices is None:
            response = self._extract(target, source, line)
            gold_answers = (None if templates.answers is None else
                            self._list(templates.answers, record, source, line,
                                       "doc_to_answers", "gold answer", 1))
            return Example(prompt=prompt, response=response, source=origin,
                           gold_answers=gold_answers)
        choices = self._choices(record, source, line)
        answer = self._answer_index(target, choices, source, line)
        if templates.format == "prompt_response":
            return Example(prompt=prompt, response=choices[answer], source=origin)
        return Example(prompt=prompt, response=choices[answer], choices=choices, answer=answer,
                       source=origin)

    def _error(self, source: str, line: int, field: str, message: str) -> DataError:
        return DataError(source, f"task '{self.templates.task}': {message}", line, field)

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
        pattern = self.templates.answer_pattern
        if pattern is None:
            return target
        matches = list(pattern.finditer(target))
        if not matches:
            raise self._error(source, line, "answer_pattern", f"no match for "
                              f"{pattern.pattern!r} in {_shorten(target)!r}")
        last = matches[-1]
        answer = (last.group(1) if pattern.groups else last.group(0)).strip()
        if not answer:
            raise self._error(source, line, "answer_pattern", "the match is empty")
        return answer

    def _choices(self, record: Mapping[str, Any], source: str, line: int) -> tuple[str, ...]:
        choices = self.templates.choices
        if isinstance(choices, tuple):
            return choices
        return self._list(choices, record, source, line, "doc_to_choice", "choice", 2)

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
    templates = task.templates()
    return None if templates is None else FieldMapping(templates)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
