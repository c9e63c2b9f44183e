"""Masks as image files: white = repaint, one grey level per pixel, the photo's size.

The window (File > Save Mask / Load Mask) and the command line (`paintnoise mask`,
`paintnoise edit --mask`) read and write them alike.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from .errors import ImageFileError
from .imagefile import write_atomically


def read_mask(path: str | Path, width: int, height: int) -> np.ndarray:
    """A mask image of the photo's size in any mode, as H x W uint8 (white = repaint)."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            grey = image.convert("L")
    except FileNotFoundError:
        raise ImageFileError(f"Cannot open the mask {path}: the file does not exist.") from None
    except (OSError, ValueError) as error:
        raise ImageFileError(
            f"Cannot open the mask {path}: it is not an image Pillow can read.", repr(error)
        ) from error
    if grey.size != (width, height):
        raise ImageFileError(
            f"The mask {path.name} is {grey.width} x {grey.height} pixels but the photo is "
            f"{width} x {height}. Make the mask the same size as the photo."
        )
    return np.asarray(grey, dtype=np.uint8).copy()


def write_mask_png(path: str | Path, mask: np.ndarray) -> None:
    """Write an 8-bit grayscale PNG atomically, as photos are saved."""
    write_atomically(Path(path),
                     lambda file: Image.fromarray(mask, "L").save(file, format="PNG"))
