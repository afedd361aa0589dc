"""Raw records of a task source: a .jsonl or .json file, a `datasets.save_to_disk` directory,
or `hf:NAME[:CONFIG]` on the Hugging Face hub (or its copy under the data root, see
`mssr.data.hub`). Local sources are only read, never written.

Problems with the whole source (missing, unreadable, not JSON at all) raise a DataError at
once. A single .jsonl line that cannot be decoded is yielded as a DataError in place of its
record, so the caller decides whether to raise it or to skip it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mssr.data.disk import saved_dataset
from mssr.data.hub import expand_data_root, hub_split
from mssr.errors import DataError
from mssr.run_config import HUB_PREFIX

RowChooser = Callable[[int], Sequence[int]]
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


@dataclass(frozen=True)
class RecordSource:
    """`records` yields (1-based line or row, record or DataError); `name` is how errors and
    `Example.source` refer to the source."""

    name: str
    records: Iterator[tuple[int, Any]]


def open_source(source: str, split: str, data_root: Path | None = None,
                trust_remote_code: bool = False, where: Mapping[str, Any] | None = None,
                choose: RowChooser | None = None) -> RecordSource:
    """The records of `source`; `split` selects from a DatasetDict or a hub dataset, `where`
    keeps only records whose columns have the given values, and `choose(count)` picks the
    positions to read among a dataset's `count` remaining rows (JSON files are read whole).
    Line and row numbers stay the source's."""
    source = expand_data_root(source, data_root)
    if source.startswith(HUB_PREFIX):
        name, dataset = hub_split(source, split, data_root, trust_remote_code)
        return RecordSource(name, _rows(dataset, where, name, choose))
    path = Path(source)
    if path.is_dir():
        name, dataset = saved_dataset(path, split)
        return RecordSource(name, _rows(dataset, where, name, choose))
    if not path.is_file():
        raise DataError(source, f"file not found (looked for {path.resolve()})")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return RecordSource(source, _keep_where(_jsonl_records(path), where, source))
    if suffix == ".json":
        return RecordSource(source, _keep_where(_json_records(path), where, source))
    raise DataError(source, f"unsupported file type {suffix!r}: use .jsonl, .json, a "
                    f"datasets.save_to_disk directory or {HUB_PREFIX}NAME[:CONFIG]")


def _jsonl_records(path: Path) -> Iterator[tuple[int, Any]]:
    """One JSON value per non-blank line, read line by line."""
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                text = raw.decode("utf-8-sig" if line == 1 else "utf-8")
            except UnicodeDecodeError as error:
                yield line, DataError(str(path), f"not valid UTF-8 (byte {error.start} of the "
                                      "line)", line)
                continue
            try:
                yield line, json.loads(text)
            except (ValueError, RecursionError) as error:
                yield line, DataError(str(path), f"malformed JSON: {_reason(error)}", line)


def _json_records(path: Path) -> Iterator[tuple[int, Any]]:
    """The records of a .json file: a list of objects, or an object with that list under
    "data"; each is paired with the line its value starts on."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DataError(str(path), "not valid UTF-8", data.count(b"\n", 0, error.start) + 1) \
            from None
    if not text.strip():
        return iter(())
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise DataError(str(path), f"malformed JSON: {_reason(error)}",
                        getattr(error, "lineno", None)) from None
    start = _skip_space(text, 0)
    if isinstance(document, dict):
        if not isinstance(document.get("data"), list):
            raise DataError(str(path), "a JSON object must hold its records as a list under "
                            "\"data\"", field="data")
        document, start = document["data"], _member_start(text, start, "data")
    elif not isinstance(document, list):
        raise DataError(str(path), "expected a list of records or an object with a list under "
                        f"\"data\", got {type(document).__name__}")
    return zip(_element_lines(text, start), document, strict=True)


def _reason(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at column {error.colno}"
    return str(error)


def _skip_space(text: str, position: int) -> int:
    return _JSON_SPACE.match(text, position).end()


def _member_start(text: str, position: int, wanted: str) -> int:
    """Where the value of key `wanted` starts in the (valid) JSON object at `position`; the
    last one when the key repeats, as json.loads keeps."""
    decoder = json.JSONDecoder()
    found = -1
    position = _skip_space(text, position + 1)
    while text[position] != "}":
        key, position = decoder.raw_decode(text, position)
        position = _skip_space(text, _skip_space(text, position) + 1)  # past the ':'
        if key == wanted:
            found = position
        position = _skip_space(text, decoder.raw_decode(text, position)[1])
        if text[position] == ",":
            position = _skip_space(text, position + 1)
    return found


def _element_lines(text: str, position: int) -> Iterator[int]:
    """The 1-based line on which each element of the (valid) JSON array at `position` starts."""
    decoder = json.JSONDecoder()
    line, counted_to = 1, 0
    position = _skip_space(text, position + 1)
    while text[position] != "]":
        line += text.count("\n", counted_to, position)
        counted_to = position
        yield line
        position = _skip_space(text, decoder.raw_decode(text, position)[1])
        if text[position] == ",":
            position = _skip_space(text, position + 1)


def _rows(dataset: Any, where: Mapping[str, Any] | None, name: str,
          choose: RowChooser | None) -> Iterator[tuple[int, Any]]:
    """A dataset's rows numbered from 1: with `where`, only the matching rows (found by
    reading the filter's columns alone), and of those only the ones `choose` picks, so a
    large hub dataset is decoded only where it is used."""
    if not where and choose is None:
        return enumerate(dataset, start=1)
    rows: Sequence[int] = range(len(dataset))
    if where:
        missing = [column for column in where if column not in dataset.column_names]
        if missing:
            raise DataError(name, f"no column {missing[0]!r}; columns: "
                            f"{', '.join(dataset.column_names)}", field=f"where.{missing[0]}")
        wanted = list(where.values())
        rows = [index for index, values in enumerate(zip(*(dataset[column] for column in where),
                                                         strict=True))
                if list(values) == wanted]
    if choose is not None:
        rows = [rows[position] for position in choose(len(rows))]
    return zip((index + 1 for index in rows), dataset.select(rows), strict=True)


def _keep_where(records: Iterator[tuple[int, Any]], where: Mapping[str, Any] | None,
                name: str) -> Iterator[tuple[int, Any]]:
    """The records of a JSON source whose columns have the values of `where`."""
    if not where:
        return records
    return ((line, record) for line, record in records
            if not isinstance(record, dict) or
            all(record.get(column) == value for column, value in where.items()))
