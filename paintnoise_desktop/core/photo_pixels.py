"""Any image Pillow decodes, as the editor's pixels: 8-bit RGB or RGBA, upright.

The conversion rule (deeper data scaled by its full range and never clipped, CMYK through its
profile) is stated in `core.imagefile`'s docstring; this module carries it out.

Memory: deep photos are converted band by band (`BAND_BYTES` at a time), never as a whole-photo
float64 copy, and 16-bit colour becomes 8-bit inside its own buffer, which then shrinks. A 16-bit colour PNG is
decoded twice by Pillow instead, for the high and then the low bytes, and peaks at one decode
(4 bytes a pixel) plus the result, about 2.3 times the result.
"""

from __future__ import annotations

from io import BytesIO
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms

BAND_BYTES = 8 << 20  # what one band of a conversion may take
_BGR_TO_RGB = (2, 1, 0, 3)  # OpenCV's channel order to ours, for 3 or 4 channels
_LOSSLESS_MODES = ("1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX")

# Each EXIF orientation's turn, as Pillow's ImageOps.exif_transpose makes it; OpenCV's copies
# are several times faster than NumPy's on strided views of a 24-megapixel photo.
_TURNS = {
    2: lambda pixels: cv2.flip(pixels, 1),
    3: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_180),
    4: lambda pixels: cv2.flip(pixels, 0),
    5: cv2.transpose,
    6: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE),
    7: lambda pixels: cv2.flip(cv2.transpose(pixels), -1),
    8: lambda pixels: cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE),
}


def bits_per_channel(image: Image.Image) -> int:
    """Bits per channel in the file; call before load() (Pillow's mode hides 16-bit colour)."""
    if image.mode.startswith("I;16"):
        return 16
    if image.mode in ("I", "F"):
        return 32
    if isinstance(image.info.get("bit_depth"), int):  # pillow-heif: 10- and 12-bit HEIC
        return max(8, image.info["bit_depth"])
    args = image.tile[0].args if image.tile else ()
    rawmode = args if isinstance(args, str) else next((a for a in args if isinstance(a, str)), "")
    return 16 if ";16" in rawmode else 8


def decodes_straight_to_8_bits(image: Image.Image, bits: int) -> bool:
    """Whether `wide_png_pixels` decodes this (unloaded) image: a 16-bit colour PNG."""
    rawmode = image.tile[0].args if len(image.tile) == 1 else None
    return (image.format == "PNG" and bits == 16 and rawmode in ("RGB;16B", "RGBA;16B")
            and "transparency" not in image.info)


def wide_png_pixels(image: Image.Image, file: BinaryIO, notes: list[str]) -> np.ndarray:
    """The exact 8-bit RGB(A) pixels of an unloaded 16-bit colour PNG (`image`, read from
    `file`), round(v * 255 / 65535), in about 2.3 times their size at most.

    Pillow's decode keeps each value's high byte h; a second decode through its little-endian
    unpacker, which takes the second byte of each big-endian value, gives the low byte l. Then
    round((256 h + l) / 257) = h + 1 where l - h >= 129, h - 1 where l + 128 < h, else h.
    EXIF after the pixels is read by the first decode, so the image need not be loaded again.
    """
    height, width, channels = image.height, image.width, len(image.mode)
    result = np.empty((height, width, channels), np.uint8)
    rows = _band_rows(width * channels * 4)
    for byte in ("high", "low"):
        file.seek(0)
        with Image.open(file, formats=("PNG",)) as decoded:
            if byte == "low":
                tile = decoded.tile[0]
                decoded.tile = [tile._replace(args=tile.args.replace(";16B", ";16L"))]
            decoded.load()
            if byte == "high":
                image.info.update(decoded.info)
                image.info.setdefault("exif", b"")  # none, and none after the pixels either
            for top in range(0, height, rows):
                band = np.asarray(decoded.crop((0, top, width, min(height, top + rows))))
                if byte == "high":
                    result[top:top + rows] = band
                else:
                    _round_with_low_bytes(result[top:top + rows], band)
    notes.insert(0, "16-bit photo: edited at 8 bits per channel")
    return result


def _round_with_low_bytes(high: np.ndarray, low: np.ndarray) -> None:
    h, low_ = high.astype(np.int16), low.astype(np.int16)
    high += (low_ - h >= 129).astype(np.uint8)
    high -= (low_ + 128 < h).astype(np.uint8)


def eight_bit_pixels(image: Image.Image, file: BinaryIO, bits: int, notes: list[str]) -> np.ndarray:
    """H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 pixels of a loaded image, maybe read-only.

    `file` is the image's file, re-read for exact 16-bit colour; lossy steps append to `notes`.
    """
    if image.mode == "CMYK":
        pixels = _cmyk_to_rgb(image, notes)
    else:
        pixels = _rgb_or_rgba(image, notes)
    if bits == 16 and image.mode in ("RGB", "RGBA"):
        pixels = _exact_16bit_colour(file, pixels)
    if bits > 8:
        notes.insert(0, f"{bits}-bit photo: edited at 8 bits per channel")
    return pixels


