"""Text-to-text scores of one answer: SQuAD's token F1 and ROUGE-L with a Unicode tokenizer."""

from __future__ import annotations

import collections
import functools
import re
import string
from collections.abc import Sequence
from typing import Any

ARTICLES = re.compile(r"\b(a|an|the)\b")
# Scripts written without spaces: each character is a token (as multilingual ROUGE does).
UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{UNSPACED}]|(?:(?![{UNSPACED}])[^\W_])+")


def squad_normalise(text: str) -> str:
    """SQuAD v1.1's answer normalisation: lowercase, drop ASCII punctuation and the articles
    a/an/the, collapse whitespace."""
    text = "".join(char for char in text.lower() if char not in string.punctuation)
    return " ".join(ARTICLES.sub(" ", text).split())


def token_f1(prediction: str, golds: str | Sequence[str]) -> float:
    """SQuAD token F1 of `prediction` against the best-matching gold answer: the harmonic mean
    of precision and recall of the normalised tokens they share (bag of words)."""
    references = [golds] if isinstance(golds, str) else list(golds)
    if not references:
        raise ValueError("token_f1 needs at least one gold answer")
    return max(_f1(squad_normalise(prediction).split(), squad_normalise(gold).split())
               for gold in references)


def _f1(predicted: list[str], gold: list[str]) -> float:
    if not predicted or not gold:
        return float(predicted == gold)  # both empty: a match; one empty: no overlap
    common = sum((collections.Counter(predicted) & collections.Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


class UnicodeWordTokenizer:
    """rouge-score's tokenizer interface (`tokenize(text) -> tokens`) keeping every script:
    casefolded runs of Unicode letters and digits, one token per Han or kana character.
    rouge-score's default keeps only [a-z0-9], so a Chinese or Greek answer scores 0."""

    def tokenize(self, text: str) -> list[str]:
        return WORD.findall(text.casefold())


@functools.cache
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=UnicodeWordTokenizer())


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F-measure on `UnicodeWordTokenizer` tokens, no stemming."""
    return _rouge().score(reference, prediction)["rougeL"].fmeasure
