"""The project's documented error types. Anything else escaping a loader or parser is a bug."""

from __future__ import annotations


class MSSRError(Exception):
    """Base class of every error `mssr` raises on purpose."""


class ConfigError(MSSRError, ValueError):
    """A configuration value is unknown, of the wrong type, or impossible."""

    def __init__(self, field: str, message: str, source: str | None = None):
        self.field = field
        self.message = message
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}config field '{field}': {message}")

    def __reduce__(self):  # rebuilt from its fields: it crosses process pools (execute_all)
        return type(self), (self.field, self.message, self.source)


class DataError(MSSRError, ValueError):
    """A data file is malformed; names the file, the line (1-based) and the field."""

    def __init__(self, path: str, message: str, line: int | None = None, field: str | None = None):
        self.path = str(path)
        self.message = message
        self.line = line
        self.field = field
        where = self.path
        if line is not None:
            where += f", line {line}"
        if field is not None:
            where += f", field '{field}'"
        super().__init__(f"{where}: {message}")

    def __reduce__(self):
        return type(self), (self.path, self.message, self.line, self.field)


class CheckpointError(MSSRError):
    """A checkpoint is missing, torn, or cannot be written safely."""


class TrainingError(MSSRError):
    """Training cannot go on (for example, too many non-finite losses in a row)."""
