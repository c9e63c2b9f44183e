"""The Segment Anything loader: shapes read back from the weights, unsafe files refused."""

from __future__ import annotations

import os
import pickle
import shutil

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError, ModelMissingError
from paintnoise_desktop.engine.find.sam_model import get_sam, infer_shape, load_sam
from paintnoise_desktop.engine.models.model_store import ModelStore
from tests.tinymodels.sam import TINY_SAM, build_sam

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_sam_file(tmp_path_factory):
    return build_sam(tmp_path_factory.mktemp("sam") / "sam-vit-b")


def test_shape_is_read_from_the_checkpoint(tiny_sam_file):
    state = torch.load(tiny_sam_file, weights_only=True)
    assert infer_shape(state) == TINY_SAM


def test_loaded_model_has_the_saved_weights_and_predicts(tiny_sam_file):
    from segment_anything import SamPredictor

    sam = load_sam(tiny_sam_file.parent, "sam-vit-b", CPU)
    saved = torch.load(tiny_sam_file, weights_only=True)
    for name, tensor in sam.state_dict().items():
        assert torch.equal(tensor, saved[name]), name
    predictor = SamPredictor(sam)
    predictor.set_image(np.random.default_rng(0).integers(0, 256, (60, 80, 3), dtype=np.uint8))
    masks, scores, _ = predictor.predict(np.array([[40, 30]]), np.array([1]))
    assert masks.shape == (3, 60, 80) and scores.shape == (3,)


def test_truncated_checkpoint_names_the_file(tiny_sam_file, tmp_path):
    broken = tmp_path / "sam-vit-b" / "sam_vit_b.pth"
    broken.parent.mkdir()
    broken.write_bytes(tiny_sam_file.read_bytes()[:5000])
    with pytest.raises(ModelError) as raised:
        load_sam(broken.parent, "sam-vit-b", CPU)
    assert str(broken) in str(raised.value)


def test_checkpoint_of_another_model_names_the_file(tmp_path):
    wrong = tmp_path / "sam_vit_b.pth"
    torch.save({"weight": torch.zeros(3)}, wrong)
    with pytest.raises(ModelError) as raised:
        load_sam(wrong, "sam-vit-b", CPU)
    assert str(wrong) in str(raised.value)


class _Payload:
    def __init__(self, sentinel: str) -> None:
        self.sentinel = sentinel

    def __reduce__(self):
        return os.system, (f"touch {self.sentinel}",)


def test_pickled_code_in_a_checkpoint_never_runs(tmp_path):
    sentinel = tmp_path / "ran"
    evil = tmp_path / "sam-vit-b" / "sam_vit_b.pth"
    evil.parent.mkdir()
    with open(evil, "wb") as file:
        pickle.dump({"image_encoder.pos_embed": _Payload(str(sentinel))}, file, protocol=2)
    with pytest.raises(ModelError) as raised:
        load_sam(evil.parent, "sam-vit-b", CPU)
    assert str(evil) in str(raised.value)
    assert not sentinel.exists()


def test_folder_needs_exactly_one_checkpoint(tiny_sam_file, tmp_path):
    folder = tmp_path / "sam-vit-b"
    folder.mkdir()
    shutil.copy(tiny_sam_file, folder / "a.pth")
    shutil.copy(tiny_sam_file, folder / "b.pth")
    with pytest.raises(ModelError, match="exactly one"):
        load_sam(folder, "sam-vit-b", CPU)


def test_the_larger_installed_model_is_preferred(tiny_sam_file, tmp_path, monkeypatch):
    monkeypatch.setenv("PAINTNOISE_MODELS_DIR", str(tmp_path))
    with pytest.raises(ModelMissingError) as raised:
        get_sam(ModelStore())
    assert raised.value.model_ids == ("sam-vit-b",)
    for model_id in ("sam-vit-b", "sam-vit-h"):
        (tmp_path / model_id).mkdir()
        shutil.copy(tiny_sam_file, tmp_path / model_id / "sam.pth")
    models = ModelStore()
    model_id, sam = get_sam(models)
    assert model_id == "sam-vit-h"
    assert get_sam(models)[1] is sam  # kept warm


@pytest.mark.slow
def test_shape_of_the_released_vit_b_architecture():
    from segment_anything import sam_model_registry

    shape = infer_shape(sam_model_registry["vit_b"]().state_dict())
    assert (shape.img_size, shape.embed_dim, shape.depth, shape.num_heads) == (1024, 768, 12, 12)
    assert (shape.window_size, shape.global_attn_indexes) == (14, (2, 5, 8, 11))
    assert (shape.prompt_dim, shape.decoder_mlp_dim, shape.iou_head_hidden_dim) == (256, 2048, 256)
