"""LaMa: the architecture read back from its weights, both real file layouts, verify."""

from __future__ import annotations

import pytest
import torch

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.engine.inpaint import lama
from paintnoise_desktop.engine.inpaint.learned import load_network, weights_problems
from paintnoise_desktop.engine.models.catalog import get_spec
from paintnoise_desktop.engine.models.model_check import validate_model_path, verify_model
from paintnoise_desktop.engine.settings import with_model_path
from tests.tinymodels.lama import TINY_LAMA, save_lama, tiny_lama

CPU = torch.device("cpu")


def _sample(height: int = 48, width: int = 64):
    torch.manual_seed(1)
    image = torch.rand(1, 3, height, width)
    hole = torch.zeros(1, 1, height, width)
    hole[..., 12:30, 20:44] = 1
    return image, hole


@pytest.mark.parametrize("form", ["safetensors", "ckpt"])
def test_both_file_layouts_load_into_the_same_network(tmp_path, form):
    net = tiny_lama()
    save_lama(tmp_path / "lama", net, form)
    loaded = load_network(tmp_path / "lama", "lama", CPU)
    image, hole = _sample()
    with torch.inference_mode():
        expected = lama.inpaint(net, image, hole)
        got = lama.inpaint(loaded, image, hole)
    assert got.shape == (1, 3, 48, 64)
    assert torch.equal(got, expected)
    assert 0 <= float(got.min()) and float(got.max()) <= 1  # big-lama ends in a sigmoid


def test_the_shape_is_read_back_from_the_weights():
    odd = lama.LamaShape(ngf=4, downsamplings=2, blocks=3, global_ratio=0.5)
    state = tiny_lama(odd).state_dict()
    assert lama.LamaShape.of(state) == odd
    assert lama.LamaShape.of(tiny_lama().state_dict()) == TINY_LAMA


def test_big_lama_has_the_989_tensors_of_the_original_generator():
    with torch.device("meta"):
        state = lama.LamaGenerator().state_dict()
    assert len(state) == 989
    assert sum(t.numel() * t.element_size() for t in state.values()) == 204_229_324
    assert state["model.5.conv1.ffc.convg2g.fu.conv_layer.weight"].shape == (384, 384, 1, 1)
    assert state["model.4.ffc.convl2g.weight"].shape == (384, 256, 3, 3)


def test_weights_of_another_network_are_named_not_loaded(tmp_path):
    state = tiny_lama().state_dict()
    del state["model.5.conv2.ffc.convl2l.weight"]
    state["model.5.extra"] = torch.zeros(1)
    problems = weights_problems(state, "lama")
    assert any("missing (first: model.5.conv2.ffc.convl2l.weight)" in p for p in problems)
    assert any("not the LaMa network's (first: model.5.extra)" in p for p in problems)
    assert weights_problems({"x": torch.zeros(1)}, "lama")[0].startswith("these are not LaMa")


def test_verify_reads_the_weights_as_the_loader_does(settings, tmp_path):
    folder = tmp_path / "mine"  # a file the user added by path: no published checksum applies
    path = save_lama(folder, tiny_lama(), "safetensors")
    settings = with_model_path(settings, "lama", path)
    assert verify_model("lama", settings).ok
    assert validate_model_path(get_spec("lama"), path) == path
    from safetensors.torch import save_file

    save_file({"generator.model.1.ffc.convl2l.weight": torch.zeros(8, 4, 7, 7)}, path)
    verdict = verify_model("lama", settings)
    assert not verdict.ok and "big-lama.safetensors is broken" in verdict.summary
    with pytest.raises(ModelError, match="not usable as LaMa"):
        validate_model_path(get_spec("lama"), path)
    with pytest.raises(ModelError, match="could not be read"):
        load_network(folder, "lama", CPU)


def test_a_weights_file_of_any_name_counts_and_a_folder_without_one_does_not(settings):
    from paintnoise_desktop.engine.models.registry import missing_parts

    folder = settings.models_dir / "lama"
    folder.mkdir(parents=True)
    (folder / "README.md").write_text("big-lama")
    assert missing_parts(get_spec("lama"), folder) == [
        "big-lama.safetensors is missing (or another .safetensors or .pth file)"]
    save_lama(folder, tiny_lama(), "ckpt")  # best.ckpt
    assert missing_parts(get_spec("lama"), folder) == []
