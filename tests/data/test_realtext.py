"""The `realtext` suite: its readers on small files in the sources' real formats, the builder's
split (no evaluation document in training), the shipped data and its listing."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pytest

from mssr.data.suites import SUITES, materialize
from mssr.data.suites import realtext as catalog
from mssr.errors import ConfigError
from mssr.run_config import SuiteConfig

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # the checkout: scripts/
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import build_realtext_suite as builder  # noqa: E402
import realtext_sources as sources  # noqa: E402

PACKAGES = """Package: 0ad
Version: 0.0.26-3
Installed-Size: 28591
Description: Real-time strategy game of ancient warfare
Description-md5: d943033bedada21853d2ae54a2578a7b
Section: games
Priority: optional

Package: gimp
Source: gimp
Description: GNU Image Manipulation Program
Section: contrib/graphics

Package: no-section
Description: a stanza without a section is skipped
"""
WORDNET_NOUNS = (
    "  1 This software and database is being provided to you, the LICENSEE\n"
    "01323958 05 n 02 cat 0 true_cat 0 000 | feline mammal usually having thick soft fur; "
    '"she loves her cat"  \n'
    "02958343 06 n 01 car 0 000 | a motor vehicle with four wheels  \n")
MAN_PAGE = r""".\" Copyright (C) 1992 Drew Eckhardt
.\" SPDX-License-Identifier: Linux-man-pages-copyleft
.TH open 2 2023-02-05 "Linux man-pages 6.03"
.SH NAME
open, openat, creat \- open and possibly create a file
.SH SYNOPSIS
.nf
.B #include <fcntl.h>
.fi
.SH DESCRIPTION
The
.BR open ()
system call opens the file specified by
.IR pathname .
If the specified file does not exist, it may optionally be created by
\fBopen\fP().
.PP
A second paragraph.
"""
PYTHON_INDEX = ".. toctree::\n   :maxdepth: 2\n\n   intro.rst\n   text.rst\n"
PYTHON_CHAPTER = ("************************\nText Processing Services\n"
                  "************************\n\nThe modules in this chapter.\n\n"
                  ".. toctree::\n\n   string.rst\n")
PYTHON_PAGE = (":mod:`string` --- Common string operations\n====\n\n.. module:: string\n\n"
               "The :mod:`string` module contains a number of useful constants and classes "
               "for string formatting.\n\n.. code::\n\n   x = 1\n")


def test_packages_stanzas_give_name_section_and_description():
    documents = list(sources.parse_packages(PACKAGES))
    assert [(d.key, d.labels["section"], d.text) for d in documents] == [
        ("0ad", "games", "Real-time strategy game of ancient warfare"),
        ("gimp", "graphics", "GNU Image Manipulation Program")]


def test_wordnet_synsets_carry_their_lexicographer_category(tmp_path):
    (tmp_path / "data.noun").write_text(WORDNET_NOUNS, encoding="utf-8")
    documents = list(sources.wordnet_synsets("noun", tmp_path))
    assert [(d.labels["category"], d.text) for d in documents] == [
        ("animal", "feline mammal usually having thick soft fur"),
        ("artifact", "a motor vehicle with four wheels")]
    assert documents[0].labels["words"] == ["cat", "true cat"]


def test_man_page_roff_gives_section_names_summary_and_first_paragraph():
    page = sources.parse_man_page(MAN_PAGE)
    assert page.key == "open.2"
    first = ("The open() system call opens the file specified by pathname. If the specified "
             "file does not exist, it may optionally be created by open().")
    assert page.labels == {"section": "2", "name": "open", "names": ["open", "openat", "creat"],
                           "summary": "open and possibly create a file",
                           "licence": "Linux-man-pages-copyleft", "paragraphs": [first]}
    assert page.text == first  # "A second paragraph." is too short to be prose
    assert sources.parse_man_page(".so man2/open.2\n") is None
    assert sources.parse_man_page(MAN_PAGE.replace("Linux man-pages", "GNU coreutils")) is None


def test_man_pages_under_the_gpl_are_left_out(tmp_path):
    (tmp_path / "man2").mkdir()
    for name, licence in (("open", "Linux-man-pages-copyleft"), ("close", "GPL-2.0-or-later")):
        page = MAN_PAGE.replace("Linux-man-pages-copyleft", licence).replace("open", name)
        (tmp_path / "man2" / f"{name}.2.gz").write_bytes(gzip.compress(page.encode()))
    assert [page.key for page in sources.man_pages(("2",), tmp_path)] == ["open.2"]


def test_python_library_pages_label_paragraphs_with_module_and_chapter(tmp_path):
    (tmp_path / "index.rst.txt").write_text(PYTHON_INDEX, encoding="utf-8")
    (tmp_path / "text.rst.txt").write_text(PYTHON_CHAPTER, encoding="utf-8")
    (tmp_path / "string.rst.txt").write_text(PYTHON_PAGE, encoding="utf-8")
    documents = list(sources.python_library_pages(tmp_path))
    assert [(d.labels["module"], d.labels["chapter"]) for d in documents] == [
        ("string", "Text Processing Services")]
    assert documents[0].text.startswith("The string module contains")


def test_missing_sources_name_the_package(tmp_path):
    with pytest.raises(sources.SourceMissing, match="apt-get update"):
        list(sources.debian_packages(tmp_path))
    with pytest.raises(sources.SourceMissing, match="wordnet-base"):
        list(sources.wordnet_synsets("noun", tmp_path))
    with pytest.raises(sources.SourceMissing, match="python3.11-doc"):
        list(sources.python_library_pages(tmp_path))


def test_split_keeps_duplicates_and_evaluation_documents_out_of_training():
    items = [(f"doc{i}", "ab"[i % 2], {"prompt": f"Text number {i // 2}", "response": "x"})
             for i in range(400)]
    eval_records, train_records = builder.split_task("test", items, seed=0, eval_count=30,
                                                     train_count=1000, balance=True)
    eval_texts = {builder.normalised(r["prompt"]) for r in eval_records}
    train_texts = [builder.normalised(r["prompt"]) for r in train_records]
    assert len(eval_records) == 30 and not eval_texts & set(train_texts)
    assert len(train_texts) == len(set(train_texts))  # deduplicated: 200 distinct texts
    assert len(eval_texts) + len(train_texts) <= 200


def test_builder_writes_every_task_from_small_sources(tmp_path):
    (tmp_path / "data.noun").write_text(WORDNET_NOUNS, encoding="utf-8")
    # Even-numbered descriptions say their package's name: only they make multiple choices.
    says = {i: f"Game{i}, " if i % 2 == 0 else "" for i in range(12)}
    games = "".join(f"Package: game{i}\nDescription: {says[i]}a puzzle game number {i}\n"
                    "Section: games\n\n" for i in range(12))
    paragraphs = [sources.Document(f"string-{i}", text, {"module": "string",
                                                         "chapter": "Data Types"})
                  for i, text in enumerate(["The string module has constants.",
                                            "Constants for formatting text.",
                                            "Format strings use braces."])]
    readers = {"debian": lambda: list(sources.parse_packages(games)),
               "nouns": lambda: list(sources.wordnet_synsets("noun", tmp_path)),
               "verbs": lambda: [], "manpages": lambda: [sources.parse_man_page(MAN_PAGE)],
               "python-docs": lambda: paragraphs}
    manifest = builder.build(tmp_path / "out", seed=0, eval_count=3, train_count=20,
                             readers=readers)
    counts = manifest["tasks"]
    assert set(counts) == set(catalog.TASKS)
    assert counts["debian_sections"]["train"] + counts["debian_sections"]["eval"] == 12
    choices = [json.loads(line) for split in ("train", "eval") for line in
               (tmp_path / f"out/debian_packages/{split}.jsonl").read_text().splitlines()]
    assert counts["debian_packages"]["documents"] == len(choices) == 6
    for record in choices:
        number = record["question"].split("number ")[1].split()[0]
        assert int(number) % 2 == 0 and len(set(record["choices"])) == 4
        assert record["choices"][record["answer"]] == f"game{number}"
        assert sum(f"{choice}," in record["question"].lower() for choice in record["choices"]
                   ) == 1  # the description says the answer's name, no distractor's
    assert counts["manpage_names"]["documents"] == 1
    assert counts["python_doc_topics"]["documents"] == 3
    assert counts["python_doc_modules"]["documents"] == 1  # "strings" is not "string"


def test_a_description_says_a_package_name_by_its_first_part_as_a_word():
    text = "tesseract-ocr language files for Galician"
    assert builder.says_name(text, "tesseract-ocr-glg") and builder.says_name(text, "Tesseract")
    assert not builder.says_name(text, "glg-tools")  # only the first part counts
    assert not builder.says_name("libtesseract bindings", "tesseract-ocr")


def shipped(task: str, split: str) -> list[dict]:
    path = catalog.DATA_DIR / task / f"{split}.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("task", list(catalog.TASKS))
def test_shipped_tasks_have_no_evaluation_text_in_training(task):
    eval_texts = {builder.normalised(builder.record_text(r)) for r in shipped(task, "eval")}
    train_texts = {builder.normalised(builder.record_text(r)) for r in shipped(task, "train")}
    assert len(eval_texts) >= 150 and len(train_texts) >= 400
    assert not eval_texts & train_texts


def passage(record: dict) -> str:
    """The document inside a record's prompt (the line after the instruction's label)."""
    return builder.normalised(builder.record_text(record).split("\n\n", 1)[1].split("\n")[0])


@pytest.mark.parametrize("source", sorted(set(builder.SOURCE_OF_TASK.values())))
def test_no_evaluation_document_of_a_source_trains_any_of_its_tasks(source):
    tasks = [task for task, of in builder.SOURCE_OF_TASK.items() if of == source]
    evaluated = {passage(r) for task in tasks for r in shipped(task, "eval")}
    trained = {passage(r) for task in tasks for r in shipped(task, "train")}
    assert not evaluated & trained


def test_realtext_suite_materialises_its_shipped_records(tmp_path):
    suite = SUITES["realtext"]
    assert set(suite.orders) >= {"default", "reverse", "shuffled"} and len(suite.orders) >= 4
    assert all(sorted(order) == sorted(suite.tasks) for order in suite.orders.values())
    tasks = materialize(SuiteConfig(name="realtext", order="reverse", num_tasks=2), tmp_path, 3)
    assert [t.name for t in tasks] == suite.orders["reverse"][:2]
    written = [json.loads(line) for line in Path(tasks[0].eval).read_text().splitlines()]
    assert written == shipped(tasks[0].name, "eval")
    with pytest.raises(ConfigError, match="ships"):
        materialize(SuiteConfig(name="realtext", num_tasks=1, train_examples=10**6),
                    tmp_path, 0)


def test_suites_command_lists_sources_and_licences(capsys):
    from mssr.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["suites", "--suite", "realtext"])
    assert exited.value.code == 0
    listed = capsys.readouterr().out
    assert "suite default" not in listed and "order shuffled" in listed
    for task in catalog.TASKS.values():
        assert task.source in listed and task.licence in listed
