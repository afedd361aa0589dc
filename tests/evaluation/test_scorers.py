"""Each scorer on a tiny model whose answer is known: 1.0 on the right target, lower on a
wrong one; token accounting; errors for data a scorer cannot read."""

from __future__ import annotations

import math

import pytest
from answering_model import ANSWER, questions

from mssr.data.schema import Example
from mssr.errors import ConfigError, DataError, MSSRError
from mssr.evaluation import score_task


def examples(response: str, count: int = 6) -> list[Example]:
    return [Example(prompt=prompt, response=response) for prompt in questions(count)]


def choice_examples(answer: int, count: int = 4) -> list[Example]:
    return [Example(prompt=prompt, response=["42", "17"][answer], choices=("42", "17"),
                    answer=answer) for prompt in questions(count)]


def test_exact_match_is_one_on_the_learned_answer_and_zero_on_another(answering_model,
                                                                       eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, examples(ANSWER), "exact_match",
                       batch_size=4)
    wrong = score_task(answering_model, eval_tokenizer, examples("17"), "exact_match")
    assert (right.score, wrong.score) == (1.0, 0.0)
    assert right.higher_is_better


def test_exact_match_normalises_case_space_and_trailing_punctuation(answering_model,
                                                                     eval_tokenizer):
    result = score_task(answering_model, eval_tokenizer, examples("  42 ."), "exact_match")
    assert result.score == 1.0


def test_numeric_reads_the_last_number_of_the_response(answering_model, eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, examples("6 * 7 = 42.0"), "numeric")
    wrong = score_task(answering_model, eval_tokenizer, examples("6 * 7 = 1,042"), "numeric")
    assert (right.score, wrong.score) == (1.0, 0.0)


def test_numeric_without_a_number_in_the_response_names_the_record(answering_model,
                                                                   eval_tokenizer):
    bad = [Example(prompt="Question: what?\nAnswer:", response="forty", source="gsm.jsonl:7")]
    with pytest.raises(DataError, match=r"gsm\.jsonl:7.*'response'"):
        score_task(answering_model, eval_tokenizer, bad, "numeric")


def test_multiple_choice_prefers_the_learned_continuation(answering_model, eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, choice_examples(0), "multiple_choice",
                       batch_size=3)
    wrong = score_task(answering_model, eval_tokenizer, choice_examples(1), "multiple_choice")
    assert (right.score, right.extra["acc_norm"]) == (1.0, 1.0)
    assert (wrong.score, wrong.extra["acc_norm"]) == (0.0, 0.0)


def test_multiple_choice_counts_every_prompt_and_choice_token(answering_model, eval_tokenizer):
    from mssr.data.formatting import choice_texts, encode

    data = choice_examples(0, count=3)
    expected = sum(len(encode(eval_tokenizer, e.prompt, c, 128, add_eos=False).input_ids)
                   for e in data for c in choice_texts(e))
    result = score_task(answering_model, eval_tokenizer, data, "multiple_choice")
    assert result.tokens == expected


def test_multiple_choice_needs_choices(answering_model, eval_tokenizer):
    with pytest.raises(DataError, match="'choices'"):
        score_task(answering_model, eval_tokenizer, examples(ANSWER), "multiple_choice")


def test_rouge_l_is_one_on_the_answer_and_partial_on_an_overlapping_reference(
        answering_model, eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, examples(ANSWER), "rouge_l")
    partial = score_task(answering_model, eval_tokenizer, examples("the answer is 42"),
                         "rouge_l")
    assert right.score == pytest.approx(1.0)
    assert partial.score == pytest.approx(2 * (1 / 1) * (1 / 4) / (1 + 1 / 4))


def test_token_f1_scores_the_answer_against_its_best_gold_answer(answering_model,
                                                                 eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, examples(ANSWER), "token_f1")
    partial = score_task(answering_model, eval_tokenizer, examples("the answer is 42"),
                         "token_f1")
    golds = [Example(prompt=prompt, response="17", gold_answers=("17", "42 it is"))
             for prompt in questions(4)]
    best_of_list = score_task(answering_model, eval_tokenizer, golds, "token_f1")
    assert right.score == 1.0
    assert partial.score == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))  # "answer is 42"
    assert best_of_list.score == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))


def test_rouge_l_scores_a_non_latin_reference(answering_model, eval_tokenizer):
    data = [Example(prompt=prompt, response="答案 42") for prompt in questions(3)]
    result = score_task(answering_model, eval_tokenizer, data, "rouge_l")
    assert result.score == pytest.approx(2 * 1 * (1 / 3) / (1 + 1 / 3))  # 答, 案, 42


def test_loss_is_low_on_the_learned_answer_and_reports_perplexity(answering_model,
                                                                   eval_tokenizer):
    right = score_task(answering_model, eval_tokenizer, examples(ANSWER), "loss")
    wrong = score_task(answering_model, eval_tokenizer, examples("17"), "loss")
    assert not right.higher_is_better
    assert right.score < 0.1 < wrong.score
    assert right.extra["perplexity"] == pytest.approx(math.exp(right.score))


def test_generation_tokens_count_prompts_and_generated_tokens(answering_model, eval_tokenizer):
    from mssr.data.formatting import prompt_ids

    data = examples(ANSWER, count=3)
    prompt_tokens = sum(len(prompt_ids(eval_tokenizer, e.prompt)) for e in data)
    answer_tokens = len(eval_tokenizer(" " + ANSWER, add_special_tokens=False)["input_ids"]) + 1
    result = score_task(answering_model, eval_tokenizer, data, "exact_match")
    assert result.tokens == prompt_tokens + 3 * answer_tokens


def test_unknown_scorer_and_empty_examples_are_errors(answering_model, eval_tokenizer):
    with pytest.raises(ConfigError, match="scorer"):
        score_task(answering_model, eval_tokenizer, examples(ANSWER), "bleu")
    with pytest.raises(MSSRError, match="no evaluation examples"):
        score_task(answering_model, eval_tokenizer, [], "exact_match")
