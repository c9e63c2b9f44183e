"""Checking models on disk: `paintnoise models verify` and files the user adds by path.

A model verify calls OK is one its loader can load, and one it cannot load is
not OK, with the reason. safetensors files are checked by their headers, with no
torch; pickled weights (`.pth`, `.bin`) are opened as the loaders open them
(`weights_only=True`, memory-mapped, so nothing big is read), and a Segment Anything
checkpoint is compared tensor by tensor with the model its shapes describe. torch
is imported only for those, when they are checked.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ...core.errors import ModelError
from ..inpaint.inpainter import LEARNED_INPAINTERS
from ..settings import EngineSettings
from .catalog import ModelSpec, known_spec
from .needs import CLIPAWAY_MODELS
from .registry import INCOMPLETE_MARKER, MANIFEST, Location, expected_path, locate, missing_parts
from .weight_files import (
    broken_model_error,
    check_torch_checkpoint,
    read_safetensors_header,
    read_shard_index,
    transformers_weights,
)

INPAINT_CONV_IN = "model.diffusion_model.input_blocks.0.0.weight"
INPAINT_CHANNELS = 9  # 4 latent + 4 masked-image latent + 1 mask


@dataclass(frozen=True)
class Verdict:
    model_id: str
    location: Location | None
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return self.location is not None and not self.problems

    @property
    def summary(self) -> str:
        if self.ok:
            return f"OK ({self.location.origin}: {self.location.path})"
        return "; ".join(self.problems)


def verify_model(model_id: str, settings: EngineSettings) -> Verdict:
    """Whether an installed model's files are all there and intact."""
    location = locate(model_id, settings)
    if location is None:
        folder = expected_path(model_id, settings)
        if (folder / INCOMPLETE_MARKER).exists():
            return Verdict(model_id, None, ("download not finished: run it again to resume",))
        return Verdict(model_id, None, ("not installed",))
    problems = _check_location(location, known_spec(model_id), model_id)
    return Verdict(model_id, location, tuple(problems))


def _check_location(location: Location, spec: ModelSpec | None, model_id: str) -> list[str]:
    path = location.path
    layout = spec.layout if spec is not None else None
    if path.is_file():
        if layout == "diffusers":
            return _inpainting_checkpoint_problems(path, model_id)
        return _check_weights(path, model_id, layout)
    problems: list[str] = []
    manifest = path / MANIFEST
    if manifest.exists():
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            return [f"{manifest.name} is damaged ({error}); download the model again"]
        problems += _check_manifest(path, listed)
    elif spec is not None:
        problems += missing_parts(spec, path)
    if spec is not None:
        problems += _check_catalog_checksums(path, spec)
    if layout == "sam-checkpoint":
        checkpoints = sorted(path.glob("*.pth"))
        return problems + (_check_weights(checkpoints[0], model_id, layout)
                           if len(checkpoints) == 1 else [])
    if layout == "transformers":
        return problems + _check_transformers(path, model_id)
    for weights in sorted(path.rglob("*")):
        if weights.suffix in (".safetensors", ".bin", ".pth", ".ckpt") and weights.is_file():
            problems += _check_weights(weights, model_id, layout)
    return problems


def _check_manifest(folder: Path, manifest: dict) -> list[str]:
    problems = []
    for entry in manifest.get("files", []):
        file = folder / entry["path"]
        if not file.exists():
            problems.append(f"{entry['path']} is missing")
        elif file.stat().st_size != entry["size"]:
            problems.append(f"{entry['path']} has {file.stat().st_size} bytes, expected {entry['size']}")
        elif sha256_of(file) != entry["sha256"]:
            problems.append(f"{entry['path']} is damaged (checksum mismatch)")
    return problems


def _check_catalog_checksums(folder: Path, spec: ModelSpec) -> list[str]:
    """Files under their published name (a cache snapshot, a checkpoint) against its sha256.

    A file saved under another name (an fp16 variant laid out as save_pretrained writes
    it) may be another file altogether, a full-precision copy say; a download's own
    record (its manifest) vouches for the ones it renamed.
    """
    problems = []
    for file in spec.files:
        target = folder / file.path
        if file.sha256 and target.exists() and sha256_of(target) != file.sha256.lower():
            problems.append(f"{file.path} does not match the published checksum")
    return problems


def _check_transformers(folder: Path, model_id: str) -> list[str]:
    """The folder's JSON files parse, and the weights transformers would load are whole."""
    problems = []
    for config in sorted(folder.glob("*.json")):
        if config.name.endswith(".index.json"):
            continue  # read below, as a shard index
        try:
            if not isinstance(json.loads(config.read_text(encoding="utf-8")), dict):
                raise TypeError("not a JSON object")
        except (OSError, ValueError, TypeError) as error:
            problems.append(f"{config.name} is damaged ({error})")
    weights = transformers_weights(folder)
    if weights is None:
        return problems  # missing_parts says so
    try:
        shapes = _transformers_shapes(folder, weights, model_id)
    except _Unreadable as error:
        return problems + error.problems
    return problems + _fits_the_model(folder, shapes)


