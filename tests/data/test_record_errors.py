"""Every per-record error, provoked from a real file: the message names file, line and field."""

from __future__ import annotations

import pytest
from data_files import qa

from mssr.data.loaders import load_examples, load_task
from mssr.errors import ConfigError, DataError
from mssr.run_config import TaskConfig

MC = {"question": "Colour of the sky?", "choices": ["blue", "red"], "answer": 0}
CHAT = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hey"}]}


def chat(*turns: tuple[str, object]) -> dict:
    return {"messages": [{"role": role, "content": content} for role, content in turns]}


# (first valid record fixing the file's format, bad record, field named, words in the message)
CASES = {
    "malformed json": (qa(1)[0], '{"prompt": "a", "response": ', None, "malformed JSON"),
    "not an object": (qa(1)[0], "[1, 2]", None, "expected a JSON object"),
    "missing prompt": (qa(1)[0], {"response": "2", "other": 1}, "prompt", "missing"),
    "null response": (qa(1)[0], {"prompt": "p", "response": None}, "response", "missing"),
    "empty response": (qa(1)[0], {"prompt": "p", "response": "  "}, "response", "empty"),
    "prompt wrong type": (qa(1)[0], {"prompt": 3, "response": "x"}, "prompt", "expected a string"),
    "no format's keys after the first": (qa(1)[0], {"text": "hello"}, "prompt", "missing"),
    "mixed formats": (qa(1)[0], MC, None, "one format per file"),
    "mc answer not a choice": (MC, {**MC, "answer": "green"}, "answer", "not one of the choices"),
    "mc index out of range": (MC, {**MC, "answer": 2}, "answer", "out of range"),
    "mc negative index": (MC, {**MC, "answer": -1}, "answer", "out of range"),
    "mc answer wrong type": (MC, {**MC, "answer": 1.0}, "answer", "choice index"),
    "mc bool answer": (MC, {**MC, "answer": True}, "answer", "choice index"),
    "mc one choice": (MC, {**MC, "choices": ["blue"]}, "choices", "at least 2 choices"),
    "mc choices not a list": (MC, {**MC, "choices": "blue"}, "choices", "expected a list"),
    "mc empty choice": (MC, {**MC, "choices": ["blue", ""]}, "choices[1]", "empty"),
    "mc missing answer": (MC, {**MC, "answer": None}, "answer", "missing"),
    "chat last turn user": (CHAT, chat(("user", "a"), ("assistant", "b"), ("user", "c")),
                            "messages[2].role", "assistant's"),
    "chat unknown role": (CHAT, chat(("robot", "a"), ("assistant", "b")), "messages[0].role",
                          "not one of"),
    "chat empty content": (CHAT, chat(("user", ""), ("assistant", "b")), "messages[0].content",
                           "empty"),
    "chat turn not object": (CHAT, {"messages": ["hi", {"role": "assistant", "content": "b"}]},
                             "messages[0]", "expected an object"),
    "chat only reply": (CHAT, chat(("assistant", "b")), "messages", "at least one turn"),
    "chat messages not list": (CHAT, {"messages": "hi"}, "messages", "expected a list"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_record_is_named_by_file_line_and_field(case, write_jsonl):
    good, bad, field, words = CASES[case]
    path = write_jsonl([good, bad])
    with pytest.raises(DataError) as caught:
        load_examples(str(path))
    error = caught.value
    assert (error.path, error.line, error.field) == (str(path), 2, field)
    assert words in str(error)
    assert f"{path}, line 2" in str(error)
    if field is not None:
        assert f"field '{field}'" in str(error)


def test_non_utf8_line_is_named(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b'{"prompt": "a", "response": "b"}\n{"prompt": "\xff\xfe", "response": "b"}\n')
    with pytest.raises(DataError, match="line 2: not valid UTF-8"):
        load_examples(str(path))


def test_first_record_matching_no_format(write_jsonl):
    path = write_jsonl([{"text": "hello"}, *qa(2)])
    with pytest.raises(DataError, match="line 1: keys \\['text'\\] match no record format"):
        load_examples(str(path))


def test_explicit_format_reports_its_missing_field(write_jsonl):
    path = write_jsonl(qa(2))
    with pytest.raises(DataError) as caught:
        load_examples(str(path), record_format="multiple_choice")
    assert (caught.value.line, caught.value.field) == (1, "question")


@pytest.mark.parametrize("content,message", [("", "empty"), ("\n\n  \n", "empty"),
                                             ("[]", "empty")])
def test_file_without_records_is_an_error(tmp_path, content, message):
    path = tmp_path / ("train.json" if content == "[]" else "train.jsonl")
    path.write_text(content)
    with pytest.raises(DataError, match=message) as caught:
        load_examples(str(path))
    assert caught.value.path == str(path)


def test_missing_file_names_it(tmp_path):
    path = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match="file not found") as caught:
        load_task(TaskConfig(name="t", train=str(path)), seed=0)
    assert caught.value.path == str(path)


def test_a_missing_relative_file_says_where_it_was_looked_for(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=f"looked for {tmp_path / 'sub' / 'tr.jsonl'}"):
        load_task(TaskConfig(name="t", train="sub/tr.jsonl"), seed=0)


def test_unsupported_suffix(tmp_path):
    path = tmp_path / "train.csv"
    path.write_text("prompt,response\n")
    with pytest.raises(DataError, match="unsupported file type '.csv'"):
        load_examples(str(path))


def test_skip_bad_lines_counts_them(write_jsonl):
    path = write_jsonl([*qa(3), "not json", {"prompt": "x"}, [1], MC, *qa(2, start=3), "{"])
    loaded = load_examples(str(path), skip_bad_lines=True)
    assert loaded.skipped_lines == 5
    assert [example.source for example in loaded.examples] == [
        f"{path}:{line}" for line in (1, 2, 3, 8, 9)]


def test_skipping_leading_bad_lines_takes_format_from_first_valid_record(write_jsonl):
    path = write_jsonl(["oops", {"text": 1}, MC, {**MC, "answer": 1}])
    loaded = load_examples(str(path), skip_bad_lines=True)
    assert (loaded.format, loaded.skipped_lines, len(loaded.examples)) == ("multiple_choice", 2, 2)


def test_skipping_everything_still_fails(write_jsonl):
    path = write_jsonl(["oops", {"text": 1}])
    with pytest.raises(DataError, match="no valid records"):
        load_examples(str(path), skip_bad_lines=True)


def test_skipped_lines_of_train_and_eval_add_up(write_jsonl):
    train = write_jsonl([*qa(4), "bad"], "train.jsonl")
    evaluation = write_jsonl(["bad", {"prompt": 1, "response": "2"}, *qa(2)], "eval.jsonl")
    data = load_task(TaskConfig(name="t", train=str(train), eval=str(evaluation)), seed=0,
                     skip_bad_lines=True)
    assert data.skipped_lines == 3
    assert (len(data.train), len(data.eval)) == (4, 2)


def test_unknown_requested_format_is_a_config_error(write_jsonl):
    with pytest.raises(ConfigError, match="unknown record format 'csv'") as caught:
        load_examples(str(write_jsonl(qa(2))), record_format="csv")
    assert caught.value.field == "format"
