"""Data a program holds (a datasets.Dataset, a list of dicts, mssr Examples) becomes examples
with the same format detection and checks as a file `mssr run` reads; mistakes are ConfigErrors
naming the task, the row and the field."""

from __future__ import annotations

import json
import re

import datasets
import pytest

from mssr.data.loaders import examples_from_rows, load_examples
from mssr.data.schema import Example
from mssr.data.trainer_rows import sft_rows, sft_train_data
from mssr.errors import ConfigError

FIELD = "tasks[a].eval"
CHAT = {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}]}
CHOICE = {"question": "Capital of France?", "choices": ["Paris", "Rome"], "answer": "Paris"}


@pytest.mark.parametrize("rows, record_format, response", [
    ([{"prompt": "2+2=", "completion": "4"}], "prompt_response", "4"),
    ([{"prompt": "2+2=", "response": "4", "extra": 1}], "prompt_response", "4"),
    ([CHAT], "chat", "4"),
    ([CHOICE], "multiple_choice", "Paris"),
])
@pytest.mark.parametrize("container", ["list", "dataset"])
def test_every_record_format_reads_from_a_list_or_a_dataset(rows, record_format, response,
                                                            container):
    held = datasets.Dataset.from_list(rows) if container == "dataset" else rows
    read = examples_from_rows(held, FIELD)
    assert read.format == record_format and [e.response for e in read.examples] == [response]
    assert read.examples[0].source == f"{FIELD}:0"


def test_examples_are_kept_and_prompt_completion_files_read_as_mssr_run_reads_them(tmp_path):
    examples = [Example(prompt="2+2=", response="4"), Example(prompt="3+3=", response="6")]
    assert examples_from_rows(examples, FIELD).examples == examples
    path = tmp_path / "pc.jsonl"
    path.write_text(json.dumps({"prompt": "2+2=", "completion": "4"}) + "\n")
    assert load_examples(str(path)).examples[0].response == "4"


@pytest.mark.parametrize("rows, field, message", [
    ("2+2=4", FIELD, "expected a datasets.Dataset, a list of dicts or a list of mssr "
                     "Examples, got str"),
    ({"prompt": "2+2="}, FIELD, "got dict"),
    (datasets.DatasetDict({"test": datasets.Dataset.from_list([CHAT])}), FIELD,
     "DatasetDict of splits ['test']: give one split"),
    ([], FIELD, "no rows"),
    ([CHAT, "4"], f"{FIELD}[1]", "expected a dict (a record) or an mssr Example, got str"),
    ([{"text": "2+2=4"}], f"{FIELD}[0]", "keys ['text'] match no record format (expected "
                                         "chat: messages; multiple_choice: question, choices, "
                                         "answer; prompt_response: prompt, response or "
                                         "completion)"),
    ([CHAT, {"text": "2+2=4"}], f"{FIELD}[1].messages",
     "missing"),  # one format per task, as in a file: the first row's
    ([{"prompt": "a", "completion": "b"}, {"prompt": "c", "completion": ""}],
     f"{FIELD}[1].completion", "empty"),
    ([{"prompt": "a", "completion": "b"}, CHAT], f"{FIELD}[1]", "a chat record in a file of "
                                                                "prompt_response records"),
    ([{**CHOICE, "answer": 5}], f"{FIELD}[0].answer", "index 5 is out of range"),
    ([Example(prompt="a", response="b"), Example(prompt="q", response="x", choices=("x", "y"),
                                                  answer=0)], FIELD, "several formats"),
])
def test_mistakes_name_the_task_the_row_and_the_field(rows, field, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        examples_from_rows(rows, FIELD)
    assert raised.value.field == field


def test_trl_training_rows_pass_through_or_are_rendered_as_mssr_renders_them(tiny_tokenizer):
    dataset = datasets.Dataset.from_list([{"text": "anything SFTTrainer reads"}])
    assert sft_train_data(dataset, "tasks[a].train", tiny_tokenizer) is dataset
    for mine in ([{"prompt": "2+2=", "completion": "4"}], [CHAT]):
        assert sft_train_data(mine, "tasks[a].train", tiny_tokenizer).to_list() == mine
    converted = sft_train_data([CHOICE], "tasks[a].train", tiny_tokenizer)
    example = examples_from_rows([CHOICE], "x").examples
    assert converted.to_list() == sft_rows(example, tiny_tokenizer)
    assert converted[0] == {"prompt": "<s>Capital of France?\nAnswer:", "completion": " Paris"}
    with pytest.raises(ConfigError, match=re.escape("'tasks[a].train[0].prompt'")):
        sft_train_data([{"prompt": 3, "response": "x"}], "tasks[a].train", tiny_tokenizer)
