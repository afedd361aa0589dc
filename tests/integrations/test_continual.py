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
])
def test_task_errors_name_the_task(tasks, field):
    with pytest.raises(ConfigError, match=re.escape(f"'{field}'")):
        check_tasks(tasks)