class _Unreadable(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _transformers_shapes(folder: Path, weights: Path, model_id: str) -> dict[str, tuple]:
    """Tensor name -> shape over the weights transformers would load (one file or shards)."""
    if not weights.name.endswith(".index.json"):
        try:
            return _tensor_shapes(weights, model_id)
        except ModelError as error:
            raise _Unreadable([f"{weights.name} is broken ({error.detail})"]) from error
    try:
        shards = read_shard_index(weights, model_id)
    except ModelError as error:
        raise _Unreadable([f"{weights.name} is broken ({error.detail})"]) from error
    problems: list[str] = []
    shapes: dict[str, tuple] = {}
    for shard, tensors in sorted(shards.items()):
        file = folder / shard
        if not file.is_file():
            problems.append(f"{shard} is missing (named by {weights.name})")
            continue
        try:
            held = _tensor_shapes(file, model_id)
        except ModelError as error:
            problems.append(f"{shard} is broken ({error.detail})")
            continue
        absent = sorted(set(tensors) - held.keys())
        if absent:
            problems.append(f"{shard} lacks {len(absent)} tensors {weights.name} puts there "
                            f"(first: {absent[0]})")
        shapes |= held
    if problems:
        raise _Unreadable(problems)
    return shapes


def _tensor_shapes(path: Path, model_id: str) -> dict[str, tuple]:
    if path.suffix == ".safetensors":
        return {name: tuple(info["shape"])
                for name, info in read_safetensors_header(path, model_id).items()}
    from .safe_load import load_checkpoint

    return {name: tuple(tensor.shape) for name, tensor in load_checkpoint(path, model_id).items()}


def _fits_the_model(folder: Path, shapes: dict[str, tuple]) -> list[str]:
    """Whether the weights hold every tensor, at its shape, of the model config.json names.

    transformers fills a tensor missing from the files with random values and only
    warns; the loaders refuse such a model, so verify does too. The model is built
    on the meta device (nothing is allocated) from the class config.json names; a
    config that names none, or a class transformers does not have, is not checked here.
    """
    try:
        architectures = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        architecture = (architectures.get("architectures") or [""])[0]
    except (OSError, ValueError, AttributeError, IndexError, TypeError):
        return []  # reported with the folder's other files
    import torch
    import transformers

    model_class = getattr(transformers, str(architecture), None) if architecture else None
    if not isinstance(model_class, type) or not issubclass(model_class, transformers.PreTrainedModel):
        return []
    try:
        config = transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
        with torch.device("meta"):
            model = model_class(config)
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RuntimeError) as error:
        return [f"config.json does not describe a {architecture} ({type(error).__name__}: {error})"]
    tied = set(getattr(model, "all_tied_weights_keys", None) or ())
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items() if name not in tied}
    missing = sorted(expected.keys() - shapes.keys())
    wrong = sorted(name for name in expected.keys() & shapes.keys()
                   if shapes[name] != expected[name])
    problems = []
    if missing:
        problems.append(f"the weights lack {len(missing)} tensors of the {architecture} "
                        f"(first: {missing[0]})")
    if wrong:
        problems.append(f"{len(wrong)} tensors have another shape than the {architecture} "
                        f"needs (first: {wrong[0]})")
    return problems


def _check_weights(path: Path, model_id: str, layout: str | None = None) -> list[str]:
    """Problems of one weights file, checked as the loader of `layout` reads it."""
    if layout == "state-dict" and model_id in LEARNED_INPAINTERS:
        return _check_learned(path, model_id)
    if layout == "state-dict" and model_id in CLIPAWAY_MODELS:
        return _check_clipaway(path, model_id)
    try:
        if path.suffix == ".safetensors":
            read_safetensors_header(path, model_id)
        elif layout == "sam-checkpoint":
            return _check_sam_checkpoint(path, model_id)
        elif path.suffix == ".bin":  # transformers and diffusers read these as a state dict
            _tensor_shapes(path, model_id)
        elif path.suffix in (".pth", ".ckpt"):
            check_torch_checkpoint(path, model_id)
        else:
            return [f"{path.name} is not a weights file (.safetensors or .pth)"]
    except ModelError as error:
        return [f"{path.name} is broken ({error.detail})"]
    return []


def _check_sam_checkpoint(path: Path, model_id: str) -> list[str]:
    """The checkpoint read as the Segment Anything loader reads it, and compared with its model."""
    from ..find.sam_model import checkpoint_problems
    from .safe_load import load_checkpoint

    try:
        problems = checkpoint_problems(load_checkpoint(path, model_id))
    except ModelError as error:
        return [f"{path.name} is broken ({error.detail})"]
    return [f"{path.name} is broken ({'; '.join(problems)})"] if problems else []


