"""Answer normalisation and number extraction."""

from __future__ import annotations

import pytest

from mssr.answers import is_number, last_number, normalise_text, numbers_match


@pytest.mark.parametrize(("text", "expected"), [
    ("  Blue.", "blue"), ("New   York!\n", "new york"), ("42", "42"), ("a, b,", "a, b"),
    ("", ""), ("...", "")])
def test_normalise_text(text, expected):
    assert normalise_text(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("#### 72", 72.0), ("She pays $1,000 then 18.", 18.0), ("costs 1,234,567 dollars", 1234567.0),
    ("it is -3.5", -3.5), ("so .5 left", 0.5), ("answer: 42,", 42.0), ("no digits", None),
    ("7 apples and 1,000", 1000.0)])
def test_last_number(text, expected):
    assert last_number(text) == expected


def test_numbers_match_tolerates_float_rounding_only():
    assert numbers_match(0.1 + 0.2, 0.3)
    assert not numbers_match(0.31, 0.3)
    assert not numbers_match(None, 0.0)


@pytest.mark.parametrize(("text", "number"), [
    ("42", True), (" -3.5 ", True), ("1,234,567", True), (".5", True), ("+.5", True),
    ("1,23", False), ("-", False), ("", False), ("4 apples", False), ("1e5", False)])
def test_is_number_reads_one_number_as_the_numeric_scorer_does(text, number):
    assert is_number(text) is number
    if number:
        assert last_number(text) is not None
