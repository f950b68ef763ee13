"""Errors that carry enough context (file, row, column, limit) to act on."""

from __future__ import annotations


class NlpcError(Exception):
    """Base class of every error the package raises on purpose; the CLI exits 2 on these."""


class DataError(NlpcError):
    """Bad input data: names the file and, where known, the row and column."""

    def __init__(self, message: str, *, path: str | None = None, row: int | None = None, column: str | None = None):
        self.path, self.row, self.column, self.message = path, row, column, message
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class ModelNotFoundError(NlpcError):
    """No model with that name or path exists in the registry."""


class IntegrityError(NlpcError):
    """A model file does not match the sha256 recorded in its card, or is missing."""


class ModelLoadError(NlpcError):
    """A model's files pass their checks but loading them fails (corrupt weights, a library missing): the service's
    problem, not the request's; the API answers 503."""


class ConfigError(NlpcError):
    """A bad argument, preset or configuration value, caught before any work starts."""


class StaleSwitchError(NlpcError):
    """A model switch made on the condition that the current model is still the one the caller saw, when someone
    switched in between; the API answers 409."""
