"""Inpainting with OpenCV (Telea or Navier-Stokes): no weights, always available.

It continues the surrounding colours into the hole, which is a fair "remove" for
small objects on plain backgrounds and lets the app work with no model installed.
"""

from __future__ import annotations

import cv2
import numpy as np

from ...core.errors import PaintNoiseError
from ...core.jobs import CancelToken
from .inpainter import OnStep, PaintRequest

_FLAGS = {"opencv-telea": cv2.INPAINT_TELEA, "opencv-ns": cv2.INPAINT_NS}
MIN_RADIUS, MAX_RADIUS = 3, 7  # the cost grows with the radius squared
# Past this share of the crop masked, there is too little around the hole to continue.
MAX_HOLE_SHARE = 0.95
WHOLE_PHOTO_MASKED = ("The mask covers the whole photo; there is nothing around it to fill "
                      "from. Paint a smaller mask or use a Stable Diffusion model.")


class OpenCVInpainter:
    native_size: int | None = None

    def __init__(self, method: str = "opencv-telea") -> None:
        self.name = method
        self._flag = _FLAGS[method]

    def paint(
        self,
        crop_rgb: np.ndarray,
        crop_mask: np.ndarray,
        request: PaintRequest,
        seed: int,
        on_step: OnStep,
        cancel: CancelToken,
    ) -> np.ndarray:
        cancel.raise_if_cancelled()
        hole = np.where(crop_mask > 0, 255, 0).astype(np.uint8)
        share = np.count_nonzero(hole) / hole.size
        if share > MAX_HOLE_SHARE:
            raise PaintNoiseError(WHOLE_PHOTO_MASKED, detail=f"{share:.1%} of the crop is masked")
        painted = cv2.inpaint(np.ascontiguousarray(crop_rgb), hole, radius_for(hole), self._flag)
        on_step(1, 1, None)
        return painted

    def take_notes(self) -> list[str]:
        return []


def radius_for(hole: np.ndarray) -> int:
    """A neighbourhood that grows with the hole: about a tenth of its thickness, 3..7 px."""
    if not hole.any():
        return MIN_RADIUS
    half_thickness = float(cv2.distanceTransform(hole, cv2.DIST_L2, 3).max())
    return int(np.clip(round(half_thickness / 5), MIN_RADIUS, MAX_RADIUS))
