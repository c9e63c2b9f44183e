"""Settings files, device names and download records that cannot be used give a sentence,
not a crash."""

from __future__ import annotations

import pytest
import torch

from paintnoise_desktop.core.errors import PaintNoiseError
from paintnoise_desktop.engine.models.device import pick_device
from paintnoise_desktop.engine.settings import EngineSettings, load_settings


@pytest.mark.parametrize("text", ["[]", '"cpu"', "{not json"])
def test_a_settings_file_that_is_not_settings_says_so(tmp_path, text):
    path = tmp_path / "settings.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PaintNoiseError, match="could not be read. Fix or delete it"):
        load_settings(path)


def test_a_device_that_does_not_exist_is_named_with_the_choices():
    with pytest.raises(PaintNoiseError, match="'gpu' is not a device. Choose auto, cpu, cuda"):
        pick_device(EngineSettings(device="gpu"))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a CUDA GPU")
def test_cuda_without_a_gpu_says_to_choose_another_device():
    with pytest.raises(PaintNoiseError, match="no CUDA GPU is available"):
        pick_device(EngineSettings(device="cuda"))


def test_cpu_is_always_there():
    assert pick_device(EngineSettings(device="cpu")) == torch.device("cpu")


def test_verify_reports_a_damaged_download_manifest(tmp_path):
    from paintnoise_desktop.engine.models.model_check import verify_model
    from paintnoise_desktop.engine.models.registry import MANIFEST

    folder = tmp_path / "models" / "clip-vit-base-patch32"
    folder.mkdir(parents=True)
    (folder / MANIFEST).write_text("{damaged", encoding="utf-8")
    verdict = verify_model("clip-vit-base-patch32", EngineSettings(models_dir=tmp_path / "models"))
    assert not verdict.ok
    assert any("damaged" in problem and "download the model again" in problem
               for problem in verdict.problems)
