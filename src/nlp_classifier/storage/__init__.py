"""Publishing model sets to object storage and fetching them back, verified: ``push`` and ``pull`` over any
fsspec URL (``gs://`` through gcsfs, ``file://``, ...). See docs/registry.md for the layout and manifest."""

from __future__ import annotations

from .errors import StorageError
from .location import Location, open_location, pull_location, push_location
from .manifest import Manifest
from .pull import PullResult, pull
from .push import PushResult, push, read_manifest

__all__ = [
    "push",
    "pull",
    "PushResult",
    "PullResult",
    "Manifest",
    "Location",
    "StorageError",
    "open_location",
    "push_location",
    "pull_location",
    "read_manifest",
]
