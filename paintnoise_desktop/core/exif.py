"""The EXIF a photo keeps through an edit, with its orientation reset to 1 (pixels are upright).

Where the file has EXIF bytes, they are kept byte for byte except the orientation value, so
maker notes with absolute offsets survive. A TIFF has no separate EXIF block: its descriptive
tags (camera, dates, GPS) are gathered into one.
"""

from __future__ import annotations

import struct

from PIL import ExifTags, Image

EXIF_HEADER = b"Exif\x00\x00"
_ORIENTATION = ExifTags.Base.Orientation
_TIFF_EXIF_TAGS = (
    ExifTags.Base.ImageDescription,
    ExifTags.Base.Make,
    ExifTags.Base.Model,
    ExifTags.Base.XResolution,
    ExifTags.Base.YResolution,
    ExifTags.Base.ResolutionUnit,
    ExifTags.Base.Software,
    ExifTags.Base.DateTime,
    ExifTags.Base.Artist,
    ExifTags.Base.Copyright,
)
_TIFF_EXIF_IFDS = (ExifTags.IFD.Exif, ExifTags.IFD.GPSInfo)


def orientation_and_exif(image: Image.Image) -> tuple[int, bytes | None]:
    """The orientation still to apply to a loaded image, and its EXIF with orientation 1.

    EXIF that Pillow cannot read is dropped and the pixels are taken as stored: the photo itself
    is fine, so it still opens.
    """
    try:
        orientation = image.getexif().get(_ORIENTATION, 1)
        raw = image.info.get("exif")
        if raw:
            exif = upright_exif(raw)
        elif image.format == "TIFF":
            exif = _tiff_exif(image)
        else:
            exif = None
    except Exception:  # noqa: BLE001 - any parser failure means the same: no usable EXIF
        return 1, None
    return (orientation if orientation in range(1, 9) else 1), exif


def upright_exif(exif: bytes) -> bytes:
    """EXIF bytes starting with the "Exif" header, the orientation tag in IFD0 (if any) set to 1
    and every other byte as it was."""
    if not exif.startswith(EXIF_HEADER):
        exif = EXIF_HEADER + exif
    start = len(EXIF_HEADER)
    order = {b"II": "<", b"MM": ">"}.get(exif[start : start + 2])
    if order is None:
        return exif
    try:
        (offset,) = struct.unpack_from(order + "I", exif, start + 4)
        ifd = start + offset
        (count,) = struct.unpack_from(order + "H", exif, ifd)
        for index in range(count):
            entry = ifd + 2 + 12 * index
            tag, kind, number = struct.unpack_from(order + "HHI", exif, entry)
            if tag == _ORIENTATION and kind == 3 and number == 1:  # one SHORT
                patched = bytearray(exif)
                struct.pack_into(order + "H", patched, entry + 8, 1)
                return bytes(patched)
    except struct.error:
        pass
    return exif


def _tiff_exif(image: Image.Image) -> bytes | None:
    """A TIFF's descriptive tags as EXIF; its other tags describe its own strips and samples."""
    tags = image.getexif()
    exif = Image.Exif()
    for tag in _TIFF_EXIF_TAGS:
        if tag in tags:
            exif[tag] = tags[tag]
    for ifd in _TIFF_EXIF_IFDS:
        if tags.get_ifd(ifd):
            exif.get_ifd(ifd).update(tags.get_ifd(ifd))
    if not len(exif) and not any(exif.get_ifd(ifd) for ifd in _TIFF_EXIF_IFDS):
        return None
    exif[_ORIENTATION] = 1  # Pillow turns TIFFs upright as it loads them
    return exif.tobytes()
