"""The integrations' settings and task checks fail early with errors that name the field."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from mssr.data.schema import Example
from mssr.errors import ConfigError
from mssr.integrations import ContinualConfig, ContinualTask
from mssr.integrations.continual import check_tasks
from mssr.replay.config import ReplayConfig

EVAL = [Example(prompt="2 plus 2 is", response="4")]


@pytest.mark.parametrize(("settings", "field"), [
    ({"steps_per_task": 0}, "steps_per_task"),
    ({"replay_budget": "half"}, "replay_budget"),
    ({"reference_runs": [Path("runs/joint")]}, "reference_runs"),
])
def test_settings_errors_name_the_field_when_built(settings, field):
    with pytest.raises(ConfigError, match=f"'{field}'"):
        ContinualConfig(**{"steps_per_task": 10, **settings})


def test_sections_check_themselves_when_built_in_code_or_copied():
    with pytest.raises(ConfigError, match="'strategy'.*unknown strategy 'sometimes'"):
        ReplayConfig(strategy="sometimes")
    with pytest.raises(ConfigError, match="'steps_per_task'"):
        dataclasses.replace(ContinualConfig(steps_per_task=10), steps_per_task=0)


@pytest.mark.parametrize(("tasks", "field"), [
    ([], "tasks"),
    ([ContinualTask("a", [{"input_ids": [1]}], EVAL, "exact_match")] * 2, "tasks"),
    ([ContinualTask("a", [], EVAL, "exact_match")], "tasks[a].train"),
    ([ContinualTask("a", [{"input_ids": [1]}], [], "exact_match")], "tasks[a].eval"),
    ([ContinualTask("a", [{"input_ids": [1]}], {"prompt": "x"}, "exact_match")],
     "tasks[a].eval"),
    ([ContinualTask("a", [{"input_ids": [1]}], [{"prompt": "x", "completion": 4}])],
     "tasks[a].eval[0].completion"),
    ([ContinualTask("a", [{"input_ids": [1]}], EVAL, "bleu")], "tasks[a].scorer"),
    ([ContinualTask("a", [{"input_ids": [1]}], EVAL, "multiple_choice")], "tasks[a].scorer"),
])
def test_task_errors_name_the_task(tasks, field):
    with pytest.raises(ConfigError, match=re.escape(f"'{field}'")):
        check_tasks(tasks)


def test_eval_data_as_users_have_it_becomes_scored_examples():
    import datasets

    rows = [{"prompt": "2 plus 2 is", "completion": "4"}, {"prompt": "3 plus 3 is",
                                                             "completion": "6"}]
    chat = [{"messages": [{"role": "user", "content": "hi"},
                          {"role": "assistant", "content": "hello there friend"}]}]
    train = [{"input_ids": [1]}]
    a, b, c = check_tasks([ContinualTask("a", train, datasets.Dataset.from_list(rows)),
                           ContinualTask("b", train, chat, "rouge_l"),
                           ContinualTask("c", train, EVAL, "exact_match")])
    assert [e.response for e in a.eval] == ["4", "6"] and a.scorer == "numeric"  # auto
    assert b.eval[0].messages is not None and b.scorer == "rouge_l"
    assert c.eval == EVAL