def _check_learned(path: Path, model_id: str) -> list[str]:
    """A learned inpainter's weights read as its loader reads them, and compared with its network."""
    from ..inpaint.learned import read_generator, weights_problems

    try:
        problems = weights_problems(read_generator(path, model_id), model_id)
    except ModelError as error:
        return [f"{path.name} is broken ({error.detail or error})"]
    return [f"{path.name} is broken ({'; '.join(problems)})"] if problems else []


def _check_clipaway(path: Path, model_id: str) -> list[str]:
    """One of CLIPAway's weight files read as its loader reads it, and compared with its network."""
    from ..inpaint.clipaway import weights_problems

    return [f"{path.name} is broken ({problem})" for problem in weights_problems(path, model_id)]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(4 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def validate_model_path(spec: ModelSpec, path: Path) -> Path:
    """The path, absolute, if it holds the right kind of model for `spec`; else a ModelError."""
    path = Path(path).expanduser().resolve()
    if not path.exists():
        raise ModelError(f"There is no file or folder at {path}. Check the path and try again.")
    checks = {"sam-checkpoint": _validate_sam, "diffusers": _validate_diffusers,
              "transformers": _validate_transformers, "state-dict": _validate_state_dict}
    checks[spec.layout](spec, path)
    return path


def _validate_sam(spec: ModelSpec, path: Path) -> None:
    files = [path] if path.is_file() else sorted(path.glob("*.pth"))
    if len(files) != 1 or files[0].suffix != ".pth":
        raise ModelError(
            f"{path} is not a Segment Anything checkpoint. Choose its .pth file "
            f"(e.g. {spec.files[0].path}) or a folder holding just that file.",
        )
    problems = _check_sam_checkpoint(files[0], spec.id)
    if problems:
        raise broken_model_error(files[0], spec.id, ValueError("; ".join(problems)))


def _validate_state_dict(spec: ModelSpec, path: Path) -> None:
    files = [path] if path.is_file() else sorted(
        file for file in path.iterdir() if file.suffix in (".safetensors", ".pth", ".ckpt"))
    if not files:
        raise ModelError(f"{path} holds no {spec.name} weights. Choose its .safetensors or .pth "
                         f"file (e.g. {spec.files[0].path}), or the folder holding it.")
    problems = [problem for file in files for problem in _check_weights(file, spec.id, spec.layout)]
    if problems:
        raise ModelError(f"{path} is not usable as {spec.name}: {'; '.join(problems)}.")


def _validate_diffusers(spec: ModelSpec, path: Path) -> None:
    if path.is_dir():
        if not (path / "model_index.json").exists() or not (path / "unet").is_dir():
            raise ModelError(
                f"{path} is not a diffusers model folder (it needs model_index.json and unet/). "
                "Choose the folder that holds them, or a single .safetensors inpainting checkpoint.",
            )
        return
    problems = _inpainting_checkpoint_problems(path, spec.id)
    if problems:
        raise ModelError(f"{path} is {problems[0]}.")


def _inpainting_checkpoint_problems(path: Path, model_id: str) -> list[str]:
    """Whether a single file is a Stable Diffusion inpainting checkpoint, as a phrase."""
    if path.suffix != ".safetensors":
        return [("not a .safetensors file. PaintNoise reads single-file Stable Diffusion "
                "checkpoints only as .safetensors; convert it, or use a diffusers folder")]
    try:
        header = read_safetensors_header(path, model_id)
    except ModelError as error:
        return [f"not a whole .safetensors file ({error.detail}); download it again"]
    conv_in = header.get(INPAINT_CONV_IN)
    if conv_in is None:
        return ["not a Stable Diffusion checkpoint (no UNet weights found)"]
    if conv_in["shape"][1] != INPAINT_CHANNELS:
        return [(f"a Stable Diffusion checkpoint but not an inpainting one (its UNet takes "
                f"{conv_in['shape'][1]} channels, inpainting needs {INPAINT_CHANNELS}). "
                "Choose an inpainting checkpoint")]
    return []


def _validate_transformers(spec: ModelSpec, path: Path) -> None:
    if not path.is_dir() or not (path / "config.json").exists() or not transformers_weights(path):
        raise ModelError(
            f"{path} is not a {spec.name} model folder. Choose the folder that holds its "
            "config.json and weights (as save_pretrained writes them).",
        )
    problems = missing_parts(spec, path) + _check_transformers(path, spec.id)
    if problems:
        raise ModelError(
            f"The {spec.name} model folder {path} is not whole: {'; '.join(problems)}. "
            "Copy it again, or download the model.",
        )
