"""A task's validated examples: read its sources, check every record, split train/eval
deterministically and settle its format and scorer. Reads only, never writes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mssr.data.hub import resolve_data_root
from mssr.data.mapping import FieldMapping, compile_mapping
from mssr.data.schema import Example
from mssr.data.scorer_choice import resolve_scorer
from mssr.data.sources import RowChooser, open_source
from mssr.data.splits import row_sampler, sample_in_order, split_examples, task_rng
from mssr.data.validation import detect_format, matching_formats, to_example
from mssr.errors import ConfigError, DataError
from mssr.run_config import TaskConfig


@dataclass(frozen=True)
class TaskData:
    """A task ready for training and evaluation; `format` and `scorer` are resolved (never
    'auto'), `skipped_lines` counts bad lines skipped, `truncated` is filled by the engine."""

    name: str
    train: list[Example]
    eval: list[Example]
    format: str
    scorer: str
    skipped_lines: int
    truncated: int = 0


@dataclass(frozen=True)
class SourceExamples:
    """The valid examples of one source, their record format and how many lines were skipped."""

    source: str
    examples: list[Example]
    format: str
    skipped_lines: int


def load_task(task: TaskConfig, seed: int, skip_bad_lines: bool = False,
              data_root: str | None = None) -> TaskData:
    """Load and validate `task`; with `skip_bad_lines`, malformed lines are counted, not fatal.
    `data_root` (else $MSSR_DATA_ROOT) holds local copies of `hf:` sources."""
    reader = TaskReader(mapping=compile_mapping(task), data_root=resolve_data_root(data_root),
                        trust_remote_code=task.trust_remote_code, where=task.where)
    # with a given eval source, only the capped number of rows of a dataset is decoded;
    # carving an eval split needs every training row
    train = reader.read(task.train, task.format, task.split, skip_bad_lines, row_sampler(
        task.max_train_examples if task.eval is not None else None,
        task_rng(seed, f"{task.name}/train-rows")))
    evaluation = None
    if task.eval is not None:
        evaluation = reader.read(task.eval, task.format, task.eval_split or task.split,
                                 skip_bad_lines, row_sampler(task.max_eval_examples,
                                                             task_rng(seed, f"{task.name}/eval")))
        if evaluation.format != train.format:
            raise DataError(evaluation.source, f"{evaluation.format} records, but the train "
                            f"data {train.source} holds {train.format} records")
    train_examples, eval_examples = split_examples(
        train.examples, evaluation.examples if evaluation else None, task.eval_fraction,
        task_rng(seed, task.name), train.source)
    train_examples = train_examples[:task.max_train_examples]
    if evaluation is not None and task.max_eval_examples is not None:
        # a given eval set may be sorted (by label, say): sample it, keeping its order
        eval_examples = sample_in_order(eval_examples, task.max_eval_examples,
                                        task_rng(seed, f"{task.name}/eval"))
    else:
        eval_examples = eval_examples[:task.max_eval_examples]
    scorer = resolve_scorer(task.scorer, train.format, train_examples + eval_examples, task.name)
    skipped = train.skipped_lines + (evaluation.skipped_lines if evaluation else 0)
    return TaskData(name=task.name, train=train_examples, eval=eval_examples,
                    format=train.format, scorer=scorer, skipped_lines=skipped)


@dataclass(frozen=True)
class TaskReader:
    """How a task's sources are read: its field mapping (None: the built-in record formats),
    the data root, whether a hub dataset may run its own code, and its record filter."""

    mapping: FieldMapping | None = None
    data_root: Path | None = None
    trust_remote_code: bool = False
    where: dict[str, Any] | None = None

    def read(self, source: str, record_format: str = "auto", split: str = "train",
             skip_bad_lines: bool = False, choose: RowChooser | None = None) -> SourceExamples:
        """Every valid record of `source` as an Example. `record_format` 'auto' takes the
        format of the first valid record; a later record of another format is an error on
        its line. A field mapping builds the examples itself, in its one format. `choose`
        picks which rows of a dataset to read (see open_source)."""
        opened = open_source(source, split, self.data_root, self.trust_remote_code, self.where,
                             choose)
        return read_records(opened.records, opened.name, record_format, skip_bad_lines,
                            self.mapping, f" matching where {self.where}" if self.where else "")


def read_records(records: Iterable[tuple[int, Any]], name: str, record_format: str = "auto",
                 skip_bad_lines: bool = False, mapping: FieldMapping | None = None,
                 empty_note: str = "") -> SourceExamples:
    """Every valid record of (line, record or DataError) pairs from the source `name` as an
    Example (see TaskReader.read); `empty_note` tells why there may be no records."""
    examples: list[Example] = []
    resolved = None
    count = skipped = 0
    for line, record in records:
        count += 1
        try:
            if isinstance(record, DataError):
                raise record
            if mapping is not None:
                examples.append(mapping.example(record, name, line))
                resolved = mapping.templates.format
                continue
            line_format = _record_format(record, record_format, resolved, name, line)
            examples.append(to_example(record, line_format, name, line))
            resolved = line_format
        except DataError:
            if not skip_bad_lines:
                raise
            skipped += 1
    if count == 0:
        raise DataError(name, "empty: no records" + empty_note)
    if resolved is None or not examples:
        raise DataError(name, f"no valid records ({skipped} bad lines skipped)")
    return SourceExamples(name, examples, resolved, skipped)


def examples_from_rows(rows: Any, field: str) -> SourceExamples:
    """The examples of data a program holds, as the trainer integrations take it: a
    `datasets.Dataset` or a list of dicts in any record format `mssr run` reads (detected and
    checked the same way), or a list of mssr Examples (kept). A wrong type, or a row that fits
    no format, is a ConfigError naming `field` (e.g. `tasks[a].eval`), the 0-based row and the
    record's field: `tasks[a].eval[3].response`."""
    import datasets

    if isinstance(rows, datasets.DatasetDict):
        raise ConfigError(field, f"a DatasetDict of splits {list(rows)}: give one split")
    if not isinstance(rows, (datasets.Dataset, list, tuple)):
        raise ConfigError(field, f"expected a datasets.Dataset, a list of dicts or a list of "
                          f"mssr Examples, got {type(rows).__name__}")
    if len(rows) == 0:
        raise ConfigError(field, "no rows")
    if all(isinstance(row, Example) for row in rows):
        kinds = {_example_format(example) for example in rows}
        if len(kinds) > 1:
            raise ConfigError(field, f"Examples of several formats ({', '.join(sorted(kinds))}); "
                              "one format per task")
        return SourceExamples(field, list(rows), kinds.pop(), 0)
    wrong = next((index for index, row in enumerate(rows) if not isinstance(row, dict)), None)
    if wrong is not None:
        raise ConfigError(f"{field}[{wrong}]", f"expected a dict (a record) or an mssr Example, "
                          f"got {type(rows[wrong]).__name__}")
    try:
        return read_records(enumerate(rows), field)
    except DataError as error:
        where = f"{field}[{error.line}]" + (f".{error.field}" if error.field else "")
        raise ConfigError(where, error.message) from None


