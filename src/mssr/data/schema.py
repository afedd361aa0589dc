"""The example record every loader produces and every other part consumes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    """One task example, already validated.

    `prompt` and `response` are plain text: for chat data they are filled in by rendering
    `messages` (prompt = every turn up to the last assistant turn, response = that turn), and
    for multiple choice `response` is the text of the correct choice. `source` says where the
    record came from ("file.jsonl:12") so later errors can point at it. `gold_answers` lists
    every accepted answer where a dataset has several (SQuAD); `token_f1` takes the best.
    """

    prompt: str
    response: str
    choices: tuple[str, ...] | None = None
    answer: int | None = None
    messages: tuple[dict, ...] | None = None
    source: str = ""
    gold_answers: tuple[str, ...] | None = None

    @property
    def is_multiple_choice(self) -> bool:
        return self.choices is not None
