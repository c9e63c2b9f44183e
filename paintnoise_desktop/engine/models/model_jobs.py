"""The engine's model jobs: download one model, or load one and keep it warm."""

from __future__ import annotations

from pathlib import Path

from ...core.errors import ModelError
from ...core.jobs import CancelToken, StepCallback
from ..settings import EngineSettings
from .catalog import ModelSpec, get_spec
from .download import Transfer, install_model, refuse_if_offline
from .model_store import ModelStore
from .registry import locate, require_model


def transfer_message(transfer: Transfer) -> str:
    """E.g. "12.3 / 2400 MB at 25 MB/s"."""
    total = f"{transfer.total / 1e6:.0f}" if transfer.total else "?"
    return f"{transfer.done / 1e6:.1f} / {total} MB at {transfer.speed / 1e6:.0f} MB/s"


def download_model(model_id: str, settings: EngineSettings, step: StepCallback,
                   cancel: CancelToken) -> Path:
    """Install a catalogue model into the models folder, unless it is installed already."""
    spec = get_spec(model_id)
    location = locate(model_id, settings)
    if location is not None:
        step(1.0, f"{spec.name} is already installed ({location.origin}: {location.path}).")
        return location.path
    refuse_if_offline(model_id, settings)
    step(0.0, f"Downloading {spec.name}")

    def on_progress(transfer: Transfer) -> None:
        fraction = transfer.done / transfer.total if transfer.total else 0.0
        step(fraction, transfer_message(transfer))

    folder = install_model(spec, settings, on_progress, cancel)
    step(1.0, f"{spec.name} is installed in {folder}.")
    return folder


def load_model(model_id: str, models: ModelStore, step: StepCallback, cancel: CancelToken) -> None:
    """Load a model through the loader of its kind and keep it in `models`."""
    from .device import memory_summary, pick_device

    spec = get_spec(model_id)
    require_model(model_id, models.settings)
    step(0.0, f"Loading {spec.name}")
    _preload(spec, models)
    step(1.0, f"{spec.name} is ready. {memory_summary(pick_device(models.settings))}")


def _preload(spec: ModelSpec, models: ModelStore) -> None:
    """Load through the getter the pipeline itself uses, so the job warms what a tool will use.

    Segment Anything and CLIP getters load the best installed model of their kind.
    """
    if spec.layout == "sam-checkpoint":
        from ..find.sam_model import get_sam

        get_sam(models)
    elif spec.role == "image-text scoring":
        from ..find.clip_model import get_clip

        get_clip(models)
    elif spec.role == "inpainting":
        from ..inpaint.diffusion import DiffusionInpainter

        DiffusionInpainter.for_model(spec.id, models)
    else:
        raise ModelError(f"{spec.name} is loaded when a tool first needs it; "
                         "there is nothing to preload.")
