"""The offer made when an action lacks models: one question for all of them, one Download.

The window calls it through `Dialogs.offer_model_download` when a job's result names
missing models (a Find lacking Segment Anything and CLIP names both). On yes, the model
manager opens and downloads them one after another, with progress; on no, the user is
told how to get them later.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from ..engine.models.catalog import ModelSpec, known_spec
from ..engine.models.download import offline_reason, offline_remedy
from ..engine.models.needs import LEARNED_REMOVERS, download_command, model_names
from ..engine.models.registry import MODEL_MANAGER_MENU, expected_path
from ..engine.settings import EngineSettings
from .engine_bridge import EngineBridge
from .model_manager import ModelManagerDialog, confirm_download


def offer_download(parent: QWidget | None, model_ids: tuple[str, ...],
                   bridge: EngineBridge) -> ModelManagerDialog | None:
    """Ask once to download every model of `model_ids`; on yes, the manager downloads them all.

    Returns the (non-modal) manager when downloads started, else None: the user said no,
    offline mode is on, or the catalogue knows none of the ids.
    """
    specs = [spec for spec in map(known_spec, dict.fromkeys(model_ids)) if spec is not None]
    if not specs:
        return None
    settings = bridge.settings
    ids = tuple(spec.id for spec in specs)
    reason = offline_reason(settings)
    if reason is not None:
        verb, them = ("is", "it") if len(ids) == 1 else ("are", "them")
        QMessageBox.information(
            parent, "Models not installed",
            f"{model_names(ids)} {verb} not installed, and offline mode is on ({reason}), so "
            f"PaintNoise will not download {them}. To download {them}, "
            f"{offline_remedy(settings)}; or {_copy_into(specs, settings)}.")
        return None
    intro = ("This needs a model that is not installed:" if len(specs) == 1
             else f"This needs {len(specs)} models that are not installed:")
    if not confirm_download(parent, specs, settings, intro, f"Not now? {later(ids)}"):
        if isinstance(parent, QMainWindow):
            parent.statusBar().showMessage(f"Nothing was downloaded. {later(ids)}", 30000)
        return None
    manager = _manager(parent, bridge, settings)
    manager.start_downloads(ids)
    return manager


def offer_remover(parent: QWidget | None, bridge: EngineBridge) -> bool:
    """Removing with "auto" and no learned remover installed: offer the small one first.

    LaMa removes well in about a second on a CPU, where Stable Diffusion takes minutes and
    the offline inpainter smears. One question: Download starts it in the model manager
    (and the removal waits for the user to ask again); Not now removes at once with what is
    installed. True when the removal should go on now.
    """
    spec = known_spec(LEARNED_REMOVERS[0])
    settings = bridge.settings
    if spec is None or offline_reason(settings) is not None:
        return True
    intro = (f"{spec.name} is not installed. It removes objects by filling them in from "
             "around them, in about a second even without a GPU:")
    if not confirm_download(parent, [spec], settings, intro,
                            "Not now? The removal goes on with what is installed "
                            "(Stable Diffusion, or the offline inpainter)."):
        return True
    _manager(parent, bridge, settings).start_downloads((spec.id,))
    return False


def later(model_ids: tuple[str, ...]) -> str:
    """How to get the models another time, as a sentence."""
    them = "it" if len(model_ids) == 1 else "them"
    return (f"Download {them} later from {MODEL_MANAGER_MENU}, or run: "
            f"{download_command(model_ids)}; or copy {them} into the folder "
            "`paintnoise models path ID` prints.")


def _copy_into(specs: list[ModelSpec], settings: EngineSettings) -> str:
    folders = " and ".join(str(expected_path(spec.id, settings)) for spec in specs)
    return (f"copy the files into {folders} (`paintnoise models path ID` prints each), or run "
            "`paintnoise models add ID PATH` with files you already have")


def _manager(parent: QWidget | None, bridge: EngineBridge,
             settings: EngineSettings) -> ModelManagerDialog:
    """The manager that is open already, else a new non-modal one."""
    if parent is not None:
        for manager in parent.findChildren(ModelManagerDialog):
            if manager.isVisible():
                manager.raise_()
                return manager
    manager = ModelManagerDialog(bridge, settings, parent)
    manager.setAttribute(Qt.WA_DeleteOnClose)
    manager.setWindowModality(Qt.NonModal)
    manager.show()
    return manager
