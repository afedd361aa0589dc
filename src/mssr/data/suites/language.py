"""Text tasks: two labellings of the same review sentences (sentiment, topic), two word-list
transformations (reverse, pluralise) and a chat task over opposites."""

from __future__ import annotations

import numpy as np

from mssr.data.suites.sampling import pick, pick_distinct
from mssr.data.suites.vocabulary import (
    ANIMALS,
    COLORS,
    NEGATIVE,
    OBJECTS,
    OPPOSITES,
    POSITIVE,
    TOPICS,
)
from mssr.data.suites.world import World

REVIEW_FRAMES = ("The {noun} was {a} and {b}.", "I found the {noun} {a} and {b}.",
                 "What a {a}, {b} {noun}.", "Our {noun} looked {a}, really {b}.")
OPPOSITE_QUESTIONS = ("What is the opposite of {w}?", "Give me the opposite of {w}.",
                      "Opposite of {w}?", "Which word means the opposite of {w}?",
                      "Tell me the opposite of the word {w}.", "What word is opposite to {w}?")
# Eight greetings keep 4 pairs above the suite's 880 distinct records (8 words x 6 x 8 x 3).
GREETINGS = ("", "Hi! ", "Hello. ", "Quick question: ", "Hey. ", "Good day. ", "Hi there. ",
             "Please help. ")
SYSTEM_PROMPTS = (None, "You are a helpful assistant.", "Answer with one word.")
# The first 4 pairs only: after earlier tasks the model learns 8 arbitrary mappings within one
# task's training; with all 24 pairs (and even 8) it answered one fixed word.
OPPOSITE_PAIRS = OPPOSITES[:4]
OPPOSITE_OF = {**dict(OPPOSITE_PAIRS), **{b: a for a, b in OPPOSITE_PAIRS}}


def review_sentiment(world: World, rng: np.random.Generator) -> dict:
    """Label a review sentence positive or negative (both adjectives share the polarity)."""
    sentence, _, positive = _review(rng)
    return {"prompt": f"Review: {sentence}\nSentiment:",
            "response": "positive" if positive else "negative"}


def topic_label(world: World, rng: np.random.Generator) -> dict:
    """Label the same kind of review sentence by what it is about."""
    sentence, topic, _ = _review(rng)
    return {"prompt": f"Review: {sentence}\nTopic:", "response": topic}


def reverse_words(world: World, rng: np.random.Generator) -> dict:
    """Reverse the order of two words (three were beyond the small model after other tasks)."""
    words = _word_list(rng, 2)
    return {"prompt": f"Reverse: {' '.join(words)}\nResult:", "response": " ".join(words[::-1])}


def pluralize(world: World, rng: np.random.Generator) -> dict:
    """Put every noun of a short list in the plural, order kept."""
    words = pick_distinct(rng, ANIMALS + OBJECTS, int(rng.integers(2, 4)))
    return {"prompt": f"Plural: {' '.join(words)}\nResult:",
            "response": " ".join(word + "s" for word in words)}


def chat_opposites(world: World, rng: np.random.Generator) -> dict:
    """A user asks for the opposite of a word; the assistant answers with one word."""
    word = pick(rng, sorted(OPPOSITE_OF))
    user = pick(rng, GREETINGS) + pick(rng, OPPOSITE_QUESTIONS).format(w=word)
    system = pick(rng, SYSTEM_PROMPTS)
    messages = [] if system is None else [{"role": "system", "content": system}]
    messages += [{"role": "user", "content": user},
                 {"role": "assistant", "content": OPPOSITE_OF[word]}]
    return {"messages": messages}


def _review(rng: np.random.Generator) -> tuple[str, str, bool]:
    topic = pick(rng, sorted(TOPICS))
    positive = bool(rng.random() < 0.5)
    first, second = pick_distinct(rng, POSITIVE if positive else NEGATIVE, 2)
    frame = pick(rng, REVIEW_FRAMES)
    return frame.format(noun=pick(rng, TOPICS[topic]), a=first, b=second), topic, positive


def _word_list(rng: np.random.Generator, size: int) -> list[str]:
    return pick_distinct(rng, COLORS + ANIMALS + OBJECTS, size)
