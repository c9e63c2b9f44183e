"""The layers import one way: ui -> engine -> core. Checked on the source, and by importing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "paintnoise_desktop"


def _modules(layer: str) -> list[Path]:
    return sorted((PACKAGE / layer).rglob("*.py"))


def _imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module `path` imports, relative imports resolved to absolute names."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _forbidden(layer: str, prefixes: tuple[str, ...]) -> list[str]:
    found = []
    for path in _modules(layer):
        for name in sorted(_imports(path)):
            if any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6")


def test_core_imports_no_qt_torch_engine_or_ui():
    assert _modules("core")
    assert _forbidden("core", QT + ("torch", "torchvision", "diffusers", "transformers",
                                    "segment_anything", "paintnoise_desktop.engine",
                                    "paintnoise_desktop.ui")) == []


def test_engine_imports_no_qt_or_ui():
    assert _modules("engine")
    assert _forbidden("engine", QT + ("paintnoise_desktop.ui",)) == []


def test_ui_never_imports_torch():
    assert _modules("ui")
    assert _forbidden("ui", ("torch", "torchvision", "diffusers", "transformers",
                             "segment_anything")) == []


def test_the_import_scan_resolves_relative_imports(tmp_path):
    """Without this, a `from ..ui import x` inside core would slip past the tests above."""
    probe = tmp_path / "paintnoise_desktop" / "core" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("from ..ui import window\nfrom . import masks\nimport torch.nn\n")
    assert {"paintnoise_desktop.ui.window", "paintnoise_desktop.core.masks",
            "torch.nn"} <= _imports(probe, tmp_path)


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False,
                          capture_output=True, text=True, timeout=300)


BLOCKER = """
import importlib.abc, pkgutil, sys

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "torch"):
            raise ImportError(f"{name} is blocked in this test")
        return None

sys.meta_path.insert(0, Blocked())
import paintnoise_desktop.core as core
names = [m.name for m in pkgutil.iter_modules(core.__path__)]
for name in names:
    __import__(f"paintnoise_desktop.core.{name}")
print(len(names))
"""


def test_every_core_module_imports_without_qt_and_torch():
    done = _python(BLOCKER)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) == len([p for p in _modules("core")
                                            if p.name != "__init__.py"])


def test_the_blocker_really_blocks():
    done = _python(BLOCKER.replace("import paintnoise_desktop.core as core",
                                   "import torch\nimport paintnoise_desktop.core as core"))
    assert done.returncode != 0
    assert "blocked in this test" in done.stderr


@pytest.mark.parametrize("command", [["--version"], ["edit", "--help"]])
def test_headless_commands_never_import_qt(command):
    done = _python("import sys\nfrom paintnoise_desktop.cli import main as cli\n"
                   f"try:\n    cli.main({command!r})\nexcept SystemExit:\n    pass\n"
                   "print(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6'))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_the_entry_point_imports_neither_torch_nor_qt():
    """`paintnoise --version` and every headless command start without torch or Qt."""
    done = _python("import sys\nimport paintnoise_desktop.app\n"
                   "print(sorted({m.split('.')[0] for m in sys.modules} & "
                   "{'torch', 'torchvision', 'diffusers', 'transformers', 'PySide6'}))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_a_download_job_imports_no_torch():
    """Downloads run on the window's I/O thread: nothing there may pull torch in."""
    done = _python(
        "import os, sys, tempfile\n"
        "os.environ['HF_HUB_OFFLINE'] = '1'\n"
        "from paintnoise_desktop.core.jobs import CancelToken, DownloadJob\n"
        "from paintnoise_desktop.engine.runner import Engine\n"
        "from paintnoise_desktop.engine.settings import EngineSettings\n"
        "engine = Engine(EngineSettings(models_dir=tempfile.mkdtemp()))\n"
        "result = engine.run(DownloadJob(1, 'sam-vit-b'), lambda progress: None, CancelToken())\n"
        "print(result.status.value, 'torch' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "failed False"
