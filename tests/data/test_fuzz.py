"""Whatever bytes or JSON a data file holds, loading it either works or raises the project's
own DataError/ConfigError: never a traceback from inside the loader."""

from __future__ import annotations

import json

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from mssr.data.loaders import load_task
from mssr.errors import ConfigError, DataError
from mssr.run_config import FORMATS, SCORERS, TaskConfig

KEYS = ["prompt", "response", "messages", "question", "choices", "answer", "role", "content",
        "data"]
SCALARS = st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | \
    st.sampled_from(["", " ", "user", "assistant", "system", "blue", "42", "a b"]) | st.text()
JSON_VALUES = st.recursive(
    SCALARS, lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=5), children, max_size=5), max_leaves=12)
WORDS = st.sampled_from(["42", "-3.5", "blue", "red", "a b c d e", " "]) | st.text(max_size=8)
TURNS = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant", "system", "x"]),
                               "content": WORDS})
NEAR_VALID = (st.fixed_dictionaries({"prompt": WORDS, "response": WORDS})
              | st.fixed_dictionaries({"question": WORDS, "choices": st.lists(WORDS, max_size=4),
                                       "answer": st.integers(-1, 4) | WORDS})
              | st.fixed_dictionaries({"messages": st.lists(TURNS, max_size=4)}))
RECORDS = NEAR_VALID | st.dictionaries(st.sampled_from(KEYS), JSON_VALUES, max_size=6) | JSON_VALUES
OPTIONS = st.fixed_dictionaries({"format": st.sampled_from(FORMATS),
                                 "scorer": st.sampled_from(SCORERS),
                                 "skip_bad_lines": st.booleans()})
FUZZ = settings(max_examples=300, deadline=None)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def load(path, options: dict) -> None:
    task = TaskConfig(name="fuzz", train=str(path), format=options["format"],
                      scorer=options["scorer"])
    try:
        load_task(task, seed=0, skip_bad_lines=options["skip_bad_lines"])
        event("loaded")
    except (DataError, ConfigError) as error:
        event(type(error).__name__)


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".json"]), options=OPTIONS)
def test_random_bytes(fuzz_dir, data, suffix, options):
    path = fuzz_dir / f"bytes{suffix}"
    path.write_bytes(data)
    load(path, options)


@FUZZ
@given(records=st.lists(RECORDS, max_size=8) | st.lists(NEAR_VALID, min_size=2, max_size=8),
       options=OPTIONS)
def test_random_json_lines(fuzz_dir, records, options):
    path = fuzz_dir / "records.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    load(path, options)


@FUZZ
@given(document=JSON_VALUES | st.fixed_dictionaries({"data": st.lists(RECORDS, max_size=5)}),
       indent=st.sampled_from([None, 0, 2]), options=OPTIONS)
def test_random_json_documents(fuzz_dir, document, indent, options):
    path = fuzz_dir / "document.json"
    path.write_text(json.dumps(document, indent=indent))
    load(path, options)
