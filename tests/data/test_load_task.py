"""load_task: deterministic splits, size limits, resolved format and scorer, size checks."""

from __future__ import annotations

import pytest
from data_files import qa

from mssr.data.loaders import TaskData, check_task_size, load_task
from mssr.errors import ConfigError, DataError
from mssr.run_config import TaskConfig


def responses(examples) -> list[str]:
    return [example.response for example in examples]


def test_carved_split_is_deterministic_and_disjoint(write_jsonl):
    task = TaskConfig(name="t", train=str(write_jsonl(qa(50))), eval_fraction=0.2)
    first, again = load_task(task, seed=3), load_task(task, seed=3)
    assert first == again
    assert (len(first.train), len(first.eval)) == (40, 10)
    assert set(responses(first.train)).isdisjoint(responses(first.eval))
    assert sorted(responses(first.train) + responses(first.eval)) == sorted(responses(
        load_task(task, seed=4).train + load_task(task, seed=4).eval))
    assert responses(load_task(task, seed=4).eval) != responses(first.eval)
    renamed = TaskConfig(name="u", train=task.train, eval_fraction=0.2)
    assert responses(load_task(renamed, seed=3).eval) != responses(first.eval)


def test_carved_eval_keeps_file_order_and_train_is_shuffled(write_jsonl):
    data = load_task(TaskConfig(name="t", train=str(write_jsonl(qa(40)))), seed=0)
    lines = [int(example.source.rsplit(":", 1)[1]) for example in data.eval]
    assert lines == sorted(lines) and len(lines) == 4
    train_lines = [int(example.source.rsplit(":", 1)[1]) for example in data.train]
    assert train_lines != sorted(train_lines)


def test_limits_take_the_first_examples_after_the_shuffle(write_jsonl):
    path = str(write_jsonl(qa(30)))
    full = load_task(TaskConfig(name="t", train=path), seed=1)
    capped = load_task(TaskConfig(name="t", train=path, max_train_examples=5,
                                  max_eval_examples=2), seed=1)
    assert capped.train == full.train[:5]
    assert capped.eval == full.eval[:2]


def test_given_eval_file_is_used_whole(write_jsonl):
    train = write_jsonl(qa(10), "train.jsonl")
    evaluation = write_jsonl(qa(4, start=100), "eval.jsonl")
    data = load_task(TaskConfig(name="t", train=str(train), eval=str(evaluation)), seed=0)
    assert responses(data.eval) == ["101", "102", "103", "104"]
    assert sorted(responses(data.train), key=int) == [str(i) for i in range(1, 11)]


def test_eval_file_of_another_format_is_an_error(write_jsonl):
    train = write_jsonl(qa(10), "train.jsonl")
    chat = {"messages": [{"role": "user", "content": "hi"},
                         {"role": "assistant", "content": "hello"}]}
    evaluation = write_jsonl([chat], "eval.jsonl")
    with pytest.raises(DataError, match="chat records, but the train data") as caught:
        load_task(TaskConfig(name="t", train=str(train), eval=str(evaluation)), seed=0)
    assert caught.value.path == str(evaluation)


def test_single_example_cannot_be_carved(write_jsonl):
    with pytest.raises(DataError, match="too few to carve"):
        load_task(TaskConfig(name="t", train=str(write_jsonl(qa(1)))), seed=0)


def test_negative_seed_is_a_config_error(write_jsonl):
    with pytest.raises(ConfigError, match="'seed'"):
        load_task(TaskConfig(name="t", train=str(write_jsonl(qa(5)))), seed=-1)


def test_chat_and_multiple_choice_examples(write_jsonl):
    chat = [{"messages": [{"role": "system", "content": "Be brief."},
                          {"role": "user", "content": f"Say {i}"},
                          {"role": "assistant", "content": f"{i}", "name": "bot"}],
             "id": i} for i in range(5)]
    data = load_task(TaskConfig(name="c", train=str(write_jsonl(chat, "chat.jsonl"))), seed=0)
    example = data.eval[0]
    number = example.response
    assert data.format == "chat"
    assert example.prompt == f"System: Be brief.\nUser: Say {number}\nAssistant:"
    assert example.messages[-1] == {"role": "assistant", "content": number}
    mc = [{"question": "Sky?", "choices": ["red", "blue", "green"], "answer": "blue"},
          {"question": "Grass?", "choices": ["green", "red"], "answer": 0}]
    data = load_task(TaskConfig(name="m", train=str(write_jsonl(mc, "mc.jsonl")),
                                eval=str(write_jsonl(mc, "mc.jsonl"))), seed=0)
    sky = next(example for example in data.eval if example.prompt.startswith("Sky"))
    assert (sky.prompt, sky.response, sky.choices, sky.answer) == (
        "Sky?\nAnswer:", "blue", ("red", "blue", "green"), 1)
    assert data.scorer == "multiple_choice"


@pytest.mark.parametrize("answers,scorer", [
    (["42", "-3.5", "1,000", "+7"], "numeric"),
    (["blue", "red dog", "a b c d", "yes"], "exact_match"),
    (["a long free text answer with many words", "another sentence of six words"], "rouge_l"),
    (["4", "four"], "exact_match"),
])
def test_scorer_inference(write_jsonl, answers, scorer):
    records = [{"prompt": f"q{i}", "response": answer} for i, answer in enumerate(answers)]
    path = str(write_jsonl(records))
    data = load_task(TaskConfig(name="t", train=path, eval=path), seed=0)
    assert data.scorer == scorer


@pytest.mark.parametrize("scorer,words", [("multiple_choice", "needs multiple-choice data"),
                                          ("numeric", "needs a number in every response")])
def test_explicit_scorer_that_does_not_fit(write_jsonl, scorer, words):
    path = str(write_jsonl([{"prompt": "q", "response": "blue"}, *qa(3)]))
    with pytest.raises(ConfigError, match=words) as caught:
        load_task(TaskConfig(name="colours", train=path, eval=path, scorer=scorer), seed=0)
    assert caught.value.field == "tasks[colours].scorer"


def test_numeric_scorer_takes_worked_answers_ending_in_a_number(write_jsonl):
    path = str(write_jsonl([{"prompt": "3 - 2 + 7?", "response": "3 - 2 = 1, 1 + 7 = 8"},
                            *qa(3)]))
    data = load_task(TaskConfig(name="t", train=path, eval=path, scorer="numeric"), seed=0)
    assert data.scorer == "numeric"
    assert load_task(TaskConfig(name="t", train=path, eval=path), seed=0).scorer != "numeric"


@pytest.mark.parametrize("scorer", ["exact_match", "rouge_l", "loss", "numeric"])
def test_explicit_scorer_that_fits_is_kept(write_jsonl, scorer):
    path = str(write_jsonl(qa(4)))
    assert load_task(TaskConfig(name="t", train=path, eval=path, scorer=scorer),
                     seed=0).scorer == scorer


def test_check_task_size():
    data = TaskData(name="small", train=[], eval=[], format="prompt_response",
                    scorer="numeric", skipped_lines=0)
    check_task_size(data, 0, "train.batch_size")
    with pytest.raises(DataError, match="0 training examples, fewer than train.batch_size = 4"):
        check_task_size(data, 4, "train.batch_size")
