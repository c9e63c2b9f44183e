"""Files that ship beside the code: the app icon, the sample photo, the style sheet.

They live in the top-level `resources/` folder of the source tree, which an editable
install (`pip install -e .`) runs from.
"""

from __future__ import annotations

from pathlib import Path

RESOURCES_DIR = Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    """The path of a bundled resource, e.g. `resource_path("icon.png")`.

    Raises FileNotFoundError (naming the folder searched) when it is not there, which
    happens only when the package was installed without its source tree.
    """
    path = RESOURCES_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"bundled resource {name!r} not found in {RESOURCES_DIR}")
    return path
