"""Ports on 127.0.0.1 for the servers the tests start (and for addresses where nothing must answer)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port nothing listens on right now (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
