"""The English text the bundled base model is pretrained on: text that Debian packages ship
under licences that allow it, and templated sentences that teach the suite's vocabulary, the
chat layout and a reader's everyday skills.

Install the sources once (they are read from their installed paths, never downloaded):

    apt-get install wordnet-base dict-devil dict-jargon python3.11-doc

- WordNet 3.0 (`wordnet-base`, WordNet 3.0 licence: use, copy, modify and distribute with its
  notice): every synset becomes "word (noun): definition." with its other words and its usage
  examples, or (one synset in four) a short "User: What does the noun X mean?" chat.
- The Devil's Dictionary (`dict-devil`) and the Jargon File 4.4.7 (`dict-jargon`), both in the
  public domain: their prose paragraphs.
- The Python 3.11 documentation (`python3.11-doc`, PSF License Agreement): the prose
  paragraphs of its reStructuredText sources, without code, directives or markup.
- Templated sentences (this file, over mssr.data.suites.vocabulary): people, objects, animals,
  food, places, colors, counting, sums, tallies, plurals, words said again in the same or the
  other order, descriptions, Q&A and "User:/Assistant:" dialogues. Never a suite prompt form
  ("Review:", "Reverse:", ...), never an opposite pair and none of the made-up names behind the
  suite's synthetic facts: the model knows the language and a reader's skills, not the answers.

Each source reader raises SourceMissing, naming the package to install, when its files are
absent. Files are read in order and templates drawn from a seeded numpy Generator, so the corpus
is the same on every machine.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mssr.data.suites.sampling import pick, pick_distinct
from mssr.data.suites.vocabulary import (
    ANIMALS,
    COLORS,
    FOODS,
    NAMES,
    NEGATIVE,
    NUMBER_WORDS,
    OBJECTS,
    OPPOSITES,
    PLACES,
    POSITIVE,
)

WORDNET_DIR = Path("/usr/share/wordnet")
DICTD_DIR = Path("/usr/share/dictd")
PYTHON_DOCS_DIR = Path("/usr/share/doc/python3.11/html/_sources")
PARTS_OF_SPEECH = {"noun": "noun", "verb": "verb", "adj": "adjective", "adv": "adverb"}


class SourceMissing(RuntimeError):
    """A corpus source is not installed; the message names the Debian package."""


def wordnet_documents(directory: Path = WORDNET_DIR) -> Iterator[str]:
    """One document per WordNet synset: its words with their part of speech, the definition,
    the synonyms and the usage examples, in the order of WordNet's data files."""
    for suffix, part in PARTS_OF_SPEECH.items():
        for synset in wordnet_synset_lines(suffix, directory):
            document = _synset_document(synset, part)
            if document:
                yield document


@dataclass(frozen=True)
class Synset:
    """One line of a WordNet data file: offset, lexicographer file number, words,
    definitions and usage examples."""

    offset: str
    lexicographer_file: int
    words: list[str]
    definitions: list[str]
    examples: list[str]


def wordnet_synset_lines(suffix: str, directory: Path = WORDNET_DIR) -> Iterator[Synset]:
    """Every synset of `data.<suffix>` (noun, verb, adj, adv), in the file's order."""
    path = directory / f"data.{suffix}"
    if not path.is_file():
        raise SourceMissing(f"WordNet is missing ({path}): apt-get install wordnet-base")
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("  ") or "|" not in line:  # the licence header
                continue
            fields, gloss = line.split("|", 1)
            columns = fields.split()
            count = int(columns[3], 16)
            words = [re.sub(r"\(\w+\)$", "", columns[4 + 2 * i]).replace("_", " ")
                     for i in range(count)]
            pieces = [piece.strip() for piece in gloss.split(";")]
            yield Synset(columns[0], int(columns[1]), words,
                         [p for p in pieces if p and not p.startswith('"')],
                         [p.strip('"').strip() for p in pieces if p.startswith('"')])


