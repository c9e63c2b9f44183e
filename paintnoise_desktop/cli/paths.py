"""Where the command line writes, and the checks that keep it from writing over photos."""

from __future__ import annotations

import os
from pathlib import Path

from ..core.errors import PaintNoiseError
from ..core.safe_write import check_can_write


def output_paths(output: str | Path, count: int) -> list[Path]:
    """`out.jpg` for one result; `out-1.jpg`, `out-2.jpg`, ... for several."""
    output = Path(output)
    if count == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{k}{output.suffix}") for k in range(1, count + 1)]


def check_writable(paths: list[Path], photo: str | Path, overwrite: bool) -> None:
    """Refuse, before any work is done, to write over the input photo or an existing file,
    or to a name that cannot be written (a loop of links, a read-only folder)."""
    for path in paths:
        check_can_write(path)
    if overwrite:
        return
    photo = Path(os.path.realpath(photo))
    for path in paths:
        if Path(os.path.realpath(path)) == photo:
            raise PaintNoiseError(
                f"Refusing to write over the input photo {path}. "
                "Choose another output name, or add --overwrite."
            )
        if path.exists():
            raise PaintNoiseError(
                f"{path} already exists. Choose another output name, or add --overwrite."
            )
