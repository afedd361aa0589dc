"""Build the `realtext` suite's data from real text installed by Debian packages (deterministic).

    apt-get update                                   # Debian's package index, in apt's lists
    apt-get install wordnet-base manpages manpages-dev python3.11-doc
    .venv/bin/python scripts/build_realtext_suite.py [--output src/mssr/data/suites/realtext_data]

Writes <output>/<task>/{train,eval}.jsonl for the eight tasks of mssr.data.suites.realtext
(which holds each task's prompt wording, source and licence) and <output>/manifest.json (counts
and the source files' versions). Documents are split once per source by a stable hash of their
key (a quarter go to evaluation), so no evaluation document of a source appears in any task's
training set; within a task, records are deduplicated by normalised text and any training
record whose normalised text equals an evaluation record's is dropped. Classification tasks
take their labels in turn (balanced as far as each label's documents allow).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import realtext_sources as sources
from base_model_corpus import SourceMissing

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "src"))

from mssr.data.suites import realtext  # noqa: E402
from mssr.data.suites.materialize import write_jsonl  # noqa: E402

EVAL_SHARE = 4  # one document in EVAL_SHARE goes to the evaluation pool
# Passages are cut to this many words and characters, and NAME lines to their first names, so
# that a record fits the config's max_length (128 tokens) whole.
MAX_WORDS, MAX_CHARACTERS, MAX_NAMES = 40, 200, 3


def normalised(text: str) -> str:
    """Lowercase words and digits only: the key for deduplication."""
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def is_eval_document(source: str, key: str) -> bool:
    return zlib.crc32(f"{source}:{key}".encode()) % EVAL_SHARE == 0


def cut(text: str) -> str:
    """The text's first MAX_WORDS words within MAX_CHARACTERS, with " ..." where it was cut."""
    parts = text.split()[:MAX_WORDS]
    while len(" ".join(parts)) > MAX_CHARACTERS and len(parts) > 1:
        parts.pop()
    kept = " ".join(parts)
    return text if kept == text else kept + " ..."


def split_task(source: str, items: Iterable[tuple[str, str, dict]], seed: int, eval_count: int,
               train_count: int, balance: bool) -> tuple[list[dict], list[dict]]:
    """(eval, train) records from (document key, label, record) items: the eval pool by hash,
    each pool deduplicated by the record's normalised text, shuffled with the seed and, with
    `balance`, drawn label by label in turn."""
    pools: dict[bool, dict[str, list[tuple[str, dict]]]] = {True: {}, False: {}}
    seen: set[str] = set()
    for key, label, record in items:
        text = normalised(record_text(record))
        if text in seen:
            continue
        seen.add(text)
        pools[is_eval_document(source, key)].setdefault(label, []).append((text, record))
    rng = np.random.default_rng(seed)
    eval_records = _draw(pools[True], eval_count, rng, balance)
    eval_texts = {normalised(record_text(record)) for record in eval_records}
    train_pool = {label: [(t, r) for t, r in items if t not in eval_texts]
                  for label, items in pools[False].items()}
    return eval_records, _draw(train_pool, train_count, rng, balance)


def record_text(record: dict) -> str:
    return record.get("prompt") or record["question"]


def _draw(pool: dict[str, list[tuple[str, dict]]], count: int, rng: np.random.Generator,
          balance: bool) -> list[dict]:
    shuffled = {label: [items[int(i)] for i in rng.permutation(len(items))]
                for label, items in sorted(pool.items())}
    if not balance:
        everything = [item for items in shuffled.values() for item in items]
        return [everything[int(i)][1] for i in rng.permutation(len(everything))[:count]]
    drawn: list[dict] = []
    position = 0
    while len(drawn) < count and any(position < len(items) for items in shuffled.values()):
        for items in shuffled.values():
            if position < len(items) and len(drawn) < count:
                drawn.append(items[position][1])
        position += 1
    return [drawn[int(i)] for i in rng.permutation(len(drawn))]


def classification(task: str, text: str, label: str) -> dict:
    return {"prompt": realtext.TASKS[task].prompt.format(text=cut(text)), "response": label}


def debian_items(documents: list[sources.Document], rng: np.random.Generator):
    """Items of the two Debian tasks: the section of a description, and which of four
    packages of its section a description belongs to. The multiple choice takes only
    descriptions that say their package's first name part (`says_name`), with three
    distractors of the section whose first name part the description does not say, so the
    description determines the answer."""
    sections = realtext.DEBIAN_SECTIONS
    kept = [d for d in documents if d.labels["section"] in sections]
    by_section = defaultdict(list)
    for document in kept:
        by_section[document.labels["section"]].append(document.labels["package"])
    section_items, package_items = [], []
    for document in kept:
        section = document.labels["section"]
        section_items.append((document.key, section,
                              classification("debian_sections", document.text, section)))
        description = cut(document.text)
        if not says_name(description, document.key):
            continue
        others = [name for name in by_section[section] if not says_name(description, name)]
        distractors = [others[int(i)] for i in rng.choice(len(others), 3, replace=False)]
        choices = [document.key, *distractors]
        order = rng.permutation(4)
        question = realtext.TASKS["debian_packages"].prompt.format(text=description)
        package_items.append((document.key, section, {
            "question": question, "choices": [choices[int(i)] for i in order],
            "answer": int(np.flatnonzero(order == 0)[0])}))
    return {"debian_sections": section_items, "debian_packages": package_items}


