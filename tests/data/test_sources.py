"""Each kind of source: JSONL, JSON (list or {"data": [...]}), save_to_disk Dataset and
DatasetDict, and the hub (which must fail cleanly offline)."""

from __future__ import annotations

import json

import pytest
from data_files import qa

from mssr.data.loaders import load_examples, load_task
from mssr.errors import DataError
from mssr.run_config import TaskConfig

MC = [{"question": f"Pick {i}", "choices": [str(i), "none"], "answer": str(i)} for i in range(6)]


def test_json_list_records_carry_the_line_they_start_on(tmp_path):
    path = tmp_path / "train.json"
    path.write_text('[\n  {"prompt": "a", "response": "1"},\n\n  {"prompt": "b",\n'
                    '   "response": "2"}, {"prompt": "c", "response": "3"}\n]\n')
    loaded = load_examples(str(path))
    assert [example.source for example in loaded.examples] == [f"{path}:2", f"{path}:4",
                                                                f"{path}:5"]
    assert [example.response for example in loaded.examples] == ["1", "2", "3"]


def test_json_object_with_data_list_names_the_bad_record_line(tmp_path):
    path = tmp_path / "train.json"
    path.write_text('{"version": {"data": [0]},\n "data": [\n  {"prompt": "a", "response": "1"},'
                    '\n  {"prompt": "b", "response": 2}\n ]}')
    with pytest.raises(DataError) as caught:
        load_examples(str(path))
    assert (caught.value.line, caught.value.field) == (4, "response")


@pytest.mark.parametrize("text,line,words", [
    ('[{"prompt": "a", "response": "1"},\n {"prompt": }]', 2, "malformed JSON"),
    ('{"records": []}', None, 'list under "data"'),
    ('"just a string"', None, "expected a list of records"),
])
def test_json_file_level_errors(tmp_path, text, line, words):
    path = tmp_path / "train.json"
    path.write_text(text)
    with pytest.raises(DataError, match=words) as caught:
        load_examples(str(path), skip_bad_lines=True)
    assert (caught.value.path, caught.value.line) == (str(path), line)


def test_json_file_with_bad_bytes_names_their_line(tmp_path):
    path = tmp_path / "train.json"
    path.write_bytes(b'[\n{"prompt": "a", "response": "1"},\n'
                     b'{"prompt": "\xc3\x28", "response": "x"}]')
    with pytest.raises(DataError, match="line 3: not valid UTF-8"):
        load_examples(str(path))


def test_json_bad_record_is_skippable(tmp_path):
    path = tmp_path / "train.json"
    path.write_text(json.dumps([*qa(3), 5, {"prompt": "x"}]))
    assert load_examples(str(path), skip_bad_lines=True).skipped_lines == 2


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(qa(1)[0]).encode() + b"\n")
    assert load_examples(str(path)).examples[0].prompt == "0 plus 1 is"


def test_saved_dataset_directory(tmp_path):
    import datasets

    directory = tmp_path / "saved"
    datasets.Dataset.from_list(MC).save_to_disk(str(directory))
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    loaded = load_examples(str(directory))
    assert loaded.format == "multiple_choice"
    assert [example.answer for example in loaded.examples] == [0] * 6
    assert loaded.examples[2].source == f"{directory}:3"
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before  # no writes


def test_saved_dataset_dict_uses_the_task_split(tmp_path):
    import datasets

    directory = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(qa(10)),
                          "test": datasets.Dataset.from_list(qa(3, start=50))}
                         ).save_to_disk(str(directory))
    data = load_task(TaskConfig(name="t", train=str(directory), split="test",
                                eval=str(directory)), seed=0)
    assert sorted(example.response for example in data.train) == ["51", "52", "53"]
    assert data.train[0].source.startswith(f"{directory}[test]:")
    with pytest.raises(DataError, match="no split 'validation'; splits: train, test") as caught:
        load_examples(str(directory), split="validation")
    assert caught.value.field == "split"


def test_eval_split_reads_another_split_of_the_same_dataset_dict(tmp_path):
    import datasets

    directory = tmp_path / "saved"
    datasets.DatasetDict({"train": datasets.Dataset.from_list(qa(10)),
                          "test": datasets.Dataset.from_list(qa(3, start=50))}
                         ).save_to_disk(str(directory))
    data = load_task(TaskConfig(name="t", train=str(directory), eval=str(directory),
                                eval_split="test"), seed=0)
    assert len(data.train) == 10
    assert sorted(example.response for example in data.eval) == ["51", "52", "53"]


def test_saved_dataset_bad_row_is_named(tmp_path):
    import datasets

    directory = tmp_path / "saved"
    rows = [{"prompt": "a", "response": "1"}, {"prompt": "b", "response": ""}]
    datasets.Dataset.from_list(rows).save_to_disk(str(directory))
    with pytest.raises(DataError) as caught:
        load_examples(str(directory))
    assert (caught.value.path, caught.value.line, caught.value.field) == (
        str(directory), 2, "response")


def test_directory_that_is_not_a_saved_dataset(tmp_path):
    with pytest.raises(DataError, match="not a readable datasets.save_to_disk directory"):
        load_examples(str(tmp_path))


def test_hub_dataset_offline_is_a_data_error(monkeypatch, tmp_path):
    import datasets
    import huggingface_hub

    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DataError, match="need a network connection") as caught:
        load_examples("hf:nobody/no-such-dataset:main")
    assert caught.value.path == "hf:nobody/no-such-dataset:main"
    with pytest.raises(DataError, match="expected hf:NAME"):
        load_examples("hf:")
