"""Task scorers: how well a model does on a task's evaluation examples, and what it cost."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mssr.answers import last_number, normalise_text, numbers_match
from mssr.data.formatting import choice_texts, encode, encode_example, render
from mssr.data.schema import Example
from mssr.errors import ConfigError, DataError, MSSRError
from mssr.evaluation.generation import generate_greedy, visible_text
from mssr.evaluation.loglik import continuation_logliks
from mssr.evaluation.model_mode import inference
from mssr.evaluation.text_metrics import rouge_l, token_f1


@dataclass(frozen=True)
class TaskScore:
    """One task's score. Accuracy-like scorers give a value in [0, 1]; the `loss` scorer gives
    the mean response loss with `higher_is_better=False`. `tokens` counts every token the model
    processed (prompts, choices, generated tokens) for compute accounting."""

    score: float
    higher_is_better: bool
    tokens: int
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ScoringLimits:
    batch_size: int
    max_new_tokens: int
    max_length: int


Scorer = Callable[[Any, Any, list[Example], ScoringLimits], TaskScore]


def score_task(model: Any, tokenizer: Any, examples: list[Example], scorer: str, *,
               batch_size: int = 32, max_new_tokens: int = 16,
               max_length: int = 128) -> TaskScore:
    """Score `examples` with the named scorer on the model's device, in eval mode without
    gradients; the model's train/eval mode is restored afterwards."""
    if scorer not in _SCORERS:
        raise ConfigError("scorer", f"unknown scorer {scorer!r}; choose one of "
                          f"{', '.join(sorted(_SCORERS))}")
    if not examples:
        raise MSSRError(f"no evaluation examples to score with {scorer!r}")
    limits = ScoringLimits(batch_size=batch_size, max_new_tokens=max_new_tokens,
                           max_length=max_length)
    with inference(model):
        return _SCORERS[scorer](model, tokenizer, examples, limits)


def _generation_scorer(compare: Callable[[str, str, Example], float]) -> Scorer:
    """A scorer that generates greedily from each prompt and averages
    `compare(generated, reference_response, example)` over the examples."""

    def score(model: Any, tokenizer: Any, examples: list[Example],
              limits: ScoringLimits) -> TaskScore:
        _, values, tokens = _generate_and_compare(model, tokenizer, examples, compare, limits)
        return TaskScore(score=float(np.mean(values)), higher_is_better=True, tokens=tokens)

    return score


def _generate_and_compare(model: Any, tokenizer: Any, examples: list[Example],
                          compare: Callable[[str, str, Example], float],
                          limits: ScoringLimits) -> tuple[list[str], list[float], int]:
    """Each example's greedy answer, its `compare(generated, reference_response, example)` and
    the tokens spent; both texts are decoded without special tokens (a chat reference loses
    its end-of-turn token)."""
    rendered = [render(example, tokenizer) for example in examples]
    generations = generate_greedy(model, tokenizer, [prompt for prompt, _ in rendered],
                                  batch_size=limits.batch_size,
                                  max_new_tokens=limits.max_new_tokens,
                                  max_length=limits.max_length)
    values = [compare(generated, visible_text(tokenizer, reference), example)
              for generated, (_, reference), example
              in zip(generations.texts, rendered, examples, strict=True)]
    return generations.texts, values, generations.tokens


def _exact_match(generated: str, reference: str, example: Example) -> float:
    return float(normalise_text(generated) == normalise_text(reference))


def _numeric(generated: str, reference: str, example: Example | None) -> float:
    expected = last_number(reference)
    if expected is None:
        raise DataError((example and example.source) or "<example>",
                        f"the numeric scorer needs a number in the response, got {reference!r}",
                        field="response")
    return float(numbers_match(last_number(generated), expected))


def _rouge_l(generated: str, reference: str, example: Example) -> float:
    return rouge_l(generated, reference)


def _token_f1(generated: str, reference: str, example: Example | None) -> float:
    """SQuAD token F1 against the best of the example's gold answers (its response if it has
    no list, or if there is no example: a tokenized row)."""
    return token_f1(generated, (example and example.gold_answers) or reference)


def _multiple_choice(model: Any, tokenizer: Any, examples: list[Example],
                     limits: ScoringLimits) -> TaskScore:
    """lm-evaluation-harness: every choice's summed log-likelihood after the prompt, all
    (example, choice) pairs batched together, then `choice_predictions`."""
    pairs, owners = [], []
    for index, example in enumerate(examples):
        if not example.is_multiple_choice or example.answer is None:
            raise DataError(example.source or "<example>",
                            "the multiple_choice scorer needs choices and an answer",
                            field="choices")
        prompt, _ = render(example, tokenizer)
        for choice in choice_texts(example):
            pairs.append(encode(tokenizer, prompt, choice, limits.max_length, add_eos=False))
            owners.append(index)
    scored = continuation_logliks(model, tokenizer, pairs, batch_size=limits.batch_size)
    logliks, owners_array = np.array(scored.logliks), np.array(owners)
    acc, acc_norm = [], []
    for index, example in enumerate(examples):
        predicted, predicted_norm = choice_predictions(logliks[owners_array == index],
                                                       example.choices)
        acc.append(predicted == example.answer)
        acc_norm.append(predicted_norm == example.answer)
    return TaskScore(score=float(np.mean(acc)), higher_is_better=True, tokens=scored.tokens,
                     extra={"acc_norm": float(np.mean(acc_norm))})


