"""The CLIP loader and embedder with a tiny CLIP saved as transformers saves it."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.engine.find.clip_model import get_clip, load_clip
from paintnoise_desktop.engine.models.model_store import ModelStore
from tests.tinymodels.clip import build_clip

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_clip_folder(tmp_path_factory):
    return build_clip(tmp_path_factory.mktemp("clip") / "clip-vit-base-patch32")


@pytest.fixture(scope="module")
def embedder(tiny_clip_folder):
    return load_clip(tiny_clip_folder, "clip-vit-base-patch32", CPU, torch.float32)


def test_text_rows_are_unit_length_and_depend_on_the_text(embedder):
    rows = embedder.encode_text(
        ["a photo of a red car.", "a photo of a dog.", "a photo of a red car."]
    )
    assert rows.shape == (3, 16) and rows.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(rows[0], rows[2], atol=1e-5)
    assert not np.allclose(rows[0], rows[1], atol=1e-3)


def test_images_in_batches_match_images_one_by_one(embedder):
    rng = np.random.default_rng(1)
    images = [
        rng.integers(
            0, 256, (int(rng.integers(20, 80)), int(rng.integers(20, 80)), 3), dtype=np.uint8
        )
        for _ in range(7)
    ]
    embedder.batch_size = 3
    batched = embedder.encode_images(images)
    single = np.concatenate([embedder.encode_images([image]) for image in images])
    assert batched.shape == (7, 16)
    np.testing.assert_allclose(np.linalg.norm(batched, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(batched, single, atol=1e-4)
    assert embedder.encode_images([]).shape == (0, 16)


def test_pixels_follow_the_processor_recipe(embedder, tiny_clip_folder):
    """Crops go through the folder's own image processor (see test_clip_reference.py)."""
    from transformers import CLIPImageProcessor

    image = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    processor = CLIPImageProcessor.from_pretrained(tiny_clip_folder)
    pixels = processor(images=image, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        expected = embedder.model.get_image_features(pixel_values=pixels)
    expected = getattr(expected, "pooler_output", expected)
    expected = torch.nn.functional.normalize(expected, dim=-1).numpy()
    np.testing.assert_allclose(embedder.encode_images([image]), expected, atol=1e-3)


def test_damaged_folder_gives_a_model_error(tiny_clip_folder, tmp_path):
    broken = tmp_path / "clip-vit-base-patch32"
    shutil.copytree(tiny_clip_folder, broken)
    (broken / "model.safetensors").write_bytes(b"not weights")
    with pytest.raises(ModelError) as raised:
        load_clip(broken, "clip-vit-base-patch32", CPU, torch.float32)
    assert str(broken) in str(raised.value)


def test_the_larger_installed_clip_is_preferred(tiny_clip_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path))
    shutil.copytree(tiny_clip_folder, tmp_path / "clip-vit-base-patch32")
    assert get_clip(ModelStore())[0] == "clip-vit-base-patch32"
    shutil.copytree(tiny_clip_folder, tmp_path / "clip-vit-large-patch14")
    assert get_clip(ModelStore())[0] == "clip-vit-large-patch14"