def says_name(description: str, package: str) -> bool:
    """Whether the description (as cut for a prompt) has the package name's first part as a
    word, in any case: "tesseract" of tesseract-ocr-glg in "tesseract-ocr language files"."""
    first = re.split(r"[-.+]", package)[0]
    return bool(first) and names_word(description.lower(), first.lower())


def wordnet_items(nouns: list[sources.Document], verbs: list[sources.Document]):
    items = {}
    for task, documents, categories in (("wordnet_nouns", nouns, realtext.NOUN_CATEGORIES),
                                        ("wordnet_verbs", verbs, realtext.VERB_CATEGORIES)):
        items[task] = [(d.key, d.labels["category"],
                        classification(task, d.text, d.labels["category"]))
                       for d in documents if d.labels["category"] in categories]
    return items


def man_items(pages: list[sources.Document]):
    """The section of a page from its NAME line; the name a DESCRIPTION paragraph documents
    (the page's first paragraph that says the name as a word, within the cut)."""
    section_items, name_items = [], []
    for page in pages:
        kind = realtext.MAN_SECTIONS[page.labels["section"]]
        name_line = f"{', '.join(page.labels['names'][:MAX_NAMES])} - {page.labels['summary']}"
        section_items.append((page.key, kind, classification("manpage_sections", name_line,
                                                             kind)))
        name = page.labels["name"]
        paragraph = next((p for p in page.labels["paragraphs"] if names_word(cut(p), name)),
                         None)
        if paragraph is not None:
            name_items.append((page.key, name, classification("manpage_names", paragraph,
                                                              name)))
    return {"manpage_sections": section_items, "manpage_names": name_items}


def python_items(paragraphs: list[sources.Document]):
    """A paragraph's chapter (of six); the module a paragraph documents, for paragraphs of
    any chapter that name their module as a word within the cut."""
    chapters = realtext.PYTHON_CHAPTERS
    topic_items = [(d.key, chapters[d.labels["chapter"]],
                    classification("python_doc_topics", d.text, chapters[d.labels["chapter"]]))
                   for d in paragraphs if d.labels["chapter"] in chapters]
    module_items = [(d.key, d.labels["module"],
                     classification("python_doc_modules", d.text, d.labels["module"]))
                    for d in paragraphs if names_word(cut(d.text), d.labels["module"])]
    return {"python_doc_topics": topic_items, "python_doc_modules": module_items}


def names_word(text: str, name: str) -> bool:
    """Whether the text has the name as a word (not inside a longer name or a dotted path)."""
    return bool(re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text))


SOURCE_OF_TASK = {"debian_sections": "debian", "debian_packages": "debian",
                  "wordnet_nouns": "wordnet", "wordnet_verbs": "wordnet",
                  "manpage_sections": "manpages", "manpage_names": "manpages",
                  "python_doc_topics": "python-docs", "python_doc_modules": "python-docs"}


def build_items(seed: int, readers: dict[str, Callable[[], list]] | None = None) -> dict:
    """Every task's (key, label, record) items, read from the installed sources."""
    readers = readers or {
        "debian": lambda: list(sources.debian_packages()),
        "nouns": lambda: list(sources.wordnet_synsets("noun")),
        "verbs": lambda: list(sources.wordnet_synsets("verb")),
        "manpages": lambda: list(sources.man_pages()),
        "python-docs": lambda: list(sources.python_library_pages())}
    rng = np.random.default_rng(seed)
    items = {}
    items |= debian_items(readers["debian"](), rng)
    items |= wordnet_items(readers["nouns"](), readers["verbs"]())
    items |= man_items(readers["manpages"]())
    items |= python_items(readers["python-docs"]())
    return items


def build(output: Path, seed: int, eval_count: int, train_count: int,
          readers: dict[str, Callable[[], list]] | None = None) -> dict:
    """Write every task's train/eval JSONL under output and return the manifest."""
    items = build_items(seed, readers)
    manifest = {"seed": seed, "tasks": {}}
    for number, task in enumerate(realtext.TASKS):
        info = realtext.TASKS[task]
        eval_records, train_records = split_task(
            SOURCE_OF_TASK[task], items[task], seed + number, eval_count, train_count,
            balance=info.balanced)
        write_jsonl(output / task / "eval.jsonl", eval_records)
        write_jsonl(output / task / "train.jsonl", train_records)
        manifest["tasks"][task] = {"train": len(train_records), "eval": len(eval_records),
                                   "documents": len(items[task])}
    text = json.dumps(manifest, indent=1, sort_keys=True) + "\n"
    (output / "manifest.json").write_text(text, encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=realtext.DATA_DIR)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--eval-examples", type=int, default=150)
    parser.add_argument("--train-examples", type=int, default=800)
    args = parser.parse_args(argv)
    try:
        manifest = build(args.output, args.seed, args.eval_examples, args.train_examples)
    except SourceMissing as missing:
        sys.exit(f"build_realtext_suite: {missing}")
    for task, counts in manifest["tasks"].items():
        print(f"{task:20s} {counts['train']:5d} train {counts['eval']:4d} eval "
              f"(from {counts['documents']} documents)")


if __name__ == "__main__":
    main()
