"""The README's screenshot is made by a script through the real window: keep it working."""

from __future__ import annotations

import numpy as np
from PIL import Image

from paintnoise_desktop.ui.screenshot import SIZE, render


def test_the_screenshot_script_shows_the_sample_with_a_brushed_mask(qapp, tmp_path):
    out = tmp_path / "screenshot.png"
    render(out)
    with Image.open(out) as shot:
        assert shot.size == SIZE
        pixels = np.asarray(shot.convert("RGB"))
    assert pixels.std() > 20  # the photo, not an empty window