def choice_predictions(logliks: np.ndarray, choices: Sequence[str]) -> tuple[int, int]:
    """(acc's choice, acc_norm's choice) from each choice's summed log-likelihood, as
    lm-evaluation-harness 0.4: acc takes the argmax; acc_norm the argmax of log-likelihood per
    character of the bare choice text, without the " " delimiter scored before it."""
    logliks = np.asarray(logliks, np.float64)
    lengths = np.array([max(len(choice), 1) for choice in choices], np.float64)
    return int(np.argmax(logliks)), int(np.argmax(logliks / lengths))


def _loss(model: Any, tokenizer: Any, examples: list[Example],
          limits: ScoringLimits) -> TaskScore:
    """Mean over examples of the mean response-token loss (EOS included, as in training);
    perplexity is exp of that mean."""
    sequences = [encode_example(example, tokenizer, limits.max_length) for example in examples]
    scored = continuation_logliks(model, tokenizer, sequences, batch_size=limits.batch_size)
    losses = [-loglik / max(count, 1) for loglik, count in zip(scored.logliks, scored.counts,
                                                              strict=True)]
    mean_loss = float(np.mean(losses))
    return TaskScore(score=mean_loss, higher_is_better=False, tokens=scored.tokens,
                     extra={"perplexity": math.exp(mean_loss)})


Compare = Callable[[str, str, Example | None], float]
_COMPARES: dict[str, Compare] = {
    "exact_match": _exact_match,
    "numeric": _numeric,
    "rouge_l": _rouge_l,
    "token_f1": _token_f1,
}
_SCORERS: dict[str, Scorer] = {
    **{name: _generation_scorer(compare) for name, compare in _COMPARES.items()},
    "multiple_choice": _multiple_choice,
    "loss": _loss,
}
ANSWER_SCORERS = frozenset(_COMPARES)  # they judge a generated answer
CHOICE_SCORERS = frozenset({"multiple_choice"})  # they pick among stored choices


@dataclass(frozen=True)
class Answers:
    """A model's greedy answers to examples' prompts, judged one by one by their task's scorer:
    `texts[i]` is the answer to example i (None where the scorer generates nothing: a
    multiple-choice task keeps its stored choice), `accepted[i]` whether the scorer gives it
    full credit; `tokens` counts prompts and generated tokens."""

    texts: list[str | None]
    accepted: list[bool]
    tokens: int


def answer_examples(model: Any, tokenizer: Any, examples: list[Example], scorer: str, *,
                    batch_size: int = 32, max_new_tokens: int = 16,
                    max_length: int = 128) -> Answers:
    """The model's answer to each example's prompt (greedy, as `score_task` generates) and
    whether `scorer` accepts it: full credit for that example (1.0; for rouge_l and token_f1
    the reference's words). Multiple-choice scorers generate nothing; a scorer that cannot
    judge an answer (`loss`) is a ConfigError."""
    compare = answer_compare(scorer)
    if compare is None:
        return Answers(texts=[None] * len(examples), accepted=[False] * len(examples), tokens=0)
    if not examples:
        return Answers(texts=[], accepted=[], tokens=0)
    limits = ScoringLimits(batch_size=batch_size, max_new_tokens=max_new_tokens,
                           max_length=max_length)
    with inference(model):
        texts, values, tokens = _generate_and_compare(model, tokenizer, examples, compare,
                                                      limits)
    return Answers(texts=list(texts), accepted=[value >= 1.0 for value in values],
                   tokens=tokens)


def answer_compare(scorer: str) -> Compare | None:
    """How `scorer` judges a generated answer: `compare(generated, reference, example)`, 1.0
    for full credit (`example` may be None: a tokenized row, judged against its reference
    alone); None for a multiple-choice scorer (nothing is generated, the stored choice stays);
    a ConfigError for a scorer that cannot judge an answer (`loss`)."""
    if scorer in CHOICE_SCORERS:
        return None
    if scorer not in ANSWER_SCORERS:
        raise ConfigError("scorer", f"{scorer!r} cannot judge a generated answer; scorers that "
                          f"can: {', '.join(sorted(ANSWER_SCORERS))}")
    return _COMPARES[scorer]
