"""Tiny random-weight models built from the real classes and saved in the real formats.

`build_all(root)` fills a models folder laid out as the app expects
(`<root>/<model id>/...`). Each builder is deterministic (fixed seeds).
"""

from __future__ import annotations

from pathlib import Path


def build_all(root: Path) -> None:
    from .clip import build_clip
    from .sam import build_sam
    from .sd import build_sd_inpainting

    build_sam(root / "sam-vit-b")
    build_clip(root / "clip-vit-base-patch32")
    build_sd_inpainting(root / "sd2-inpainting")
