"""The built-in suite: deterministic files, valid records, disjoint splits, orders and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mssr.data.suites import SUITES, list_suites, materialize
from mssr.errors import ConfigError
from mssr.run_config import SuiteConfig, TaskConfig

SMALL = {"train_examples": 40, "eval_examples": 10}
FORMAT_KEYS = {"prompt_response": {"prompt", "response"}, "chat": {"messages"},
               "multiple_choice": {"question", "choices", "answer"}}


def read(path: str) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.jsonl"))}


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list[TaskConfig]:
    return materialize(SuiteConfig(), tmp_path_factory.mktemp("suite"), seed=0)


def test_default_suite_has_eleven_tasks_and_three_orders_of_them():
    suite = SUITES["default"]
    assert len(suite.tasks) == 11
    assert set(suite.orders) == {"default", "reverse", "shuffled"}
    for order in suite.orders.values():
        assert sorted(order) == sorted(suite.tasks)
    assert [info.name for info in list_suites()] == ["default", "realtext"]


def test_demo_tasks_mix_formats_and_scorers():
    suite = SUITES["default"]
    demo = [suite.tasks[name] for name in suite.orders["default"][:5]]
    assert {task.format for task in demo} == {"prompt_response", "multiple_choice", "chat"}
    assert {"numeric", "multiple_choice", "exact_match"} <= {task.scorer for task in demo}


def test_every_task_is_written_with_default_sizes_and_explicit_format(written):
    suite = SUITES["default"]
    assert [task.name for task in written] == suite.orders["default"]
    for task in written:
        info = suite.tasks[task.name]
        assert (task.format, task.scorer) == (info.format, info.scorer)
        assert len(read(task.train)) == suite.train_examples
        assert len(read(task.eval)) == suite.eval_examples


def test_records_follow_their_format(written):
    for task in written:
        for record in read(task.train) + read(task.eval):
            assert set(record) == FORMAT_KEYS[task.format], task.name
            if task.format == "prompt_response":
                assert record["prompt"].strip() and record["response"].strip()
            elif task.format == "chat":
                roles = [turn["role"] for turn in record["messages"]]
                assert roles[-1] == "assistant" and "user" in roles
                assert set(roles) <= {"system", "user", "assistant"}
                assert all(turn["content"].strip() for turn in record["messages"])
            else:
                assert len(record["choices"]) == len(set(record["choices"])) == 4
                assert 0 <= record["answer"] < 4


def test_no_eval_record_is_in_train(written):
    for task in written:
        train = {json.dumps(r, sort_keys=True) for r in read(task.train)}
        assert not train & {json.dumps(r, sort_keys=True) for r in read(task.eval)}, task.name


def test_every_fact_asked_in_eval_is_taught_in_train(written):
    for task in written:
        if task.format != "multiple_choice":
            continue
        taught = {(r["question"].split()[-1], r["choices"][r["answer"]]) for r in read(task.train)}
        asked = {(r["question"].split()[-1], r["choices"][r["answer"]]) for r in read(task.eval)}
        assert len(asked - taught) <= len(asked) // 10, task.name


def test_numeric_answers_are_correct(written):
    problems = next(task for task in written if task.name == "word_problems")
    for record in read(problems.train):
        for equation in record["response"].split(", "):
            left, result = equation.split(" = ")
            assert eval(left) == int(result)  # noqa: S307 - digits and +/- only


def test_same_seed_gives_identical_files_and_other_seed_differs(tmp_path):
    for seed, folder in ((0, "a"), (0, "b"), (1, "c")):
        materialize(SuiteConfig(**SMALL), tmp_path / folder, seed=seed)
    first, again, other = (files(tmp_path / f) for f in "abc")
    assert first == again
    assert first.keys() == other.keys()
    assert all(first[name] != other[name] for name in first)


def test_identical_files_are_not_rewritten(tmp_path):
    materialize(SuiteConfig(**SMALL), tmp_path, seed=0)
    path = tmp_path / "default" / "word_problems" / "train.jsonl"
    before = path.stat().st_mtime_ns
    path.touch()
    touched = path.stat().st_mtime_ns
    materialize(SuiteConfig(**SMALL), tmp_path, seed=0)
    assert path.stat().st_mtime_ns == touched
    assert not list(path.parent.glob(".*"))  # no temporary files left behind
    assert before <= touched


def test_num_tasks_order_and_sizes_are_honoured(tmp_path):
    tasks = materialize(SuiteConfig(order="reverse", num_tasks=3, **SMALL), tmp_path, seed=0)
    assert [t.name for t in tasks] == SUITES["default"].orders["reverse"][:3]
    assert [len(read(t.train)) for t in tasks] == [40] * 3
    assert [len(read(t.eval)) for t in tasks] == [10] * 3


def test_a_task_has_the_same_data_in_every_order(tmp_path):
    forward = materialize(SuiteConfig(num_tasks=1, **SMALL), tmp_path / "f", seed=0)
    shuffled = materialize(SuiteConfig(order="shuffled", **SMALL), tmp_path / "s", seed=0)
    same = next(t for t in shuffled if t.name == forward[0].name)
    assert read(same.train) == read(forward[0].train)


@pytest.mark.parametrize(("suite", "field", "listed"), [
    (SuiteConfig(name="nope"), "suite.name", "default"),
    (SuiteConfig(order="sideways"), "suite.order", "default, reverse, shuffled"),
    (SuiteConfig(num_tasks=12), "suite.num_tasks", "11 tasks"),
    (SuiteConfig(num_tasks=5, train_examples=4000), "suite.train_examples", "distinct"),
])
def test_bad_suite_settings_raise_config_error_naming_the_field(tmp_path, suite, field, listed):
    with pytest.raises(ConfigError) as raised:
        materialize(suite, tmp_path, seed=0)
    assert raised.value.field == field
    assert listed in str(raised.value)


def test_cli_lists_and_writes(tmp_path, capsys):
    import argparse

    from mssr.commands import suites

    parser = argparse.ArgumentParser()
    suites.register(parser.add_subparsers())
    args = parser.parse_args(["suites"])
    assert args.handler(args) == 0
    listing = capsys.readouterr().out
    assert "order shuffled" in listing and "chat_opposites" in listing and "rouge_l" in listing
    args = parser.parse_args(["suites", "--write", str(tmp_path), "--seed", "2"])
    assert args.handler(args) == 0
    assert len(list((tmp_path / "default").glob("*/eval.jsonl"))) == 11
