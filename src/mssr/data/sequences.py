"""Ready task sequences: configs/sequences/NAME.yaml, one file per benchmark.

A file defines each task once (a TaskConfig without its name) and names orders as lists of
task names, so orders never repeat a definition:

    description: one line
    settings: {eval: {max_new_tokens: 8}}   # run-config sections the benchmark needs
    tasks: {agnews: {train: "hf:fancyzhx/ag_news", doc_to_text: ..., ...}, ...}
    orders: {order1: [dbpedia, amazon, yahoo, agnews], ...}   # the first is the default
    probes: [mmlu]   # tasks scored for general ability, never trained (optional)

`NAME[:ORDER]` becomes a run config: the defaults, the settings, the order's tasks, then
`key=value` overrides (`tasks.NAME.FIELD=value` changes one task).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mssr.errors import ConfigError
from mssr.paths import CONFIGS_DIR
from mssr.run_config import RunConfig, TaskConfig, read_config_file
from mssr.typed_config import apply_overrides, from_mapping

SEQUENCES_DIR = CONFIGS_DIR / "sequences"
KEYS = ("description", "settings", "tasks", "orders", "probes")


@dataclass(frozen=True)
class ReadySequence:
    """A benchmark file: its tasks (validated TaskConfigs), named orders and probe tasks."""

    name: str
    path: Path
    description: str
    settings: dict[str, Any]
    tasks: dict[str, TaskConfig]
    orders: dict[str, list[str]]
    probes: list[str]

    def order(self, name: str | None) -> tuple[str, list[str]]:
        """(order name, task names); None picks the first order."""
        if name is None:
            name = next(iter(self.orders))
        if name not in self.orders:
            raise ConfigError("sequence", f"{self.name} has no order {name!r}; orders: "
                              f"{', '.join(self.orders)}", str(self.path))
        return name, self.orders[name]

    def run_data(self, order: str | None = None, overrides: list[str] | None = None,
                 base: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run-config mapping of one order: the sequence's settings, then `base` (a
        config file's sections: model, training, replay), the order's tasks, then `key=value`
        overrides (`tasks.NAME.FIELD=value` reaches one task of the order)."""
        order_name, names = self.order(order)
        base = base or {}
        given = [key for key in ("tasks", "suite") if key in base]
        if given:
            raise ConfigError(given[0], f"the sequence {self.name} gives the tasks; remove "
                              f"'{given[0]}' from the config file")
        raw = _read(self.path)["tasks"]
        data = _merged(self.settings, base)
        data.setdefault("output", f"runs/{self.name}-{order_name}/{{strategy}}-seed{{seed}}")
        data["tasks"] = {name: dict(raw[name] or {}) for name in names}
        apply_overrides(data, overrides or [])
        if isinstance(data["tasks"], dict):
            extra = [name for name in data["tasks"] if name not in names]
            if extra:
                raise ConfigError(f"tasks.{extra[0]}", f"not a task of order {order_name}: "
                                  f"{', '.join(names)}", str(self.path))
            data["tasks"] = [{"name": name, **fields} for name, fields in data["tasks"].items()]
        return data


def sequence_names() -> list[str]:
    """The ready sequences shipped in configs/sequences/."""
    return sorted(path.stem for path in SEQUENCES_DIR.glob("*.yaml"))


def load_sequence(name: str) -> ReadySequence:
    """The ready sequence `name` (a file stem of configs/sequences/), checked in full."""
    path = SEQUENCES_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError("sequence", f"no ready sequence {name!r}; choose one of: "
                          f"{', '.join(sequence_names())}")
    data = _read(path)
    source = str(path)
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown key; valid keys are: {', '.join(KEYS)}", source)
    for key, kind in (("tasks", dict), ("orders", dict), ("settings", dict), ("probes", list)):
        if not isinstance(data.get(key, kind()), kind):
            raise ConfigError(key, f"expected a {kind.__name__}", source)
    if not data.get("tasks") or not data.get("orders"):
        raise ConfigError("orders", "a sequence needs tasks and at least one order", source)
    tasks = {task_name: from_mapping(TaskConfig, {"name": task_name, **(fields or {})},
                                     f"tasks.{task_name}", source)
             for task_name, fields in data["tasks"].items()}
    probes = list(data.get("probes", []))
    for where, names in [*((f"orders.{k}", v) for k, v in data["orders"].items()),
                         ("probes", probes)]:
        if not isinstance(names, list) or not (names or where == "probes"):
            raise ConfigError(where, "expected a non-empty list of task names", source)
        missing = [task for task in names if task not in tasks]
        if missing:
            raise ConfigError(where, f"task {missing[0]!r} is not defined under tasks", source)
    return ReadySequence(name=name, path=path, description=str(data.get("description", "")),
                         settings=data.get("settings", {}), tasks=tasks,
                         orders={k: list(v) for k, v in data["orders"].items()}, probes=probes)


def sequence_config(spec: str, overrides: list[str] | None = None,
                    config_file: str | None = None) -> RunConfig:
    """The run config of `NAME[:ORDER]`: the defaults, the sequence's settings, the sections
    of `config_file` (e.g. a model preset), the order's tasks, then `key=value` overrides."""
    name, _, order = spec.partition(":")
    sequence = load_sequence(name)
    base = read_config_file(config_file) if config_file is not None else None
    return from_mapping(RunConfig, sequence.run_data(order or None, overrides, base),
                        source=config_file or str(sequence.path))


def split_file_and_overrides(file: str | None,
                             overrides: list[str]) -> tuple[str | None, list[str]]:
    """(config file, overrides) of a command line whose optional CONFIG positional took the
    first `key=value` override (argparse does that when no file is given)."""
    if file is not None and "=" in file and not Path(file).exists():
        return None, [file, *overrides]
    return file, list(overrides)


def _merged(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `base` with `update`'s values on top, section by section."""
    merged = yaml.safe_load(yaml.safe_dump(base)) or {}
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError("sequence", f"cannot read: {error}", str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError("sequence", "the file must hold a mapping", str(path))
    return data
