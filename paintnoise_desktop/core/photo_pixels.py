"""Any image Pillow decodes, as the editor's pixels: 8-bit RGB or RGBA, upright.

The conversion rule (deeper data scaled by its full range and never clipped, CMYK through its
profile) is stated in `core.imagefile`'s docstring; this module carries it out.
"""

from __future__ import annotations

from io import BytesIO
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, ImageCms

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
    wide = wide[..., [2, 1, 0, 3][:channels]]  # OpenCV reads BGR(A)
    for orientation in range(1, 9):
        turned = upright(wide, orientation)
        if turned.shape == decoded.shape and np.array_equal(turned >> 8, decoded):
            return _to_8bit(turned, 0, 65535)
    return decoded


def _scale_wide(values: np.ndarray) -> np.ndarray:
    """32-bit integers or floats to 8 bits by their range, as the rule says."""
    finite = np.isfinite(values)
    present = values[finite]
    if present.size == 0:
        return np.zeros(values.shape, np.uint8)
    low, high = present.min(), present.max()
    if values.dtype.kind == "f" and low >= 0 and high <= 1:
        low, high = 0, 1
    elif values.dtype.kind != "f" and low >= 0 and high <= 65535:
        low, high = 0, 65535
    return _to_8bit(np.where(finite, values, low), low, high)


def _to_8bit(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map low..high linearly onto 0..255, rounding to the nearest level."""
    if high <= low:
        return np.zeros(values.shape, np.uint8)
    scaled = (values.astype(np.float64) - low) * (255.0 / (float(high) - float(low)))
    return np.rint(scaled).astype(np.uint8)


def _grey_to_rgb(grey: np.ndarray) -> np.ndarray:
    return np.repeat(grey[..., np.newaxis], 3, axis=2)
