"""One byte formatter, binary units, for every size the CLI shows."""

from nlp_classifier.sizes import MIB, format_bytes


def test_binary_units_with_their_names():
    assert format_bytes(None) == "-"
    assert format_bytes(0) == "0 B" and format_bytes(1023) == "1023 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(21.9 * MIB) == "21.9 MiB"
    assert format_bytes(3 * 2**30) == "3.0 GiB"
    assert format_bytes(2**50) == "1024.0 TiB"
