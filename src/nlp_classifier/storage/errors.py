"""Errors of pushing and pulling model sets."""

from __future__ import annotations

from ..errors import NlpcError


class StorageError(NlpcError):
    """A push or pull failed (unreachable bucket, missing or invalid manifest, interrupted transfer); the message
    names the URL or file."""
