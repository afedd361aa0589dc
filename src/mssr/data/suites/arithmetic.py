"""Tasks with numeric answers: multi-step word problems, counting, and chat arithmetic."""

from __future__ import annotations

import numpy as np

from mssr.data.suites.sampling import pick, pick_distinct
from mssr.data.suites.vocabulary import ANIMALS, COLORS, NAMES, OBJECTS
from mssr.data.suites.world import World

GAINS = ("finds {n} more", "buys {n} more", "gets {n} more from {other}", "makes {n} more")
LOSSES = ("loses {n}", "gives {n} to {other}", "sells {n}", "breaks {n}")


def word_problem(world: World, rng: np.random.Generator) -> dict:
    """Two-step story (a gain and a loss), answered GSM8K-style: working, then the result.

    Small numbers (start 2-9, changes 1-9) keep it learnable by a tiny model."""
    name, other = pick_distinct(rng, NAMES, 2)
    item = pick(rng, OBJECTS)
    start, gain = int(rng.integers(2, 10)), int(rng.integers(1, 10))
    loss = int(rng.integers(1, min(start, 9) + 1))
    gain_text = pick(rng, GAINS).format(n=gain, other=other)
    loss_text = pick(rng, LOSSES).format(n=loss, other=other)
    if rng.random() < 0.5:
        steps, middle = f"{gain_text}, then {loss_text}", start + gain
        work = f"{start} + {gain} = {middle}, {middle} - {loss} = {middle - loss}"
    else:
        steps, middle = f"{loss_text}, then {gain_text}", start - loss
        work = f"{start} - {loss} = {middle}, {middle} + {gain} = {middle + gain}"
    prompt = (f"{name} has {start} {item}s. {name} {steps}. "
              f"How many {item}s does {name} have now?")
    return {"prompt": prompt, "response": work}


def count_color(world: World, rng: np.random.Generator) -> dict:
    """Count the things of one color in a short list (the answer can be zero).

    Lists of 2-3 items: with 3-5 the model answered the most common count whatever the list."""
    target = pick(rng, COLORS[:4])
    size = int(rng.integers(2, 4))
    colors = [pick(rng, COLORS[:4]) for _ in range(size)]
    nouns = pick_distinct(rng, ANIMALS + OBJECTS, size)
    listing = ", ".join(f"{color} {noun}" for color, noun in zip(colors, nouns, strict=True))
    return {"prompt": f"Items: {listing}. How many are {target}?",
            "response": str(colors.count(target))}


def chat_arithmetic(world: World, rng: np.random.Generator) -> dict:
    """A user asks for a + b - c in words; the assistant answers with the number only."""
    first, second = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    third = int(rng.integers(1, first + second + 1))
    question = pick(rng, ("What is {a} plus {b} minus {c}?", "Please compute {a} plus {b} "
                          "minus {c}.", "{a} plus {b} minus {c} makes what?"))
    user = question.format(a=first, b=second, c=third)
    return {"messages": [{"role": "user", "content": user},
                         {"role": "assistant", "content": str(first + second - third)}]}
