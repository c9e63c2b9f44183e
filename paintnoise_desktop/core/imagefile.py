"""Opening and saving photos: JPEG, PNG, WebP, TIFF, AVIF (when Pillow has it) and HEIC/HEIF.

What a loaded photo becomes, whatever the file holds:

- Pixels are 8-bit RGB plus an optional, separate 8-bit alpha, turned upright by the EXIF
  orientation (all eight values); the returned EXIF says orientation 1.
- Deeper data is scaled by its full range, never clipped: 16-bit values v become
  round(v * 255 / 65535) (greyscale and colour alike); 32-bit integers that fit 0..65535 are
  scaled the same way, other 32-bit integers and floats outside 0..1 have their own min..max
  stretched to 0..255; floats within 0..1 become round(v * 255).
- CMYK becomes RGB through the embedded ICC profile when there is one (ImageCms, to sRGB), else
  through Pillow's conversion. Only RGB ICC profiles are kept, because the pixels are RGB.
- Palette, greyscale and premultiplied images keep their transparency as alpha.
- Multi-frame files (animations, multi-page TIFF) give their first frame.
Every conversion that loses something adds a one-line note for the status bar. `photo_pixels`
carries out the pixel part of this rule and `exif` the EXIF part.

Safety: only plain files are opened (a pipe, socket or device is refused from its status, without
opening it, since reading one can block for ever); the pixel count is read from the header and
refused above `MAX_PIXELS` before anything is decoded; running out of memory, a damaged file of a
known format and an unknown format each give their own sentence; decoders' warnings go to the
log (`decoder_messages`). Saving is atomic (`safe_write`): the photo is written to a temporary
file beside the target, synced, then moved over it, so a failed save leaves the old file as it
was.
"""

from __future__ import annotations

import itertools
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image, features

from paintnoise_desktop.core.decoder_messages import decoder_messages_logged
from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.exif import orientation_and_exif, upright_exif
from paintnoise_desktop.core.photo_pixels import (
    bits_per_channel,
    decodes_straight_to_8_bits,
    eight_bit_pixels,
    upright,
    wide_png_pixels,
)
from paintnoise_desktop.core.safe_write import os_reason, write_atomically

MAX_PIXELS = 160_000_000
"""Largest photo opened, in pixels. Above the biggest camera sensors (about 150 megapixels) and
below Pillow's own bomb threshold (about 179 megapixels), so this limit is the one users meet."""

AVIF = features.check("avif")  # Pillow reads and writes AVIF since 11.2, when built with libavif
OPEN_FILTER = ("Images (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.heic *.heif"
               f"{' *.avif' if AVIF else ''})")

_SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
    **({".avif": "AVIF"} if AVIF else {}),
}
SAVE_SUFFIXES: tuple[str, ...] = tuple(_SAVE_FORMATS)

_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF", *(("AVIF",) if AVIF else ()))  # JPEG: MPO too
_KNOWN_NAMES = "JPEG, PNG, WebP, TIFF, HEIC" + (" or AVIF" if AVIF else "")
#: How each format a photo may be in starts, to tell a damaged photo from something else.
_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\0", b"MM\0*", b"RIFF")
_FILE_KINDS = {stat.S_IFIFO: "a pipe", stat.S_IFSOCK: "a socket", stat.S_IFCHR: "a device",
               stat.S_IFBLK: "a device"}
_HEIF_SUFFIXES = (".heic", ".heif", ".hif")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1")


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """A photo as the editor uses it; see the module docstring for the conversion rule."""

    rgb: np.ndarray  # H x W x 3 uint8
    alpha: np.ndarray | None  # H x W uint8, or None
    format: str  # Pillow format name: "JPEG", "PNG", "WEBP", "TIFF", "HEIF"
    exif: bytes | None  # starts with b"Exif\0\0"; orientation 1 (the pixels are upright)
    icc_profile: bytes | None
    notes: tuple[str, ...]  # one-line notes for the status bar