def _synset_document(synset: Synset, part: str) -> str:
    """The synset as a dictionary entry, or (one synset in four) as a short chat about it."""
    words, definitions, examples = synset.words, synset.definitions, synset.examples
    if not definitions:
        return ""
    definition = "; ".join(definitions)
    if int(synset.offset) % 4 == 0:
        return (f"User: What does the {part} {words[0]} mean?\n"
                f"Assistant: {_sentence(definition)}")
    lines = [f"{words[0]} ({part}): {definition}."]
    if len(words) > 1:
        lines.append(f"Other words for {words[0]}: {', '.join(words[1:])}.")
    lines += [_sentence(example) for example in examples if example]
    return "\n".join(lines)


def dictd_documents(name: str, package: str, directory: Path = DICTD_DIR) -> Iterator[str]:
    """One document per prose paragraph of a dictd database (`name.dict.dz`), with
    cross-reference braces dropped and typographic quotes made plain; pronunciations, verse
    lines and other paragraphs that are not sentences of ordinary words are left out."""
    path = directory / f"{name}.dict.dz"
    if not path.is_file():
        raise SourceMissing(f"{name} is missing ({path}): apt-get install {package}")
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as file:
        text = file.read()
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = _plain_text(paragraph)
        if _is_prose(paragraph):
            yield paragraph


def python_docs_documents(directory: Path = PYTHON_DOCS_DIR) -> Iterator[str]:
    """One document per page of the Python documentation's reStructuredText sources: its
    prose paragraphs, without code, directives, headings or markup roles."""
    if not directory.is_dir():
        raise SourceMissing(f"the Python documentation is missing ({directory}): "
                            "apt-get install python3.11-doc")
    for path in sorted(directory.rglob("*.rst.txt")):
        if "whatsnew" in path.parts or "c-api" in path.parts:
            continue
        paragraphs = rst_paragraphs(path.read_text(encoding="utf-8", errors="replace"))
        if paragraphs:
            yield "\n".join(paragraphs)


