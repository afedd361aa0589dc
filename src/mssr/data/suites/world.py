"""The synthetic facts of a suite instance: made-up countries with capitals and languages, and
made-up creatures with habitats. Drawn from the seed, so no model can know them beforehand and
what is learned from them can really be forgotten."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mssr.data.suites.vocabulary import HABITATS, LANGUAGE_SUFFIXES, SYLLABLES

FACTS_PER_RELATION = 32


@dataclass(frozen=True)
class World:
    """Fact tables, each a tuple of (subject, object) pairs."""

    capitals: tuple[tuple[str, str], ...]
    languages: tuple[tuple[str, str], ...]
    habitats: tuple[tuple[str, str], ...]


def build_world(rng: np.random.Generator, size: int = FACTS_PER_RELATION) -> World:
    """Draw `size` facts per relation; every made-up name is distinct from every other."""
    names = _distinct_names(rng, 4 * size)
    countries, cities, languages, creatures = (names[i * size:(i + 1) * size] for i in range(4))
    languages = [name + LANGUAGE_SUFFIXES[rng.integers(len(LANGUAGE_SUFFIXES))]
                 for name in languages]
    homes = [HABITATS[rng.integers(len(HABITATS))] for _ in creatures]
    return World(capitals=tuple(zip(countries, cities, strict=True)),
                 languages=tuple(zip(countries, languages, strict=True)),
                 habitats=tuple(zip([name.lower() for name in creatures], homes, strict=True)))


def _distinct_names(rng: np.random.Generator, count: int) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        syllables = rng.choice(SYLLABLES, size=int(rng.integers(2, 4)), replace=False)
        name = "".join(syllables).capitalize()
        if name not in names:
            names.append(name)
    return names
