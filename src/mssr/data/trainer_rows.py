"""Task data for other trainers: what a user holds (a `datasets.Dataset`, a list of dicts, mssr
Examples) in the form the host trainer reads. The integrations call these; the record formats
and their checks are the loaders' own (mssr.data.loaders.examples_from_rows)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mssr.data.formatting import render
from mssr.data.loaders import examples_from_rows
from mssr.data.schema import Example

SFT_KEYS = (("prompt", "completion"), ("messages",), ("text",))  # the rows SFTTrainer reads


def sft_rows(examples: Sequence[Example], tokenizer: Any) -> list[dict[str, str]]:
    """Prompt/completion rows rendered as mssr trains and scores the examples (the prompt
    opens with the tokenizer's BOS, as mssr's scorers prompt the model)."""
    bos = tokenizer.bos_token or ""
    rows = []
    for example in examples:
        prompt, completion = render(example, tokenizer)
        rows.append({"prompt": bos + prompt, "completion": completion})
    return rows


def sft_train_data(rows: Any, field: str, tokenizer: Any) -> Any:
    """SFTTrainer's training data: a Dataset as it is (SFTTrainer checks its own formats);
    a list of dicts in SFTTrainer's formats (prompt/completion, messages, text) as a Dataset;
    any other rows in a format `mssr run` reads (prompt/response, question/choices/answer) or
    mssr Examples as prompt/completion rows (`sft_rows`). ConfigError naming `field`, the row
    and the record's field for rows that fit no format."""
    import datasets

    if isinstance(rows, datasets.Dataset):
        return rows
    if isinstance(rows, (list, tuple)) and rows and all(
            isinstance(row, dict) and any(all(key in row for key in keys) for keys in SFT_KEYS)
            for row in rows):
        return datasets.Dataset.from_list(list(rows))
    examples = examples_from_rows(rows, field).examples
    return datasets.Dataset.from_list(sft_rows(examples, tokenizer))