def rst_paragraphs(text: str) -> list[str]:
    """The prose paragraphs of a reStructuredText page as plain text, without code, directive
    bodies, examples, heading underlines or markup roles."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        if block.startswith((" ", "..", "\t")) or ">>>" in block:
            continue  # code, directive bodies, examples
        lines = [line for line in block.splitlines() if not re.fullmatch(r"[=*#~^-]+", line)]
        paragraph = _plain_text(_RST_ROLE.sub(r"\1", " ".join(lines)).replace("``", ""))
        if _is_prose(paragraph):
            paragraphs.append(paragraph.rstrip(":") + ("." if paragraph.endswith(":") else ""))
    return paragraphs


_RST_ROLE = re.compile(r":[\w:]+:`!?~?([^`<]*?)\s*(?:<[^`]*>)?`_*")
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'",
                         "\u2014": " - ", "\u2013": "-", "\u2026": "..."})


def _plain_text(paragraph: str) -> str:
    """One line of plain text: braces, markup underscores and runs of spaces removed."""
    text = paragraph.translate(_QUOTES).replace("{", "").replace("}", "").replace("`", "")
    text = re.sub(r"(?<!\w)_|_(?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


def _is_prose(text: str) -> bool:
    """Sentences of ordinary words: at least eight words, mostly letters, plain ASCII."""
    words = text.split()
    if len(words) < 8 or not text.isascii() or not text[0].isalpha():
        return False
    letters = sum(character.isalpha() or character == " " for character in text)
    return letters >= 0.85 * len(text) and text.rstrip()[-1] in ".?!:\")"


def _sentence(text: str) -> str:
    """Text with a capital first letter and a final full stop."""
    text = text.strip()
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


DESCRIPTIVE = POSITIVE + NEGATIVE + tuple(word for pair in OPPOSITES for word in pair)
NOUNS = OBJECTS + ANIMALS + FOODS
# Everyday words of the suite's instructions, used in plain sentences only.
PLAIN_SENTENCES = (
    "Every country has a capital city.", "People in many countries speak more than one language.",
    "A review says what someone thinks.", "The answer was positive.", "The result was negative.",
    "The topic of the talk was food.", "Please compute the sum.", "Tell me a word.",
    "Give me the book, please.", "Which word is the longest?", "Name three colors.",
    "Read the words in order.", "Write each word again.", "She made a list of items.",
    "The city is big and the village is small.", "Some animals live in the forest.",
    "Where is the market?", "Quick question: is the shop open?", "You are a good friend.",
    "Answer with a number.", "The word has four letters.", "How many are there?",
)


def sentence(rng: np.random.Generator) -> str:
    """One templated sentence, dialogue or Q&A."""
    return pick(rng, GENERATORS)(rng)


def _person_object(rng: np.random.Generator) -> str:
    name, color, item = pick(rng, NAMES), pick(rng, COLORS), pick(rng, OBJECTS)
    return pick(rng, (f"{name} has a {color} {item}.", f"{name} found a {color} {item}.",
                      f"The {item} of {name} is {color}.", f"{name} likes the {color} {item}."))


def _animal_place(rng: np.random.Generator) -> str:
    animal, place, name = pick(rng, ANIMALS), pick(rng, PLACES), pick(rng, NAMES)
    return pick(rng, (f"The {animal} is in the {place}.",
                      f"{name} saw a {animal} near the {place}.",
                      f"A {animal} walked to the {place}.", f"{name} went to the {place}."))


def _counting(rng: np.random.Generator) -> str:
    count, noun, name = int(rng.integers(0, 13)), pick(rng, OBJECTS + ANIMALS), pick(rng, NAMES)
    plural = noun if count == 1 else noun + "s"
    return pick(rng, (f"{name} has {count} {plural}.", f"There are {count} {plural} here.",
                      f"I count {NUMBER_WORDS[count]} {plural}.",
                      f"one {noun}, two {noun}s, three {noun}s.",
                      f"{name} bought {count} {plural} at the {pick(rng, PLACES)}."))


def _arithmetic(rng: np.random.Generator) -> str:
    first, second = int(rng.integers(0, 21)), int(rng.integers(0, 21))
    high, low = max(first, second), min(first, second)
    return pick(rng, (f"{first} plus {second} is {first + second}.",
                      f"{first} + {second} = {first + second}.",
                      f"{high} minus {low} is {high - low}.", f"{high} - {low} = {high - low}.",
                      f"If you add {first} and {second} you get {first + second}.",
                      f"Take {low} from {high} and {high - low} are left."))


def _description(rng: np.random.Generator) -> str:
    noun, place = pick(rng, NOUNS), pick(rng, PLACES)
    first, second = pick_distinct(rng, DESCRIPTIVE, 2)
    return pick(rng, (f"The {noun} is {first}.", f"The {noun} looks {first} and {second}.",
                      f"The {place} was {first} today.", f"It is a {first} {noun}.",
                      f"The {pick(rng, FOODS)} tastes {first}."))


def _list(rng: np.random.Generator) -> str:
    words = pick_distinct(rng, COLORS + ANIMALS + OBJECTS + PLACES, int(rng.integers(2, 5)))
    return pick(rng, (f"I see {', '.join(words)}.", f"{' and '.join(words)}.",
                      f"The list is {' '.join(words)}."))


def _question_answer(rng: np.random.Generator) -> str:
    animal, place, item, color = (pick(rng, ANIMALS), pick(rng, PLACES), pick(rng, OBJECTS),
                                  pick(rng, COLORS))
    return pick(rng, (f"Q: Where is the {animal}? A: The {animal} is in the {place}.",
                      f"Question: What color is the {item}? Answer: It is {color}.",
                      f"Q: Who has the {item}? A: {pick(rng, NAMES)} has it."))


def _dialogue(rng: np.random.Generator) -> str:
    name, place, item, color = (pick(rng, NAMES), pick(rng, PLACES), pick(rng, OBJECTS),
                                pick(rng, COLORS))
    user, reply = pick(rng, (("Hello!", "Hello! How can I help you?"),
                             (f"Where is {name}?", f"{name} is at the {place}."),
                             (f"What color is the {item}?", f"The {item} is {color}."),
                             (f"Do you like {pick(rng, FOODS)}?", "Yes, I do."),
                             ("Thank you.", "You are welcome.")))
    return f"User: {user}\nAssistant: {reply}"


def _chained_sums(rng: np.random.Generator) -> str:
    first, second = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    middle = first + second
    third = int(rng.integers(1, middle + 1))
    return pick(rng, (f"{first} + {second} = {middle}, {middle} - {third} = {middle - third}.",
                      f"Start with {first}, add {second} and you have {middle}; take away "
                      f"{third} and {middle - third} are left.",
                      f"{first} plus {second} minus {third} is {middle - third}."))


def _copying(rng: np.random.Generator) -> str:
    """Words said again, in the same or the other order: the copying a reader does."""
    name = pick(rng, NAMES)
    words = pick_distinct(rng, NOUNS + COLORS + PLACES, int(rng.integers(2, 4)))
    said, back = " ".join(words), " ".join(words[::-1])
    return pick(rng, (f"{name} said {said}, and I said {said} too.",
                      f'"{said}," said {name}. "{said}," the echo said.',
                      f"{name} wrote {said}. Read from the end, that is {back}.",
                      f"First {words[0]}, last {words[-1]}: {said}. The other way: {back}."))


def _color_tally(rng: np.random.Generator) -> str:
    color = pick(rng, COLORS)
    size = int(rng.integers(1, 5))
    things = [(pick(rng, COLORS), noun) for noun in pick_distinct(rng, NOUNS, size)]
    count = sum(thing_color == color for thing_color, _ in things)
    listing = ", ".join(f"a {thing_color} {noun}" for thing_color, noun in things)
    verb = "is" if count == 1 else "are"
    return pick(rng, (f"On the table there are {listing}; {count} of them {verb} {color}.",
                      f"{pick(rng, NAMES)} has {listing}. {NUMBER_WORDS[count].capitalize()} "
                      f"{verb} {color}."))


def _plurals(rng: np.random.Generator) -> str:
    first, second = pick_distinct(rng, OBJECTS + ANIMALS, 2)
    count = int(rng.integers(2, 13))
    return pick(rng, (f"one {first}, many {first}s; one {second}, many {second}s.",
                      f"The shop sells {first}s and {second}s.",
                      f"{pick(rng, NAMES)} keeps {count} {first}s and a {second}."))


def _plain(rng: np.random.Generator) -> str:
    return pick(rng, PLAIN_SENTENCES)


GENERATORS: tuple[Callable[[np.random.Generator], str], ...] = (
    _person_object, _animal_place, _counting, _arithmetic, _chained_sums, _description,
    _description, _list, _question_answer, _dialogue, _plain, _copying, _copying,
    _color_tally, _plurals)


def templated_documents(rng: np.random.Generator, documents: int) -> list[str]:
    """Short documents of one to four templated sentences each."""
    return ["\n".join(sentence(rng) for _ in range(int(rng.integers(1, 5))))
            for _ in range(documents)]


def build_corpus(seed: int, templated: int) -> dict[str, list[str]]:
    """Every source's documents, by source name."""
    return {"wordnet": list(wordnet_documents()),
            "devil": list(dictd_documents("devil", "dict-devil")),
            "jargon": list(dictd_documents("jargon", "dict-jargon")),
            "python-docs": list(python_docs_documents()),
            "templates": templated_documents(np.random.default_rng(seed), templated)}
