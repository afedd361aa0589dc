"""The base-model corpus readers on small files in the installed packages' formats."""

from __future__ import annotations

import gzip
import sys

import numpy as np
import pytest

from mssr.paths import PROJECT_ROOT

sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
import base_model_corpus as corpus  # noqa: E402

WORDNET_LINES = (
    "  1 This software and database is being provided to you, the LICENSEE\n"
    "00406613 04 n 02 fold 0 folding 0 001 @ 00404403 n 0000 | the act of folding; "
    '"he gave the napkins a double fold"  \n'
    "00406800 04 n 01 plication 0 000 | the act of folding in parallel folds  \n")
GCIDE_TEXT = (
    "Apple \\Ap\"ple\\ ([a^]p\"p'l), n. [OE. appel]\n"
    "   1. The fleshy pome or fruit of a rosaceous tree.\n"
    "      [1913 Webster]\n\n"
    "         An apple a day keeps the doctor away. --Proverb.\n\n"
    "   2. (bot.) Any tree of the genus Pyrus; an apple tree.\n"
    "      [1913 Webster]\n"
    "Kettle \\Ket\"tle\\, n.\n"
    "   A metallic vessel for boiling water.\n"
    "      [1913 Webster]\n")


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


def test_gcide_keeps_plain_definitions_and_drops_quotations_and_tags(tmp_path):
    path = tmp_path / "gcide.dict.dz"
    with gzip.open(path, "wt", encoding="utf-8") as file:
        file.write(GCIDE_TEXT)
    assert list(corpus.gcide_documents(path)) == [
        "apple: The fleshy pome or fruit of a rosaceous tree.\n"
        "apple: Any tree of the genus Pyrus; an apple tree.",
        "kettle: A metallic vessel for boiling water."]


def test_a_missing_source_names_its_debian_package(tmp_path):
    with pytest.raises(corpus.SourceMissing, match="apt-get install wordnet-base"):
        next(corpus.wordnet_documents(tmp_path))
    with pytest.raises(corpus.SourceMissing, match="apt-get install dict-gcide"):
        next(corpus.gcide_documents(tmp_path / "gcide.dict.dz"))


def test_templated_documents_are_seeded_and_never_use_a_suite_prompt_form():
    first = corpus.templated_documents(np.random.default_rng(0), 300)
    assert first == corpus.templated_documents(np.random.default_rng(0), 300)
    text = "\n".join(first)
    assert not any(form in text for form in ("Review:", "Reverse:", "Plural:", "Items:"))
