"""Multiple-choice tasks over the synthetic facts of the suite's World. Countries carry two
relations (capital, language) so learning one interferes with the other."""

from __future__ import annotations

import numpy as np

from mssr.data.suites.sampling import multiple_choice, pick
from mssr.data.suites.vocabulary import HABITATS
from mssr.data.suites.world import World

CAPITAL_QUESTIONS = ("What is the capital of {s}?", "Which city is the capital of {s}?",
                     "The capital city of {s} is which city?", "Name the capital of {s}.")
LANGUAGE_QUESTIONS = ("What language do people speak in {s}?", "Which language is spoken in {s}?",
                      "The people of {s} speak which language?", "Name the language of {s}.")
HABITAT_QUESTIONS = ("Where does the {s} live?", "In which place is the {s} found?",
                     "The {s} makes its home where?", "Name the home of the {s}.")


def country_capitals(world: World, rng: np.random.Generator) -> dict:
    return _fact_question(rng, world.capitals, CAPITAL_QUESTIONS)


def country_languages(world: World, rng: np.random.Generator) -> dict:
    return _fact_question(rng, world.languages, LANGUAGE_QUESTIONS)


def creature_habitats(world: World, rng: np.random.Generator) -> dict:
    return _fact_question(rng, world.habitats, HABITAT_QUESTIONS, candidates=HABITATS)


def _fact_question(rng: np.random.Generator, facts: tuple[tuple[str, str], ...],
                   templates: tuple[str, ...], candidates: tuple[str, ...] | None = None) -> dict:
    subject, answer = pick(rng, facts)
    pool = candidates if candidates is not None else tuple(obj for _, obj in facts)
    return multiple_choice(rng, pick(rng, templates).format(s=subject), answer, pool)