def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Undo an EXIF orientation; the result is C-contiguous and writable, ready for editing."""
    turn = _TURNS.get(orientation)
    return np.require(pixels, requirements="CW") if turn is None else turn(pixels)


def _rgb_or_rgba(image: Image.Image, notes: list[str]) -> np.ndarray:
    if image.mode.startswith("I;16"):
        return _grey_to_rgb(_to_8bit(np.asarray(image), 0, 65535))
    if image.mode in ("I", "F"):
        return _grey_to_rgb(_scale_wide(np.asarray(image)))
    if image.mode not in _LOSSLESS_MODES:
        notes.append(f"{image.mode} photo: converted to RGB")
    if image.mode == "La":  # Pillow converts premultiplied grey to RGBA only by way of LA
        image = image.convert("LA")
    mode = "RGBA" if image.has_transparency_data else "RGB"
    return np.asarray(image if image.mode == mode else image.convert(mode))


def _cmyk_to_rgb(image: Image.Image, notes: list[str]) -> np.ndarray:
    profile = image.info.get("icc_profile")
    if profile:
        try:
            converted = ImageCms.profileToProfile(
                image,
                ImageCms.ImageCmsProfile(BytesIO(profile)),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass
        else:
            notes.append("CMYK photo: converted to RGB through its colour profile")
            return np.asarray(converted)
    notes.append("CMYK photo: converted to RGB without a colour profile; colours may differ")
    return np.asarray(image.convert("RGB"))


def _exact_16bit_colour(file: BinaryIO, decoded: np.ndarray) -> np.ndarray:
    """Re-read 16-bit colour with OpenCV, since Pillow keeps only each value's high byte.

    OpenCV's values are used only when their high bytes equal Pillow's decode exactly, in one of
    the eight orientations (Pillow turns TIFFs upright as it loads them); otherwise Pillow's
    pixels stay, within one level of the rule.
    """
    file.seek(0)
    wide = cv2.imdecode(np.frombuffer(file.read(), np.uint8), cv2.IMREAD_UNCHANGED)
    channels = decoded.shape[2]
    if wide is None or wide.dtype != np.uint16 or wide.ndim != 3 or wide.shape[2] != channels:
        return decoded
    order = list(_BGR_TO_RGB[:channels])
    if wide.shape == decoded.shape and _high_bytes_equal(wide, decoded, order):
        return _eight_bits_in_place(wide)  # the usual case: no turn, no copy
    wide = wide[..., order]
    for orientation in range(2, 9):
        turned = upright(wide, orientation)
        if turned.shape == decoded.shape and np.array_equal(turned >> 8, decoded):
            return _to_8bit(turned, 0, 65535)
    return decoded


def _band_rows(row_bytes: int) -> int:
    return max(1, BAND_BYTES // max(1, row_bytes))


def _high_bytes_equal(wide: np.ndarray, decoded: np.ndarray, order: list[int]) -> bool:
    rows = _band_rows(wide[0].nbytes)
    return all(np.array_equal(wide[top:top + rows][..., order] >> 8, decoded[top:top + rows])
               for top in range(0, wide.shape[0], rows))


def _eight_bits_in_place(wide: np.ndarray) -> np.ndarray:
    """BGR(A) uint16 pixels (owning their memory) as RGB(A) uint8 round(v * 255 / 65535), written
    band by band over the buffer's first half, which is then all that is kept."""
    height, width, channels = wide.shape
    order = list(_BGR_TO_RGB[:channels])
    row = width * channels
    bytes_view = wide.reshape(-1).view(np.uint8)
    rows = min(_band_rows(row * 4), max(1, height // 2))  # the band as uint32
    for top in range(0, height, rows):
        band = wide[top:top + rows]
        # round(v / 257) = (v + 128) // 257 exactly; the band is converted before it is
        # written, and writes land on rows already read (the first band on its own half).
        eight = ((band.astype(np.uint32) + 128) // 257).astype(np.uint8)[..., order]
        bytes_view[top * row:(top + len(band)) * row] = eight.reshape(-1)
    del bytes_view, band
    total = height * row
    if wide.flags.owndata and wide.base is None:
        wide.resize(((total + 1) // 2,), refcheck=False)  # realloc: the second half is freed
        return wide.view(np.uint8)[:total].reshape(height, width, channels)
    return wide.reshape(-1).view(np.uint8)[:total].reshape(height, width, channels).copy()


def _scale_wide(values: np.ndarray) -> np.ndarray:
    """32-bit integers or floats to 8 bits by their range, as the rule says."""
    rows = _band_rows(values[0].nbytes * 3)
    extremes = [(band.min(), band.max()) for band in
                (_finite(values[top:top + rows]) for top in range(0, values.shape[0], rows))
                if band.size]
    if not extremes:
        return np.zeros(values.shape, np.uint8)
    low, high = min(low for low, _ in extremes), max(high for _, high in extremes)
    if values.dtype.kind == "f" and low >= 0 and high <= 1:
        low, high = 0, 1
    elif values.dtype.kind != "f" and low >= 0 and high <= 65535:
        low, high = 0, 65535
    return _to_8bit(values, low, high)


def _finite(values: np.ndarray) -> np.ndarray:
    return values[np.isfinite(values)] if values.dtype.kind == "f" else values.reshape(-1)


def _to_8bit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map low..high linearly onto 0..255, rounding to the nearest level, band by band; values
    that are not finite count as `low`."""
    result = np.zeros(values.shape, np.uint8)
    if high <= low:
        return result
    scale = 255.0 / (float(high) - float(low))
    rows = _band_rows(values[0].size * 8)
    for top in range(0, values.shape[0], rows):
        band = values[top:top + rows].astype(np.float64)
        if values.dtype.kind == "f":
            band[~np.isfinite(band)] = low
        band -= low
        band *= scale
        result[top:top + rows] = np.rint(band, out=band)
    return result


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., np.newaxis], 3, axis=2)


def writable(image: np.ndarray) -> np.ndarray:
    """`image`, or a copy where it is read-only (the window's worker copies are): the models'
    image processors hand it to torch, which warns on the terminal about read-only arrays."""
    return image if image.flags.writeable else image.copy()
