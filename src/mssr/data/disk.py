"""`datasets.save_to_disk` directories: a task source given as one, and the data root's local
copies of hub datasets (`mssr.data.hub`) are both read here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mssr.errors import DataError


def saved_dataset(path: Path, split: str) -> tuple[str, Any]:
    """A Dataset, or the `split` of a DatasetDict, saved with `save_to_disk`."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except (OSError, ValueError, KeyError) as error:
        raise DataError(str(path), f"not a readable datasets.save_to_disk directory: {error}") \
            from None
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise DataError(str(path), f"no split {split!r}; splits: {', '.join(loaded)}",
                            field="split")
        return f"{path}[{split}]", loaded[split]
    return str(path), loaded
