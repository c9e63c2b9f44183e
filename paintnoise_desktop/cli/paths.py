"""Where the command line writes, and the checks that keep it from writing over photos."""

from __future__ import annotations

from pathlib import Path

from ..core.errors import PaintNoiseError


def output_paths(output: str | Path, count: int) -> list[Path]:
    """`out.jpg` for one result; `out-1.jpg`, `out-2.jpg`, ... for several."""
    output = Path(output)
    if count == 1:
        return [output]
    return [output.with_name(f"{output.stem}-{k}{output.suffix}") for k in range(1, count + 1)]


def check_writable(paths: list[Path], photo: str | Path, overwrite: bool) -> None:
    """Refuse, before any work is done, to write over the input photo or an existing file."""
    if overwrite:
        return
    photo = Path(photo).resolve()
    for path in paths:
        if path.resolve() == photo:
            raise PaintNoiseError(
                f"Refusing to write over the input photo {path}. "
                "Choose another output name, or add --overwrite."
            )
        if path.exists():
            raise PaintNoiseError(
                f"{path} already exists. Choose another output name, or add --overwrite."
            )
