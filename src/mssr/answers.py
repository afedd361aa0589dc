"""Answer normalisation and number reading: how generated text is compared to a reference, and
how a task's responses are checked for numbers (one pattern for both)."""

from __future__ import annotations

import math
import re
import string

# GSM8K-style answers: "42", "-3.5", "1,234", "+.5".
NUMBER = re.compile(r"[-+]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)")
TRAILING_PUNCTUATION = string.punctuation + "。．！？"


def normalise_text(text: str) -> str:
    """Stripped, casefolded, whitespace collapsed and trailing punctuation removed, so "Blue."
    and " blue" count as the same answer."""
    collapsed = " ".join(text.split()).casefold()
    return collapsed.rstrip(TRAILING_PUNCTUATION).rstrip()


def is_number(text: str) -> bool:
    """Whether `text` (spaces around it ignored) is one number, as numeric scoring reads it."""
    return NUMBER.fullmatch(text.strip()) is not None


def last_number(text: str) -> float | None:
    """The last number in `text` (GSM8K style: the final answer comes last); thousands commas
    are allowed ("1,000" is 1000). None when the text holds no number."""
    matches = NUMBER.findall(text)
    return float(matches[-1].replace(",", "")) if matches else None


def numbers_match(predicted: float | None, reference: float) -> bool:
    """Numeric equality up to float rounding (0.1 + 0.2 answers 0.3)."""
    return predicted is not None and math.isclose(predicted, reference, rel_tol=1e-9,
                                                  abs_tol=1e-9)