def load_image(path: str | Path) -> LoadedImage:
    """Open a photo by its content (not its suffix). Raises ImageFileError with a clear message."""
    path = Path(path)
    try:
        _check_plain_file(path, os.stat(path).st_mode)
        with open(path, "rb") as file:
            _check_plain_file(path, os.fstat(file.fileno()).st_mode)  # if swapped meanwhile
            head = file.read(16)
            if not head:
                raise _cannot_open(path, "the file is empty")
            with decoder_messages_logged():
                return _decode(path, file, head)
    except FileNotFoundError:
        raise _cannot_open(path, "the file does not exist") from None
    except MemoryError as error:
        raise _cannot_open(path, "there is not enough memory to open a photo this large. "
                                 "Close other programs and try again", error) from None
    except OSError as error:  # only the file system's errors get here; _decode wraps Pillow's
        raise _cannot_open(path, os_reason(error), error) from error


def _check_plain_file(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise _cannot_open(path, "it is a folder, not a photo")
    if not stat.S_ISREG(mode):
        kind = _FILE_KINDS.get(stat.S_IFMT(mode), "not a plain file")
        raise _cannot_open(path, f"it is {kind}, not a photo file")


def save_image(
    path: str | Path,
    rgb: np.ndarray,
    *,
    alpha: np.ndarray | None = None,
    format: str | None = None,
    exif: bytes | None = None,
    icc_profile: bytes | None = None,
    quality: int = 95,
) -> None:
    """Write a photo atomically, keeping EXIF (orientation set to 1) and the ICC profile.

    `format` defaults to the one named by the suffix. JPEG has no alpha: it is dropped there.
    For WebP, quality 100 means lossless. TIFF is written uncompressed, since Pillow's
    compressing TIFF writer drops EXIF's sub-IFDs. Raises ImageFileError; the old file is then
    unchanged.
    """
    path = Path(path)
    format = format.upper() if format else format_for_path(path)
    if format not in _SAVE_FORMATS.values():
        choices = "JPEG, PNG, WebP, TIFF or AVIF" if AVIF else "JPEG, PNG, WebP or TIFF"
        raise ImageFileError(f"Cannot save {path.name} as {format}: choose {choices}.")
    image = _to_pillow(rgb, None if format == "JPEG" else alpha)
    options = _save_options(format, quality)
    if exif:
        options["exif"] = upright_exif(exif)
    if icc_profile:
        options["icc_profile"] = icc_profile
    write_atomically(path, lambda file: image.save(file, format=format, **options))


def default_export_path(source: str | Path) -> Path:
    """Where an edited copy goes by default: photo.jpg -> photo-edited.jpg, then -edited-2, ...

    Never the source and never an existing file. Suffixes that cannot be saved become .jpg.
    """
    source = Path(source)
    suffix = source.suffix if source.suffix.lower() in _SAVE_FORMATS else ".jpg"
    candidates = (
        source.with_name(f"{source.stem}-edited{'' if number == 1 else f'-{number}'}{suffix}")
        for number in itertools.count(1)
    )
    return next(candidate for candidate in candidates if not candidate.exists())


def format_for_path(path: str | Path) -> str:
    """The Pillow format a file name asks to be saved in ("JPEG", "PNG", "WEBP", "TIFF")."""
    path = Path(path)
    try:
        return _SAVE_FORMATS[path.suffix.lower()]
    except KeyError:
        names = ", ".join(SAVE_SUFFIXES)
        shown = path.suffix or "a name without a suffix"
        raise ImageFileError(
            f"Cannot save {path.name}: PaintNoise saves {names} files, not {shown}."
        ) from None


# --- opening --------------------------------------------------------------------------------------


def _decode(path: Path, file: BinaryIO, head: bytes) -> LoadedImage:
    # Pillow may warn (DecompressionBombWarning) above ~89 megapixels: MAX_PIXELS is the limit
    # that applies here; the warning goes to the log with the others.
    formats = _formats_to_try(path, head)
    with _pillow_errors(path, head):
        image = Image.open(file, formats=formats)
    with image:
        notes: list[str] = []
        with _pillow_errors(path, head):
            _check_pixel_count(path, image.width * image.height)
            bits = bits_per_channel(image)
            pixels = None
            if decodes_straight_to_8_bits(image, bits):
                pixels = wide_png_pixels(image, file, notes)
            if pixels is None:
                image.load()
            frames = getattr(image, "n_frames", 1)
        return _loaded(image, file, bits, frames, pixels, notes)


@contextmanager
def _pillow_errors(path: Path, head: bytes = b"") -> Iterator[None]:
    """Turn what Pillow raises on a broken or hostile file into one clear ImageFileError."""
    try:
        yield
    except (ImageFileError, MemoryError):
        raise
    except Image.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        raise _too_large(path, int(found.group(1)) if found else None) from error
    except Image.UnidentifiedImageError as error:
        if _known_format(head):
            raise _cannot_open(path, "the file is damaged or incomplete", error) from None
        reason = f"it is not a photo PaintNoise can open ({_KNOWN_NAMES})"
        raise _cannot_open(path, reason, error) from None
    except Exception as error:  # decoders fail in many ways on broken files
        raise _cannot_open(path, "the file is damaged or incomplete", error) from error


def _loaded(image: Image.Image, file: BinaryIO, bits: int, frames: int,
            pixels: np.ndarray | None, notes: list[str]) -> LoadedImage:
    """A Pillow image in the editor's form (the module docstring's rule): its pixels as
    decoded already, or else from the loaded image."""
    if pixels is None:
        pixels = eight_bit_pixels(image, file, bits, notes)
    if frames > 1:
        notes.append(f"The file holds {frames} images: only the first is edited")
    orientation, exif = orientation_and_exif(image)
    pixels = upright(pixels, orientation)
    has_alpha = pixels.shape[2] == 4
    return LoadedImage(
        rgb=cv2.cvtColor(pixels, cv2.COLOR_RGBA2RGB) if has_alpha else pixels,
        alpha=np.ascontiguousarray(pixels[..., 3]) if has_alpha else None,
        format="JPEG" if image.format == "MPO" else str(image.format),
        exif=exif,
        icc_profile=None if image.mode == "CMYK" else _rgb_profile(image),
        notes=tuple(notes),
    )


def _rgb_profile(image: Image.Image) -> bytes | None:
    """The ICC profile when it describes RGB; a grey or CMYK profile does not fit RGB pixels."""
    profile = image.info.get("icc_profile")
    return profile if profile and profile[16:20] == b"RGB " else None


def _known_format(head: bytes) -> bool:
    """Whether `head` starts like a photo format PaintNoise opens (AVIF and HEIF included)."""
    return head.startswith(_SIGNATURES) or head[4:8] == b"ftyp"


def _is_heif(head: bytes) -> bool:
    return head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS


def _formats_to_try(path: Path, head: bytes) -> tuple[str, ...]:
    """The formats Pillow may use; HEIF's opener is registered only when a HEIC arrives."""
    if path.suffix.lower() not in _HEIF_SUFFIXES and not _is_heif(head):
        return _OPEN_FORMATS
    try:
        import pillow_heif
    except ImportError:
        raise _cannot_open(
            path, "HEIC/HEIF photos need the pillow-heif package (pip install pillow-heif)"
        ) from None
    pillow_heif.register_heif_opener()
    return (*_OPEN_FORMATS, "HEIF")


def _check_pixel_count(path: Path, pixels: int) -> None:
    if pixels > MAX_PIXELS:
        raise _too_large(path, pixels)


def _too_large(path: Path, pixels: int | None) -> ImageFileError:
    size = "" if pixels is None else f"{pixels / 1e6:,.0f} megapixels; "
    return _cannot_open(
        path, f"the image is too large to open safely ({size}the limit is {MAX_PIXELS // 10**6})"
    )


def _cannot_open(path: Path, reason: str, error: BaseException | None = None) -> ImageFileError:
    detail = f"{path}: {error!r}" if error else str(path)
    return ImageFileError(f"Cannot open {path.name}: {reason}.", detail)


# --- saving ----------------------------------------------------------------------------------


def _to_pillow(rgb: np.ndarray, alpha: np.ndarray | None) -> Image.Image:
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"rgb must be H x W x 3 uint8, got {rgb.dtype} {rgb.shape}")
    image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if alpha is None:
        return image
    if alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]:
        raise ValueError(f"alpha must be H x W uint8 like rgb, got {alpha.dtype} {alpha.shape}")
    image.putalpha(Image.fromarray(np.ascontiguousarray(alpha), "L"))
    return image


def _save_options(format: str, quality: int) -> dict[str, object]:
    if format == "JPEG":
        return {"quality": quality}
    if format == "WEBP":  # exact: keep the colour under transparent pixels too
        return {"quality": quality, "lossless": quality >= 100, "exact": True}
    return {}  # TIFF uncompressed, see save_image
