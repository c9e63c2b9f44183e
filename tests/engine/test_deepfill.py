"""DeepFill v2: the port's state-dict layout, contextual attention, the thickened hole."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.jobs import CancelToken
from paintnoise_desktop.engine.inpaint import deepfill
from paintnoise_desktop.engine.inpaint.inpainter import PaintRequest
from paintnoise_desktop.engine.inpaint.learned import LearnedInpainter, load_network
from paintnoise_desktop.engine.models.model_check import verify_model
from tests.tinymodels.deepfill import save_deepfill, tiny_deepfill

CPU = torch.device("cpu")


@pytest.mark.parametrize("form", ["pth", "safetensors"])
def test_the_ports_checkpoint_and_a_safetensors_file_load_alike(tmp_path, form):
    net = tiny_deepfill()
    save_deepfill(tmp_path / "deepfill-v2", net, form)
    loaded = load_network(tmp_path / "deepfill-v2", "deepfill-v2", CPU)
    torch.manual_seed(2)
    image, hole = torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)
    hole[..., 16:40, 24:48] = 1
    with torch.inference_mode():
        assert torch.equal(deepfill.inpaint(loaded, image, hole), deepfill.inpaint(net, image, hole))
    assert set(loaded.state_dict()) >= {"stage1.conv1.conv.weight",
                                        "stage2.contextual_attention.fuse_weight",
                                        "stage2.ca_conv_bn1.conv.weight"}
    assert loaded.stage1.conv1.conv.weight.shape == (8, 5, 5, 5)  # gated: twice cnum // 2


def test_contextual_attention_copies_known_patches_only():
    attention = deepfill.ContextualAttention()
    features = torch.full((1, 4, 16, 16), 0.7)
    features[..., 4:12, 4:12] = 5.0  # what lies under the hole must not be copied into it
    hole = torch.zeros(1, 1, 64, 64)
    hole[..., 16:48, 16:48] = 1
    out = attention(features, hole)
    assert out.shape == features.shape
    inside = out[..., 5:11, 5:11]
    assert float(inside.max()) <= 0.7 + 1e-5 and float(inside.min()) > 0.3


def test_the_hole_is_grown_and_smoothed_before_the_network_fills_it():
    inpainter = LearnedInpainter(tiny_deepfill(), "deepfill-v2", CPU)
    crop = np.full((64, 64, 3), 90, np.uint8)
    mask = np.zeros((64, 64), np.uint8)
    mask[24:40, 24:40] = 255
    painted = inpainter.paint(crop, mask, PaintRequest(), 0, lambda *a: None, CancelToken())
    changed = np.any(painted != crop, axis=2)
    assert changed[mask > 0].all()
    ring = (inpainter._thickened(mask) > 0) & (mask == 0)
    assert ring.sum() > 0 and changed[ring].any()  # filled past the mask's edge
    assert not changed[:10].any()  # far from the hole nothing moves


def test_verify_checks_the_ports_file_against_the_network(settings):
    save_deepfill(settings.models_dir / "deepfill-v2", tiny_deepfill())
    assert verify_model("deepfill-v2", settings).ok  # the catalogue has no checksum for it
    torch.save({"G": {"stage1.conv1.conv.weight": torch.zeros(8, 5, 5, 5)}},
               settings.models_dir / "deepfill-v2" / "states_pt_places2.pth")
    verdict = verify_model("deepfill-v2", settings)
    assert not verdict.ok and "tensors of the DeepFill v2 network are missing" in verdict.summary
