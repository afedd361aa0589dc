"""The documented errors survive pickling, as they must to leave a worker of a process pool
(`execute_all`) with their message and fields instead of breaking the pool."""

from __future__ import annotations

import pickle

import pytest

from mssr.errors import CheckpointError, ConfigError, DataError


@pytest.mark.parametrize("error", [
    ConfigError("output", "runs/x holds a run with a different config", source="demo.yaml"),
    ConfigError("train.lr", "must be > 0"),
    DataError("tasks/a.jsonl", "not JSON", line=3, field="prompt"),
    DataError("tasks/b.jsonl", "empty file"),
    CheckpointError("torn checkpoint"),
])
def test_an_error_pickles_with_its_message_and_fields(error):
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert vars(again) == vars(error)
