"""The base-model corpus readers on small files in the installed packages' formats."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]  # the checkout: scripts/
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import base_model_corpus as corpus  # noqa: E402

WORDNET_LINES = (
    "  1 This software and database is being provided to you, the LICENSEE\n"
    "00406613 04 n 02 fold 0 folding 0 001 @ 00404403 n 0000 | the act of folding; "
    '"he gave the napkins a double fold"  \n'
    "00406800 04 n 01 plication 0 000 | the act of folding in parallel folds  \n")
DEVIL_TEXT = (
    "00-database-short\n     The Devil's Dictionary (1881-1906)\n\n"
    "ABNORMAL, adj.  Not conforming to standard.  In matters of thought and\n"
    "conduct, to be independent is to be abnormal.\n\n"
    "ad-hockery\n /ad\u00b7hok'@r\u00b7ee/, n.\n\n"
    "    By {Abracadabra} we signify \u201can infinite number\u201d of things, they say.\n\n"
    "    'Tis the answer to What?\n")
PYTHON_DOCS_PAGE = (
    ".. _tut-if:\n\n:keyword:`!if` Statements\n=========================\n\n"
    "Perhaps the most well-known statement type is the :keyword:`if` statement.  For\n"
    "example::\n\n   >>> x = int(input())\n\n"
    "There can be zero or more ``elif`` parts, see :ref:`the tutorial <tut-if>` for more.\n")


@pytest.fixture
def wordnet_dir(tmp_path):
    (tmp_path / "data.noun").write_text(WORDNET_LINES, encoding="utf-8")
    for suffix in ("verb", "adj", "adv"):
        (tmp_path / f"data.{suffix}").write_text("", encoding="utf-8")
    return tmp_path


def test_wordnet_synsets_become_entries_with_examples_or_a_chat(wordnet_dir):
    documents = list(corpus.wordnet_documents(wordnet_dir))
    assert documents == [
        "fold (noun): the act of folding.\nOther words for fold: folding.\n"
        "He gave the napkins a double fold.",
        "User: What does the noun plication mean?\n"
        "Assistant: The act of folding in parallel folds."]


def test_dictd_keeps_prose_paragraphs_and_drops_headers_and_pronunciations(tmp_path):
    with gzip.open(tmp_path / "devil.dict.dz", "wt", encoding="utf-8") as file:
        file.write(DEVIL_TEXT)
    assert list(corpus.dictd_documents("devil", "dict-devil", tmp_path)) == [
        "ABNORMAL, adj. Not conforming to standard. In matters of thought and conduct, to be "
        "independent is to be abnormal.",
        'By Abracadabra we signify "an infinite number" of things, they say.']


def test_python_docs_keep_prose_without_code_headings_or_roles(tmp_path):
    (tmp_path / "tutorial").mkdir()
    (tmp_path / "tutorial" / "controlflow.rst.txt").write_text(PYTHON_DOCS_PAGE,
                                                                encoding="utf-8")
    (tmp_path / "whatsnew").mkdir()
    (tmp_path / "whatsnew" / "3.11.rst.txt").write_text(PYTHON_DOCS_PAGE, encoding="utf-8")
    assert list(corpus.python_docs_documents(tmp_path)) == [
        "Perhaps the most well-known statement type is the if statement. For example.\n"
        "There can be zero or more elif parts, see the tutorial for more."]


def test_a_missing_source_names_its_debian_package(tmp_path):
    with pytest.raises(corpus.SourceMissing, match="apt-get install wordnet-base"):
        next(corpus.wordnet_documents(tmp_path))
    with pytest.raises(corpus.SourceMissing, match="apt-get install dict-devil"):
        next(corpus.dictd_documents("devil", "dict-devil", tmp_path))
    with pytest.raises(corpus.SourceMissing, match="apt-get install python3.11-doc"):
        next(corpus.python_docs_documents(tmp_path / "absent"))


def test_templated_documents_are_seeded_and_never_use_a_suite_prompt_form():
    first = corpus.templated_documents(np.random.default_rng(0), 300)
    assert first == corpus.templated_documents(np.random.default_rng(0), 300)
    text = "\n".join(first)
    assert not any(form in text for form in ("Review:", "Reverse:", "Plural:", "Items:"))
