"""Opening and saving photos: JPEG, PNG, WebP, TIFF, and HEIC/HEIF when pillow-heif is installed.

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

Safety: the pixel count is read from the header and refused above `MAX_PIXELS` before anything
is decoded. Saving is atomic: the photo is written to a temporary file beside the target, synced,
then moved over it, so a failed save leaves the old file as it was.
"""

from __future__ import annotations

import errno
import itertools
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np
from PIL import Image

from paintnoise_desktop.core.errors import ImageFileError
from paintnoise_desktop.core.exif import orientation_and_exif, upright_exif
from paintnoise_desktop.core.photo_pixels import bits_per_channel, eight_bit_pixels, upright

MAX_PIXELS = 160_000_000
"""Largest photo opened, in pixels. Above the biggest camera sensors (about 150 megapixels) and
below Pillow's own bomb threshold (about 179 megapixels), so this limit is the one users meet."""

OPEN_FILTER = "Images (*.jpg *.jpeg *.png *.webp *.tif *.tiff *.heic *.heif)"

_SAVE_FORMATS = {
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
SAVE_SUFFIXES: tuple[str, ...] = tuple(_SAVE_FORMATS)

_OPEN_FORMATS = ("JPEG", "PNG", "WEBP", "TIFF")  # JPEG's opener also reads MPO
_HEIF_SUFFIXES = (".heic", ".heif", ".hif")
_HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1")
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows needs it; elsewhere it does not exist
_OS_REASONS = {
    errno.ENOENT: "the file or its folder does not exist",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOSPC: "the disk is full",
    errno.EROFS: "the disk is read-only",
    errno.EISDIR: "it is a folder",
}


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
    if path.is_dir():
        raise _cannot_open(path, "it is a folder, not a photo")
    try:
        with open(path, "rb") as file:
            head = file.read(16)
            if not head:
                raise _cannot_open(path, "the file is empty")
            return _decode(path, file, _formats_to_try(path, head))
    except FileNotFoundError:
        raise _cannot_open(path, "the file does not exist") from None
    except OSError as error:  # only the file system's errors get here; _decode wraps Pillow's
        raise _cannot_open(path, _os_reason(error), error) from error


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
        raise ImageFileError(
            f"Cannot save {path.name} as {format}: choose JPEG, PNG, WebP or TIFF."
        )
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


def _decode(path: Path, file: BinaryIO, formats: tuple[str, ...]) -> LoadedImage:
    # Pillow may warn (DecompressionBombWarning) above ~89 megapixels: MAX_PIXELS is the limit
    # that applies here, and silencing the warning would change process-wide state.
    with _pillow_errors(path):
        image = Image.open(file, formats=formats)
    with image:
        with _pillow_errors(path):
            _check_pixel_count(path, image.width * image.height)
            bits = bits_per_channel(image)
            image.load()
            frames = getattr(image, "n_frames", 1)
        return _loaded(image, file, bits, frames)


@contextmanager
def _pillow_errors(path: Path) -> Iterator[None]:
    """Turn what Pillow raises on a broken or hostile file into one clear ImageFileError."""
    try:
        yield
    except ImageFileError:
        raise
    except Image.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        raise _too_large(path, int(found.group(1)) if found else None) from error
    except Image.UnidentifiedImageError as error:
        reason = "it is not a photo PaintNoise can open (JPEG, PNG, WebP, TIFF or HEIC)"
        raise _cannot_open(path, reason, error) from None
    except Exception as error:  # decoders fail in many ways on broken files
        raise _cannot_open(path, "the file is damaged or incomplete", error) from error


def _loaded(image: Image.Image, file: BinaryIO, bits: int, frames: int) -> LoadedImage:
    """A fully loaded Pillow image in the editor's form (the module docstring's rule)."""
    notes: list[str] = []
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


def _os_reason(error: OSError) -> str:
    return _OS_REASONS.get(error.errno or 0, error.strerror or str(error))


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


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write to a new file beside `path`, sync it, then move it over `path` in one step."""
    existed = path.exists()
    if existed and not os.access(path, os.W_OK):  # replacing it would go around that
        raise ImageFileError(
            f"Could not save {path.name}: the file is read-only. The original file is unchanged."
        )
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if existed:
            shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if not isinstance(error, Exception):
            raise
        reason = _os_reason(error) if isinstance(error, OSError) else str(error)
        outcome = "The original file is unchanged." if existed else "Nothing was written."
        raise ImageFileError(
            f"Could not save {path.name}: {reason}. {outcome}", f"{path}: {error!r}"
        ) from error
