"""Typed configuration: dataclasses loaded from plain mappings, with errors that name the field.

Every config dataclass documents its fields with `field(metadata={"help": ...})`; the loader
rejects unknown keys (listing the valid ones), checks types, and runs each class's
`validate()` when it has one. It knows nothing of torch, so the replay core can use it.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

import yaml

from mssr.errors import ConfigError

T = TypeVar("T")


def help_field(default: Any = dataclasses.MISSING, help: str = "", **kwargs: Any) -> Any:
    """A dataclass field that carries its help text (shown by `mssr config`)."""
    if isinstance(default, (list, dict)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value),
                                 metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help}, **kwargs)


def from_mapping(cls: type[T], data: Mapping[str, Any] | None, prefix: str = "",
                 source: str | None = None) -> T:
    """Build dataclass `cls` from `data`, checking names, types and values."""
    data = {} if data is None else data
    if not isinstance(data, Mapping):
        raise ConfigError(prefix or cls.__name__, f"expected a mapping, got {data!r}", source)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    unknown = sorted(map(str, set(data) - set(fields)))
    if unknown:
        raise ConfigError(_join(prefix, unknown[0]),
                          f"unknown key; valid keys are: {', '.join(sorted(fields))}", source)
    values = {name: _coerce(hints[name], data[name], _join(prefix, name), source)
              for name in fields if name in data}
    try:
        return cls(**values)  # a `Section` validates itself here
    except TypeError as error:
        raise ConfigError(prefix or cls.__name__, str(error), source) from None
    except ConfigError as error:
        raise ConfigError(_join(prefix, error.field), error.message, source) from None


class Section:
    """A config section (a dataclass) that checks its values when it is built, whether read
    from a file, made in code or copied with `dataclasses.replace`, as peft's configs do in
    `__post_init__`. Subclasses raise ConfigError through `require` in `validate`."""

    def __post_init__(self) -> None:
        for name, allowed in _literal_fields(type(self)).items():
            require(getattr(self, name) in allowed, name,
                    f"{getattr(self, name)!r} is not one of {', '.join(map(repr, allowed))}")
        self.validate()

    def validate(self) -> None:
        """Nothing to check by default."""


def to_mapping(obj: Any) -> Any:
    """A config object as plain data (for YAML/JSON), the inverse of `from_mapping`."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_mapping(item) for item in obj]
    if isinstance(obj, dict):
        return {key: to_mapping(value) for key, value in obj.items()}
    return obj


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `dotted.key=value` overrides (values parsed as YAML) to a nested mapping."""
    for override in overrides:
        if "=" not in override:
            raise ConfigError(override, "overrides take the form key=value (e.g. train.lr=1e-4)")
        key, raw = override.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(key, f"'{part}' is not a section")
            node = child
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as error:
            raise ConfigError(key, f"cannot parse value {raw!r}: {error}") from None
    return data


def describe(cls: type, prefix: str = "") -> Iterator[tuple[str, str, Any, str]]:
    """Yield (name, type, default, help) for every field, nested sections flattened."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        name = _join(prefix, f.name)
        kind = hints[f.name]
        section = next((arg for arg in typing.get_args(kind) if dataclasses.is_dataclass(arg)),
                       kind)  # an optional section (`SuiteConfig | None`) is still a section
        if dataclasses.is_dataclass(section):
            list_of = typing.get_origin(kind) is list
            yield from describe(section, f"{name}[]" if list_of else name)
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = "(required)"
        yield name, _type_name(kind), default, f.metadata.get("help", "")


_BOOLEAN_WORDS = {False: ("off", "no", "false"), True: ("on", "yes", "true")}


def require(condition: bool, field: str, message: str) -> None:
    """Raise a ConfigError for `field` unless `condition` holds (for `validate()` methods)."""
    if not condition:
        raise ConfigError(field, message)


@functools.cache
def _literal_fields(cls: type) -> dict[str, tuple[Any, ...]]:
    """The fields of dataclass `cls` typed as a Literal, with their allowed values."""
    hints = typing.get_type_hints(cls)
    return {f.name: typing.get_args(hints[f.name]) for f in dataclasses.fields(cls)
            if typing.get_origin(hints[f.name]) is typing.Literal}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _type_name(kind: Any) -> str:
    return getattr(kind, "__name__", None) or str(kind).replace("typing.", "")


def _coerce(kind: Any, value: Any, name: str, source: str | None) -> Any:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(option, value, name, source)
            except ConfigError as error:
                errors.append(error)
        if len(errors) == 1:  # an optional value (`SuiteConfig | None`): its own error
            raise errors[0]
        raise ConfigError(name, f"{value!r} is not a valid {_type_name(kind)}", source)
    if origin is typing.Literal:
        if isinstance(value, bool):  # YAML reads a bare off / no / on / yes as a boolean
            value = next((word for word in _BOOLEAN_WORDS[value] if word in args), value)
        if value not in args:
            raise ConfigError(name, f"{value!r} is not allowed; choose one of: "
                              f"{', '.join(map(str, args))}", source)
        return value
    if dataclasses.is_dataclass(kind):
        return from_mapping(kind, value, name, source)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(name, f"expected a list, got {value!r}", source)
        item = args[0] if args else Any
        return [_coerce(item, v, f"{name}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(name, f"expected a mapping, got {value!r}", source)
        return dict(value)
    if kind is Any:
        return value
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind is float and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    if kind in (int, float, str, bool) and (not isinstance(value, kind) or
                                            (kind is int and isinstance(value, bool))):
        raise ConfigError(name, f"expected {kind.__name__}, got {value!r}", source)
    return value
