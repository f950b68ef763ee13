"""Byte counts for people: one unit system (binary: KiB, MiB, GiB) everywhere a size is shown."""

from __future__ import annotations

MIB = 2**20
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


def format_bytes(n: int | float | None) -> str:
    """``n`` bytes as ``512 B``, ``1.5 KiB``, ``21.9 MiB``, ...; ``-`` for an unknown size (None)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
