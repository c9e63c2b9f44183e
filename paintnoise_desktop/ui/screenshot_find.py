"""Render the README's screenshot after a Find: the candidate strip, the found mask, its sliders.

    QT_QPA_PLATFORM=offscreen python -m paintnoise_desktop.ui.screenshot_find [OUT.png]

No segmentation or CLIP weights ship with the code, so Find's answer is staged:
the spoon's regions are brushed through the canvas (as in `screenshot.py`), taken
back with Undo, and handed to the real window as the engine's candidates, scored
from fixed cosines by the real ranking. Everything after that — the strip, the
selection, the mask made from the chosen candidate, the status bar — is the real
window at work.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ..core import masks
from ..core.jobs import FindJob, MaskCandidate, Result, Status
from ..engine.engine import Engine
from ..engine.ranking import softmax_with_floor
from ..resources import RESOURCES_DIR
from .app_settings import AppSettings
from .engine_bridge import EngineBridge
from .main_window import MainWindow
from .screenshot import SIZE, SPOON_STROKES, _stroke

COSINES = (0.29, 0.255, 0.22)  # the whole spoon, its bowl, its handle


class _StagedFind(Engine):
    """The real engine, except that Find answers with the staged candidates."""

    def __init__(self) -> None:
        super().__init__()
        self.candidates: tuple[MaskCandidate, ...] = ()

    def _dispatch(self, job, step, cancel) -> Result:
        if isinstance(job, FindJob):
            return Result(job.job_id, Status.FINISHED, candidates=self.candidates)
        return super()._dispatch(job, step, cancel)


def render(out: Path, photo: Path = RESOURCES_DIR / "sample.jpg") -> None:
    app = QApplication.instance() or QApplication([])
    engine = _StagedFind()
    with tempfile.TemporaryDirectory() as folder:
        settings = AppSettings(QSettings(str(Path(folder) / "settings.ini"), QSettings.IniFormat))
        window = MainWindow(settings, EngineBridge(engine_factory=lambda _settings: engine))
        window.resize(*SIZE)
        window.show()
        QTest.qWaitForWindowExposed(window)
        if not window.files.open_photo(photo):
            raise SystemExit(f"could not open {photo}")
        document = window.document
        regions = []
        for radius, points in SPOON_STROKES:
            window.canvas.set_brush_size(radius)
            before = document.mask.copy()
            _stroke(window, points)
            regions.append(np.where(document.mask > before, 255, 0).astype(np.uint8))
        window.go_to_step(0)
        spoon, handle = masks.union(regions), masks.union(regions[:2])
        scores = softmax_with_floor(np.array(COSINES))
        engine.candidates = tuple(
            MaskCandidate(mask, float(score), masks.bounding_box(mask), "segclip", "spoon")
            for mask, score in zip((spoon, regions[2], handle), scores, strict=True))
        window.canvas.set_brush_size(24)
        window.prompt_bar.find_edit.setText("spoon")
        window.jobs.find("spoon")
        for _ in range(1500):  # 30 s
            if document.history.index == 1 and not window.mask_steps.busy:
                break
            QTest.qWait(20)
        else:
            raise SystemExit("Find did not finish: " + window.statusBar().currentMessage())
        app.processEvents()
        window.grab().save(str(out))
        document.history.mark_clean()
        window.close()


if __name__ == "__main__":
    render(Path(sys.argv[1]) if len(sys.argv) > 1 else RESOURCES_DIR / "screenshot.png")
