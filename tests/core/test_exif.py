"""EXIF bytes kept through an edit: only the orientation value changes."""

from __future__ import annotations

import struct

import pytest
from PIL import Image

from paintnoise_desktop.core.exif import EXIF_HEADER, upright_exif

ORIENTATION = 0x0112
MAKE = 0x010F


def tiff_block(order: str, entries: list[tuple[int, int, int, bytes]], tail: bytes = b"") -> bytes:
    """An EXIF TIFF block in byte order "<" or ">" with one IFD of (tag, type, count, value)."""
    mark = b"II" if order == "<" else b"MM"
    ifd = struct.pack(order + "H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack(order + "HHI", tag, kind, count) + value.ljust(4, b"\x00")
    return mark + struct.pack(order + "HI", 42, 8) + ifd + struct.pack(order + "I", 0) + tail


@pytest.mark.parametrize("order", ["<", ">"])
def test_orientation_becomes_1_and_nothing_else_changes(order):
    maker_note = b"vendor bytes with offsets"
    block = tiff_block(
        order,
        [
            (MAKE, 2, 4, b"Cam\x00"),
            (ORIENTATION, 3, 1, struct.pack(order + "H", 8)),
            (0x927C, 7, len(maker_note), struct.pack(order + "I", 8 + 2 + 3 * 12 + 4)),
        ],
        tail=maker_note,
    )
    original = EXIF_HEADER + block

    result = upright_exif(original)

    value_at = len(EXIF_HEADER) + 8 + 2 + 12 + 8  # the second entry's value
    changed = [i for i, (new, old) in enumerate(zip(result, original)) if new != old]
    assert len(result) == len(original)
    assert len(changed) == 1 and value_at <= changed[0] < value_at + 2
    exif = Image.Exif()
    exif.load(result)
    assert exif[ORIENTATION] == 1
    assert exif[MAKE] == "Cam"


def test_the_exif_header_is_added_when_missing():
    block = tiff_block("<", [(ORIENTATION, 3, 1, struct.pack("<H", 6))])
    assert upright_exif(block) == upright_exif(EXIF_HEADER + block)
    assert upright_exif(block).startswith(EXIF_HEADER)


def test_exif_without_orientation_is_kept_as_it_is():
    original = EXIF_HEADER + tiff_block(">", [(MAKE, 2, 4, b"Cam\x00")])
    assert upright_exif(original) == original


@pytest.mark.parametrize(
    "broken",
    [b"", b"II", b"MM\x00*\xff\xff\xff\xff", b"II*\x00\x08\x00\x00\x00\x05\x00" + bytes(8)],
)
def test_broken_exif_is_returned_unchanged(broken):
    assert upright_exif(broken) == EXIF_HEADER + broken
