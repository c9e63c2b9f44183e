"""The Segment Anything loader: shapes read back from the weights, unsafe files refused."""

from __future__ import annotations

import os
import pickle
import shutil
from functools import partial

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError, ModelMissingError
from paintnoise_desktop.engine.find.sam_model import (
    checkpoint_problems,
    get_sam,
    infer_shape,
    load_sam,
)
from paintnoise_desktop.engine.models.model_store import ModelStore
from tests.tinymodels.sam import ODD_SAM, TINY_SAM, build_sam

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


RELEASED = {  # segment_anything.build_sam: (width, depth, heads, global-attention blocks)
    "vit_b": (768, 12, 12, (2, 5, 8, 11)),
    "vit_l": (1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": (1280, 32, 16, (7, 15, 23, 31)),
}


@pytest.mark.parametrize("kind", RELEASED)
def test_shape_of_each_released_architecture(kind):
    """The library's own ViT-B/L/H, built on the meta device (the real sizes, no memory)."""
    from segment_anything import sam_model_registry

    with torch.device("meta"):
        state = sam_model_registry[kind]().state_dict()
    shape = infer_shape(state)
    width, depth, heads, global_blocks = RELEASED[kind]
    assert (shape.img_size, shape.patch_size, shape.embed_dim, shape.depth, shape.num_heads) == \
        (1024, 16, width, depth, heads)
    assert (shape.mlp_dim, shape.qkv_bias) == (4 * width, True)
    assert (shape.window_size, shape.global_attn_indexes) == (14, global_blocks)
    assert (shape.prompt_dim, shape.mask_in_chans) == (256, 16)
    assert (shape.decoder_depth, shape.decoder_mlp_dim, shape.num_multimask_outputs) == (2, 2048, 3)
    assert (shape.iou_head_depth, shape.iou_head_hidden_dim) == (3, 256)
    assert checkpoint_problems(state) == []


def library_odd_sam():
    """A Sam from segment_anything's classes, unlike any released one in every size."""
    from segment_anything.modeling import (
        ImageEncoderViT,
        MaskDecoder,
        PromptEncoder,
        Sam,
        TwoWayTransformer,
    )

    torch.manual_seed(3)
    sam = Sam(
        image_encoder=ImageEncoderViT(
            img_size=96, patch_size=8, embed_dim=24, depth=4, num_heads=3, mlp_ratio=2.5,
            out_chans=48, qkv_bias=False, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
            use_rel_pos=True, window_size=5, global_attn_indexes=(0, 3),
        ),
        prompt_encoder=PromptEncoder(
            embed_dim=48, image_embedding_size=(12, 12), input_image_size=(96, 96),
            mask_in_chans=8,
        ),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=2,
            transformer=TwoWayTransformer(depth=1, embedding_dim=48, mlp_dim=40, num_heads=8),
            transformer_dim=48, iou_head_depth=2, iou_head_hidden_dim=20,
        ),
    )
    with torch.no_grad():  # random position tables, so a wrong window or grid would show
        for name, param in sam.named_parameters():
            if "rel_pos" in name or name.endswith("pos_embed"):
                param.normal_(0.0, 0.05)
    return sam.eval()


def test_a_checkpoint_unlike_any_released_one_loads_and_predicts_as_the_original(tmp_path):
    from segment_anything import SamPredictor

    original = library_odd_sam()
    path = tmp_path / "sam-vit-b" / "odd.pth"
    path.parent.mkdir()
    torch.save(original.state_dict(), path)
    saved = torch.load(path, weights_only=True)
    assert infer_shape(saved) == ODD_SAM
    assert checkpoint_problems(saved) == []

    sam = load_sam(path.parent, "sam-vit-b", CPU)
    loaded = sam.state_dict()
    assert loaded.keys() == saved.keys()
    for name, tensor in saved.items():
        assert torch.equal(loaded[name], tensor), name

    image = np.random.default_rng(4).integers(0, 256, (70, 50, 3), dtype=np.uint8)
    answers = []
    for model in (original, sam):
        predictor = SamPredictor(model)
        predictor.set_image(image)
        answers.append(predictor.predict(np.array([[20, 30]]), np.array([1]), return_logits=True))
    (logits, scores, _), (app_logits, app_scores, _) = answers
    assert logits.shape == (2, 70, 50)  # two multimask outputs
    np.testing.assert_allclose(app_logits, logits, atol=1e-5)
    np.testing.assert_allclose(app_scores, scores, atol=1e-5)


def test_a_checkpoint_with_tensors_missing_says_which(tmp_path):
    state = library_odd_sam().state_dict()
    del state["mask_decoder.output_hypernetworks_mlps.1.layers.2.weight"]
    path = tmp_path / "sam-vit-b" / "part.pth"
    path.parent.mkdir()
    torch.save(state, path)
    assert checkpoint_problems(state) == [
        "missing tensors: 1 (first: mask_decoder.output_hypernetworks_mlps.1.layers.2.weight)"]
    with pytest.raises(ModelError) as raised:
        load_sam(path.parent, "sam-vit-b", CPU)
    assert str(path) in str(raised.value)
    assert "mask_decoder.output_hypernetworks_mlps.1.layers.2.weight" in raised.value.detail
