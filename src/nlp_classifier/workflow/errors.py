"""Errors of the workflow storage; the API turns them into 404, 409, 422 and 503 answers."""

from __future__ import annotations

from ..errors import NlpcError


class WorkflowError(NlpcError):
    """Base class of the workflow's errors."""


class NotFoundError(WorkflowError):
    """No review, item or key with that id."""


class ConflictError(WorkflowError):
    """The row changed under the caller: someone else claimed or decided the review first."""


class DatabaseUnavailable(WorkflowError):
    """The database cannot be reached (or is not migrated); the message says which and what to do."""
