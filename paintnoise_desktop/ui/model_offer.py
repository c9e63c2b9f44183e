""""This needs a model you don't have: download it?" — asked when a job fails for want of one.

The window wires it to its `modelMissing(tuple)` signal through `Dialogs.offer_model_download`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ..engine.models.catalog import known_spec
from ..engine.models.download import offline_reason, offline_remedy
from ..engine.models.registry import expected_path
from ..engine.settings import EngineSettings, load_settings
from .engine_bridge import EngineBridge
from .model_manager import ModelManagerDialog


def offer_download(parent: QWidget | None, model_id: str, bridge: EngineBridge,
                   settings: EngineSettings | None = None) -> ModelManagerDialog | None:
    """Ask to download `model_id`; on yes, show the model manager downloading it (non-modal).

    Returns the manager when a download was started, else None (the user said no,
    offline mode is on, or the id is not in the catalogue).
    """
    spec = known_spec(model_id)
    if spec is None:
        return None
    settings = settings or load_settings()
    reason = offline_reason(settings)
    if reason is not None:
        QMessageBox.information(
            parent, "Model not installed",
            f"{spec.name} is not installed, and offline mode is on ({reason}), so PaintNoise "
            f"will not download it. To download it, {offline_remedy(settings)}; or copy the "
            f"model to {expected_path(model_id, settings)}.")
        return None
    question = QMessageBox(
        QMessageBox.Question, "Download a model?",
        f"{spec.name} ({spec.role}) is not installed.\n\n"
        f"Download it now? About {spec.size_bytes / 1e9:.1f} GB from {spec.source}; "
        f"licence: {spec.licence}.",
        QMessageBox.Yes | QMessageBox.No, parent)
    question.setObjectName("modelOfferBox")
    question.setDefaultButton(QMessageBox.Yes)
    if question.exec() != QMessageBox.Yes:
        return None
    manager = ModelManagerDialog(bridge, settings, parent)
    manager.setAttribute(Qt.WA_DeleteOnClose)
    manager.setWindowModality(Qt.NonModal)
    manager.show()
    manager.start_download(model_id)
    return manager