def _example_format(example: Example) -> str:
    if example.messages is not None:
        return "chat"
    return "multiple_choice" if example.is_multiple_choice else "prompt_response"


def load_examples(source: str, record_format: str = "auto", split: str = "train",
                  skip_bad_lines: bool = False) -> SourceExamples:
    """Every valid record of `source` in the built-in record formats (see TaskReader.read)."""
    return TaskReader().read(source, record_format, split, skip_bad_lines)


def check_task_size(data: TaskData, minimum: int, what: str) -> None:
    """DataError unless `data` has at least `minimum` training examples (`what` names the
    setting that needs them, e.g. 'train.batch_size')."""
    if len(data.train) < minimum:
        raise DataError(f"task '{data.name}'", f"{len(data.train)} training examples, fewer "
                        f"than {what} = {minimum}; add data or lower {what}", field="train")


def _record_format(record: object, requested: str, resolved: str | None, source: str,
                   line: int) -> str:
    """The format to validate `record` as: the one requested, else the file's once known, else
    the one its keys match."""
    if requested != "auto":
        return requested
    if resolved is None:
        return detect_format(record, source, line)
    if isinstance(record, dict):
        formats = matching_formats(record)
        if formats and resolved not in formats:
            raise DataError(source, f"a {formats[0]} record in a file of {resolved} records "
                            "(one format per file)", line)
    return resolved
