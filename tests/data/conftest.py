"""Fixtures for data tests: task files written into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from data_files import jsonl


@pytest.fixture
def write_jsonl(tmp_path: Path) -> Callable[..., Path]:
    """write_jsonl(records, name="train.jsonl") -> path of the written file."""

    def write(records: list[Any], name: str = "train.jsonl") -> Path:
        path = tmp_path / name
        path.write_text(jsonl(records), encoding="utf-8")
        return path

    return write
