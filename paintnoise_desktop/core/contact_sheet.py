"""Contact sheets: rows of labelled images on one picture, for comparing results by eye.

Each cell is an image scaled to fit a square tile (aspect kept, grey around it) with
its label written under it; a mask (H x W) is shown as grey levels. The benches write
one to show, per photo, what each method made of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

TILE_PX = 192
LABEL_PX = 18
GAP_PX = 4
BACKGROUND = (48, 48, 48)
MATTE = (96, 96, 96)
INK = (235, 235, 235)

Cell = tuple[str, np.ndarray]  # label, RGB uint8 image or H x W mask


def _tile(image: np.ndarray, side: int) -> Image.Image:
    picture = Image.fromarray(image, "L" if image.ndim == 2 else "RGB").convert("RGB")
    picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    tile = Image.new("RGB", (side, side), MATTE)
    tile.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    return tile


def _fitted(draw: ImageDraw.ImageDraw, text: str, font, width: int) -> str:
    """The label, shortened with an ellipsis until it fits `width` pixels."""
    while text and draw.textlength(text, font=font) > width:
        text = text[:-2] + "\u2026" if len(text) > 1 else ""
    return text


def contact_sheet(rows: Sequence[Sequence[Cell]], tile_px: int = TILE_PX) -> np.ndarray:
    """The sheet as an RGB uint8 array: one line of tiles per row, labels under the tiles."""
    columns = max((len(row) for row in rows), default=0)
    cell_w, cell_h = tile_px + GAP_PX, tile_px + LABEL_PX + GAP_PX
    sheet = Image.new("RGB", (GAP_PX + columns * cell_w, GAP_PX + len(rows) * cell_h),
                      BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default()
    for r, row in enumerate(rows):
        for c, (label, image) in enumerate(row):
            x, y = GAP_PX + c * cell_w, GAP_PX + r * cell_h
            sheet.paste(_tile(image, tile_px), (x, y))
            draw.text((x + 2, y + tile_px + 3), _fitted(draw, label, font, tile_px - 4),
                      fill=INK, font=font)
    return np.asarray(sheet)
