"""Record builders for data tests."""

from __future__ import annotations

import json
from typing import Any


def jsonl(records: list[Any]) -> str:
    """JSONL text of `records`; strings are written as they are (for malformed lines)."""
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def qa(count: int, start: int = 0) -> list[dict[str, str]]:
    """`count` valid prompt/response records with numeric answers."""
    return [{"prompt": f"{i} plus 1 is", "response": str(i + 1)}
            for i in range(start, start + count)]
