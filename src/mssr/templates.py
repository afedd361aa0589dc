"""A task's lm-eval style templates (`doc_to_text`, `doc_to_target`, `doc_to_choice`,
`doc_to_answers`) and `answer_pattern`, compiled when its config loads.

Templates come from config files people share, so they are compiled in Jinja's immutable
sandbox (as transformers renders chat templates) with `StrictUndefined`: a missing column is
an error, never an empty string. A template that does not compile, or keys that do not fit
together, are a ConfigError naming the field. Applying the templates to records is
`mssr.data.mapping`'s job; this module sits below the run configuration, which checks them.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mssr.errors import ConfigError

if TYPE_CHECKING:
    from jinja2 import Template
    from jinja2.environment import TemplateExpression

_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


@dataclass(frozen=True)
class TaskTemplates:
    """A task's compiled templates. `format` is the record format they build: multiple_choice
    (choices and answer index) or prompt_response (with choices, the response is the label).
    `answers` yields every accepted answer (`Example.gold_answers`, for token_f1)."""

    task: str
    format: str
    text: Template
    target: Template
    choices: TemplateExpression | tuple[str, ...] | None
    answer_pattern: re.Pattern[str] | None
    answers: TemplateExpression | None = None


def compile_templates(name: str, format: str, scorer: str, doc_to_text: str | None,
                      doc_to_target: str | None, doc_to_choice: list[str] | str | None,
                      answer_pattern: str | None,
                      doc_to_answers: str | None) -> TaskTemplates | None:
    """Task `name`'s compiled templates, or None for records in one of the three built-in
    formats; ConfigError when its mapping keys do not fit together or a template does not
    compile. `TaskConfig.templates()` passes its fields."""
    fields = {"doc_to_text": doc_to_text, "doc_to_target": doc_to_target,
              "doc_to_choice": doc_to_choice, "answer_pattern": answer_pattern,
              "doc_to_answers": doc_to_answers}
    given = [field for field, value in fields.items() if value is not None]
    if doc_to_text is None and doc_to_target is None:
        if given:
            raise ConfigError(given[0], f"task '{name}': needs doc_to_text and doc_to_target")
        return None
    for field in ("doc_to_text", "doc_to_target"):
        if fields[field] is None:
            raise ConfigError(field, f"task '{name}': doc_to_text and doc_to_target go "
                              "together")
    if format == "chat":
        raise ConfigError("format", f"task '{name}': templates build prompt_response or "
                          "multiple_choice examples, not chat")
    if format == "multiple_choice" and doc_to_choice is None:
        raise ConfigError("doc_to_choice", f"task '{name}': multiple_choice needs choices")
    for field in ("answer_pattern", "doc_to_answers"):
        if fields[field] is not None and doc_to_choice is not None:
            raise ConfigError(field, f"task '{name}': with doc_to_choice the target is "
                              "already a choice")
    if doc_to_answers is not None and scorer != "token_f1":
        raise ConfigError("doc_to_answers", f"task '{name}': only the token_f1 scorer "
                          f"reads gold answers, but the scorer is {scorer!r}")
    record_format = format
    if record_format == "auto":
        record_format = "prompt_response" if doc_to_choice is None else "multiple_choice"
    return TaskTemplates(
        task=name, format=record_format,
        text=_template(doc_to_text, "doc_to_text", name),
        target=_template(doc_to_target, "doc_to_target", name),
        choices=_choices(doc_to_choice, name),
        answer_pattern=_pattern(answer_pattern, name),
        answers=(None if doc_to_answers is None else
                 _expression(doc_to_answers, "doc_to_answers", name, "{{ answers.text }}")))


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
