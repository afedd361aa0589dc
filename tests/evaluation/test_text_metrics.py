"""SQuAD token F1, ROUGE-L on every script, and lm-eval's multiple-choice choice rule, on
hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from mssr.evaluation.scorers import choice_predictions
from mssr.evaluation.text_metrics import rouge_l, squad_normalise, token_f1


def test_squad_normalisation_drops_case_punctuation_articles_and_extra_space():
    assert squad_normalise("  The  Eiffel-Tower, in A city!") == "eiffeltower in city"
    assert squad_normalise("an apple") == "apple"
    assert squad_normalise("Anne") == "anne"  # an article only as a whole word


def test_token_f1_is_the_harmonic_mean_of_shared_token_precision_and_recall():
    # prediction: [denver, broncos, won] ; gold: [broncos]: precision 1/3, recall 1
    assert token_f1("Denver Broncos won", "the Broncos") == pytest.approx(0.5)
    assert token_f1("The Broncos.", "broncos") == 1.0
    assert token_f1("Carolina", "Denver Broncos") == 0.0
    # bag of words: one shared "b", precision 1/2, recall 1/2
    assert token_f1("b b", "b c") == pytest.approx(0.5)


def test_token_f1_takes_the_best_gold_answer():
    golds = ["Denver Broncos", "the Denver Broncos team", "Broncos"]
    assert token_f1("Broncos", golds) == 1.0
    assert token_f1("Denver", golds) == pytest.approx(2 / 3)  # p 1, r 1/2 against the first
    with pytest.raises(ValueError, match="gold"):
        token_f1("x", [])


def test_token_f1_of_empty_answers_after_normalisation():
    assert token_f1("The", "a") == 1.0  # both normalise to nothing
    assert token_f1("", "Paris") == 0.0


@pytest.mark.parametrize(("reference", "prediction", "expected"), [
    ("北京是中国的首都", "北京是首都", 2 * 1.0 * (5 / 8) / (1 + 5 / 8)),  # chars: LCS 5 of 5 / 8
    ("Москва столица России", "Москва столица", 2 * 1.0 * (2 / 3) / (1 + 2 / 3)),
    ("Αθήνα είναι η πρωτεύουσα", "η Αθήνα", 2 * (1 / 2) * (1 / 4) / (1 / 2 + 1 / 4)),
])
def test_rouge_l_scores_non_latin_answers(reference, prediction, expected):
    assert rouge_l(prediction, reference) == pytest.approx(expected)
    assert rouge_l(reference, reference) == pytest.approx(1.0)


def test_rouge_l_casefolds_and_ignores_punctuation_like_rouge_score():
    assert rouge_l("The CAT, sat.", "the cat sat") == pytest.approx(1.0)
    assert rouge_l("ΑΘΗΝΑ", "αθηνα") == pytest.approx(1.0)


def test_acc_norm_divides_by_the_bare_choice_length_as_lm_eval():
    # lm-eval 0.4: acc_norm = argmax(loglik / len(choice)), choices without the " " delimiter.
    # "Paris": -6.0 / 5 = -1.200; "Rome": -4.9 / 4 = -1.225  -> Paris (index 0).
    # Counting the leading space would give -6.0 / 6 = -1.000 vs -4.9 / 5 = -0.980 -> Rome.
    acc, acc_norm = choice_predictions(np.array([-6.0, -4.9]), ["Paris", "Rome"])
    assert (acc, acc_norm) == (1, 0)


def test_acc_norm_on_three_choices_hand_computed():
    logliks = np.array([-9.0, -7.5, -8.0])
    choices = ["Canberra", "Sydney", "Melbourne"]  # 8, 6, 9 characters
    # per character: -1.125, -1.25, -0.889 -> Melbourne; acc: -7.5 -> Sydney
    assert choice_predictions(logliks, choices) == (1, 2)
