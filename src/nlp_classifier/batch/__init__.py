"""Batch scoring of files. ``frame.score_frame`` scores one table (the rule every engine applies to each chunk),
``frame.score_chunk`` adds the column selection and bad-row handling of ``prepare_chunk``; ``stream`` is the local
streaming engine of ``nlpc predict --input`` (``sources`` read chunks, ``sinks`` write parts, ``manifest`` records
them for ``--resume``). Attributes load lazily, so ``batch.options`` stays light for the CLI."""

from __future__ import annotations

from typing import Any

__all__ = ["score_file", "score_frame", "score_chunk", "prepare_chunk"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import frame

        return getattr(frame, name)
    raise AttributeError(name)
