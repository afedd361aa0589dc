"""Hugging Face hub sources (`hf:NAME[:CONFIG]`) and the data root: a directory of local
`save_to_disk` copies, one per hub dataset, so runs work offline. `mssr fetch-data` writes the
copies; with a data root set, a run reads them and never touches the network.

Layout: `hf:NAME[:CONFIG]` lives in DATA_ROOT/hf/NAME/CONFIG (`default` without a config).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mssr.data.disk import saved_dataset
from mssr.errors import DataError
from mssr.run_config import DATA_ROOT_FIELD, HUB_PREFIX

if TYPE_CHECKING:
    from mssr.run_config import TaskConfig

DATA_ROOT_ENV = "MSSR_DATA_ROOT"
DEFAULT_CONFIG = "default"


@dataclass(frozen=True)
class HubSpec:
    """A parsed `hf:NAME[:CONFIG]`."""

    name: str
    config: str | None

    @classmethod
    def parse(cls, spec: str) -> HubSpec:
        name, _, config = spec[len(HUB_PREFIX):].partition(":")
        parts = name.split("/")
        if not name or any(part in ("", ".", "..") for part in parts + [config or "x"]):
            raise DataError(spec, f"expected {HUB_PREFIX}NAME[:CONFIG], e.g. "
                            f"{HUB_PREFIX}openai/gsm8k:main")
        return cls(name=name, config=config or None)

    def local_copy(self, data_root: Path) -> Path:
        """Where this dataset's `save_to_disk` copy lives under `data_root`."""
        return data_root.joinpath("hf", *self.name.split("/"), self.config or DEFAULT_CONFIG)


def resolve_data_root(configured: str | None) -> Path | None:
    """The data root: the config's `data_root`, else $MSSR_DATA_ROOT, else None (the hub)."""
    value = configured if configured is not None else os.environ.get(DATA_ROOT_ENV) or None
    return Path(value).expanduser() if value else None


def expand_data_root(source: str, data_root: Path | None) -> str:
    """`source` with `{data_root}` replaced; DataError when it needs a root and none is set."""
    if DATA_ROOT_FIELD not in source:
        return source
    if data_root is None:
        raise DataError(source, f"this source lives under the data root: set data_root in the "
                        f"config or ${DATA_ROOT_ENV}")
    return source.replace(DATA_ROOT_FIELD, str(data_root))


def hub_split(spec: str, split: str, data_root: Path | None,
              trust_remote_code: bool = False) -> tuple[str, Any]:
    """(name, Dataset) of `split` of hub dataset `spec`: from its local copy under `data_root`
    when one is set, else through datasets.load_dataset (online)."""
    parsed = HubSpec.parse(spec)
    if data_root is not None:
        copy = parsed.local_copy(data_root)
        if not copy.is_dir():
            raise DataError(spec, f"no local copy at {copy} (data root {data_root}); write it "
                            "online with `mssr fetch-data CONFIG DIR`")
        _, dataset = saved_dataset(copy, split)
        return f"{spec}[{split}]", dataset
    try:
        return f"{spec}[{split}]", load_hub(parsed, split, trust_remote_code)
    except Exception as error:  # the hub client raises many types; each means "not available"
        raise DataError(spec, f"cannot load from the Hugging Face hub ({type(error).__name__}: "
                        f"{error}). Hub datasets need a network connection; offline, write "
                        f"local copies with `mssr fetch-data` and set data_root or "
                        f"${DATA_ROOT_ENV}") from None


def load_hub(spec: HubSpec, split: str | None, trust_remote_code: bool) -> Any:
    """datasets.load_dataset of `spec`; a dataset's own loading code runs only when the user
    set `trust_remote_code` (the flag is passed only then)."""
    import datasets

    extra = {"trust_remote_code": True} if trust_remote_code else {}
    return datasets.load_dataset(spec.name, spec.config, split=split, **extra)


def fetch_copy(spec: str, data_root: Path, trust_remote_code: bool = False,
               overwrite: bool = False) -> tuple[Path, bool]:
    """Save every split of hub dataset `spec` under `data_root` (online). Returns the copy's
    directory and whether it was written (False: already there). Written to a temporary
    directory and renamed, so an interrupted fetch leaves no half copy."""
    parsed = HubSpec.parse(spec)
    target = parsed.local_copy(data_root)
    if target.is_dir() and not overwrite:
        return target, False
    try:
        dataset = load_hub(parsed, None, trust_remote_code)
    except Exception as error:  # as in hub_split: every failure means "not available"
        raise DataError(spec, f"cannot download ({type(error).__name__}: {error})") from None
    partial = target.with_name(target.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)
    partial.parent.mkdir(parents=True, exist_ok=True)
    dataset.save_to_disk(str(partial))
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    return target, True


def hub_sources(tasks: list[TaskConfig]) -> dict[str, bool]:
    """Every distinct `hf:` source of `tasks` (train and eval) with whether any task using it
    trusts its remote code."""
    sources: dict[str, bool] = {}
    for task in tasks:
        for source in (task.train, task.eval):
            if source is not None and source.startswith(HUB_PREFIX):
                sources[source] = sources.get(source, False) or task.trust_remote_code
    return sources

