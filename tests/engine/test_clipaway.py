"""CLIPAway end to end on tiny models in their released formats, loaded by the app's loaders."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from paintnoise_desktop.core.errors import ModelError
from paintnoise_desktop.core.jobs import CancelToken, InpaintJob, Status
from paintnoise_desktop.engine.inpaint.alpha_clip import (
    AlphaCLIP,
    alpha_clip_config,
    load_alpha_clip,
    transformers_state,
)
from paintnoise_desktop.engine.inpaint.clipaway import (
    CLIPAWAY_NEGATIVE,
    load_projection_mlp,
    project_out,
    read_ip_adapter,
    weights_file,
)
from paintnoise_desktop.engine.inpaint.inpainter import (
    CLIPAWAY,
    CLIPAWAY_ONLY_REMOVES,
    inpainter_for,
)
from paintnoise_desktop.engine.models.catalog import get_spec
from paintnoise_desktop.engine.models.model_check import verify_model
from paintnoise_desktop.engine.models.model_store import ModelStore
from paintnoise_desktop.engine.models.needs import CLIPAWAY_MODELS, inpaint_needs
from paintnoise_desktop.engine.models.registry import hf_cache_dir
from paintnoise_desktop.engine.runner import Engine
from paintnoise_desktop.engine.settings import EngineSettings
from tests.engine.conftest import run_cancelled_after_first_step
from tests.tinymodels.clipaway import (
    ADAPTER_WIDTH,
    ALPHA_CLIP_FILE,
    MLP_FILE,
    build_clipaway,
    tiny_alpha_clip,
    tiny_ip_adapter,
    tiny_mlp,
)

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    return build_clipaway(tmp_path_factory.mktemp("clipaway-models"))


@pytest.fixture(scope="module")
def engine(models_dir) -> Engine:
    return Engine(EngineSettings(models_dir=models_dir))


@pytest.fixture(scope="module")
def clipaway(engine):
    return inpainter_for(CLIPAWAY, engine.models)


def _photo(height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    photo = np.stack([x * 4, y * 5, np.full_like(x, 90)], axis=-1).astype(np.uint8)
    photo[16:32, 24:40] = (230, 20, 20)  # the object to remove
    return photo


def _mask(height: int = 48, width: int = 64) -> np.ndarray:
    mask = np.zeros((height, width), np.uint8)
    mask[14:34, 22:42] = 255
    return mask


def _job(**fields) -> InpaintJob:
    values = {"job_id": 1, "image": _photo(), "mask": _mask(), "inpainter": CLIPAWAY,
              "steps": 2, "seed": 5}
    values.update(fields)
    return InpaintJob(**values)


# --- the projection block ----------------------------------------------------------------------


def test_the_projection_block_is_the_papers_formula():
    background, focus = torch.tensor([[3.0, 4.0, 0.0]]), torch.tensor([[2.0, 0.0, 0.0]])
    assert torch.equal(project_out(background, focus), torch.tensor([[0.0, 4.0, 0.0]]))

    generator = torch.Generator().manual_seed(0)
    e_b, e_f = torch.randn(5, 24, generator=generator), torch.randn(5, 24, generator=generator)
    final = project_out(e_b, e_f)
    for b, f, out in zip(e_b, e_f, final):  # e_b - (e_b . e_f / |e_f|) e_f / |e_f|, row by row
        expected = b - (b.dot(f) / f.norm()) * f / f.norm()
        assert torch.allclose(out, expected, atol=1e-6)
        assert abs(float(out.dot(f))) < 1e-5  # orthogonal to the object's direction
    assert torch.allclose(project_out(final, e_f), final, atol=1e-6)  # idempotent
    assert torch.allclose(project_out(e_b, 7.5 * e_f), final, atol=1e-5)  # only the direction counts
    assert torch.allclose(project_out(3 * e_f, e_f), torch.zeros_like(e_f), atol=1e-5)
    assert torch.equal(project_out(e_b, torch.zeros_like(e_f)), e_b)  # no direction, nothing removed


# --- loading the released formats --------------------------------------------------------------


def test_alpha_clip_reads_the_release_checkpoint_and_equals_alpha_clips_own_encoder(models_dir):
    model = load_alpha_clip(models_dir / "alpha-clip-l14" / ALPHA_CLIP_FILE, "alpha-clip-l14", CPU)
    config = model.clip.config
    assert (config.hidden_size, config.num_attention_heads, config.image_size) == (128, 2, 32)
    reference = tiny_alpha_clip()
    photo, mask = _photo(32, 32), _mask(32, 32)
    with torch.no_grad():
        ours = model.embed(photo, (mask, 255 - mask))
        alpha = torch.cat([model.alpha(mask), model.alpha(255 - mask)])
        theirs = reference(model.pixels(photo).expand(2, -1, -1, -1), alpha)
    assert torch.allclose(ours, theirs, atol=1e-5)
    assert not torch.allclose(ours[0], ours[1], atol=1e-2)  # the alpha map steers the embedding


def test_the_vit_l14_release_layout_fits_the_full_size_model_tensor_for_tensor():
    """AlphaCLIP ViT-L/14's 304,166,912 values, by the names its release uses (shapes only)."""
    width, layers, patch, grid, output = 1024, 24, 14, 16, 768
    shapes = {"conv1.weight": (width, 3, patch, patch), "conv1_alpha.weight": (width, 1, patch, patch),
              "class_embedding": (width,), "positional_embedding": (grid * grid + 1, width),
              "ln_pre.weight": (width,), "ln_pre.bias": (width,), "ln_post.weight": (width,),
              "ln_post.bias": (width,), "proj": (width, output)}
    for i in range(layers):
        block = f"transformer.resblocks.{i}."
        for name, shape in (("attn.in_proj.weight", (3 * width, width)), ("attn.in_proj.bias", (3 * width,)),
                            ("attn.out_proj.weight", (width, width)), ("attn.out_proj.bias", (width,)),
                            ("mlp.c_fc.weight", (4 * width, width)), ("mlp.c_fc.bias", (4 * width,)),
                            ("mlp.c_proj.weight", (width, 4 * width)), ("mlp.c_proj.bias", (width,)),
                            ("ln_1.weight", (width,)), ("ln_1.bias", (width,)),
                            ("ln_2.weight", (width,)), ("ln_2.bias", (width,))):
            shapes[block + name] = shape
    state = {name: torch.empty(shape, device="meta") for name, shape in shapes.items()}
    assert sum(tensor.numel() for tensor in state.values()) == 304_166_912  # the catalogue's size
    config = alpha_clip_config(state)
    assert (config.num_attention_heads, config.num_hidden_layers, config.image_size) == (16, 24, 224)
    with torch.device("meta"):
        model = AlphaCLIP(config)
    expected = {name: tuple(tensor.shape) for name, tensor in model.state_dict().items()}
    assert {name: tuple(tensor.shape) for name, tensor in transformers_state(state).items()} == expected


def test_the_mlp_reads_clipaways_model_safetensors(models_dir):
    mlp = load_projection_mlp(models_dir / "clipaway-mlp" / MLP_FILE, "clipaway-mlp", CPU)
    assert mlp[-1].out_features == ADAPTER_WIDTH
    sample = torch.randn(3, 16, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(mlp(sample), tiny_mlp()(sample), atol=1e-6)


def test_files_of_another_shape_are_refused_with_the_fix(tmp_path):
    from safetensors.torch import save_file

    save_file({"0.weight": torch.zeros(4, 4)}, str(tmp_path / MLP_FILE))  # a Linear, no LayerNorm
    with pytest.raises(ModelError, match="paintnoise models download clipaway-mlp"):
        load_projection_mlp(tmp_path / MLP_FILE, "clipaway-mlp", CPU)
    state = tiny_alpha_clip().state_dict()
    del state["conv1_alpha.weight"]  # a plain CLIP visual encoder
    torch.save(state, tmp_path / "clip.pth")
    with pytest.raises(ModelError, match="not an AlphaCLIP checkpoint"):
        load_alpha_clip(tmp_path / "clip.pth", "alpha-clip-l14", CPU)


def test_the_adapter_reads_from_clipaways_bin_and_from_the_hugging_face_cache(tmp_path):
    flat = tiny_ip_adapter()
    parts = {part: {key.removeprefix(f"{part}."): value for key, value in flat.items()
                    if key.startswith(f"{part}.")} for part in ("image_proj", "ip_adapter")}
    torch.save(parts, tmp_path / "ip-adapter_sd15.bin")  # the file CLIPAway's script downloads
    read = read_ip_adapter(tmp_path / "ip-adapter_sd15.bin", "ip-adapter-sd15")
    assert read.keys() == parts.keys()
    assert all(torch.equal(read[part][key], value)
               for part in parts for key, value in parts[part].items())

    from safetensors.torch import save_file

    spec = get_spec("ip-adapter-sd15")
    snapshot = (hf_cache_dir() / "models--h94--IP-Adapter" / "snapshots" / spec.revision)
    (snapshot / "models").mkdir(parents=True)
    save_file(flat, str(snapshot / spec.files[0].path))
    settings = EngineSettings(models_dir=tmp_path / "empty")
    assert weights_file("ip-adapter-sd15", settings) == snapshot / "models" / "ip-adapter_sd15.safetensors"


def test_verify_reads_each_file_as_its_loader_does(models_dir, tmp_path):
    settings = EngineSettings(models_dir=models_dir)
    for model_id in CLIPAWAY_MODELS:
        assert verify_model(model_id, settings).ok, verify_model(model_id, settings).summary
    state = tiny_alpha_clip().state_dict()
    state["ln_post.weight"] = torch.ones(7)  # of another width than the encoder
    torch.save(state, tmp_path / ALPHA_CLIP_FILE)
    broken = EngineSettings(models_dir=models_dir,
                            model_paths={"alpha-clip-l14": str(tmp_path / ALPHA_CLIP_FILE)})
    assert "is broken" in verify_model("alpha-clip-l14", broken).summary
    with pytest.raises(ModelError):
        inpainter_for(CLIPAWAY, ModelStore(broken))


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("model_id", ["alpha-clip-l14", "ip-adapter-sd15"])
def test_a_hostile_pickle_is_refused_without_running_it(models_dir, tmp_path, model_id):
    marker = tmp_path / "ran"
    payload = _Payload()
    payload.marker = marker
    hostile = tmp_path / ("weights.pth" if model_id == "alpha-clip-l14" else "ip-adapter_sd15.bin")
    torch.save({"image_proj": {"weight": payload}}, hostile)
    settings = EngineSettings(models_dir=models_dir, model_paths={model_id: str(hostile)})
    with pytest.raises(ModelError) as refused:
        inpainter_for(CLIPAWAY, ModelStore(settings))
    assert hostile.name in str(refused.value) and "UnpicklingError" in refused.value.detail
    assert not marker.exists()


# --- the image prompt through IP-Adapter -------------------------------------------------------


def test_the_adapter_is_in_the_unet_and_no_image_encoder_is_loaded(clipaway):
    pipe = clipaway.pipeline
    assert pipe.image_encoder is None
    projection = pipe.unet.encoder_hid_proj.image_projection_layers[0]
    assert torch.equal(projection.image_embeds.weight, tiny_ip_adapter()["image_proj.proj.weight"])


def test_the_image_prompt_is_the_projected_background_with_the_mlps_zero_as_negative(clipaway):
    photo, mask = _photo(32, 32), _mask(32, 32)
    embeds = clipaway.image_prompt(photo, mask)
    assert embeds.shape == (2, 1, ADAPTER_WIDTH)  # [negative; positive] x one image x width
    assert clipaway.image_prompt(photo, mask, negative=False).shape == (1, 1, ADAPTER_WIDTH)
    reference, mlp = tiny_alpha_clip(), tiny_mlp()
    model = clipaway.alpha_clip
    with torch.no_grad():
        pixels = model.pixels(photo)
        e_f = mlp(reference(pixels, model.alpha(mask)))
        e_b = mlp(reference(pixels, model.alpha(255 - mask)))
        negative = mlp(torch.zeros(1, 16))
    assert torch.allclose(embeds[0, 0], negative[0], atol=1e-5)
    expected = e_b - (e_b[0].dot(e_f[0]) / e_f.norm()) * e_f / e_f.norm()
    assert torch.allclose(embeds[1, 0], expected[0], atol=1e-5)


def test_the_image_prompt_changes_what_the_pipeline_paints(clipaway):
    photo, mask = _photo(32, 32), _mask(32, 32)
    embeds = clipaway.image_prompt(photo, mask)

    def paint(image_embeds):
        from PIL import Image

        return clipaway.pipeline(
            prompt="", negative_prompt=CLIPAWAY_NEGATIVE, image=Image.fromarray(photo),
            mask_image=Image.fromarray(mask), height=32, width=32, num_inference_steps=2,
            generator=torch.Generator().manual_seed(0), output_type="latent",
            ip_adapter_image_embeds=[image_embeds]).images

    with torch.no_grad():
        guided, blank = paint(embeds), paint(torch.zeros_like(embeds))
    assert not torch.allclose(guided, blank, atol=1e-3)


# --- removal through replace() -----------------------------------------------------------------


def test_removal_keeps_every_byte_outside_the_mask_with_seeds_and_variants(engine):
    progress = []
    result = engine.run(_job(variants=2), progress.append, CancelToken())
    assert result.ok, result.detail
    first, second = result.variants
    photo, outside = _photo(), _mask() == 0
    for variant in result.variants:
        assert np.array_equal(variant.image[outside], photo[outside])
    assert (first.seed, second.seed) == (5, 6)
    assert not np.array_equal(first.image, second.image)
    assert any("Preparing CLIPAway" in update.message for update in progress)
    assert any(update.message.startswith("Painting 1/2") for update in progress)
    again = engine.run(_job(seed=6), progress.append, CancelToken())
    assert np.array_equal(again.variants[0].image, second.image)  # variant k is seed + k


def test_cancel_after_the_first_step_stops_the_removal(engine):
    result, _ = run_cancelled_after_first_step(engine, _job(steps=4))
    assert result.status is Status.CANCELLED
    assert not result.variants


def test_asking_clipaway_to_paint_words_is_refused_before_any_model_is_needed(engine):
    result = engine.run(_job(prompt="a wooden bench"), lambda update: None, CancelToken())
    assert result.status is Status.FAILED
    assert result.message == CLIPAWAY_ONLY_REMOVES
    settings = EngineSettings()
    assert inpaint_needs(CLIPAWAY, "a wooden bench", settings) == ()
    assert inpaint_needs(CLIPAWAY, "", settings) == CLIPAWAY_MODELS


def test_without_the_models_one_message_names_them_all(tmp_path):
    engine = Engine(EngineSettings(models_dir=tmp_path / "empty"))
    result = engine.run(_job(), lambda update: None, CancelToken())
    assert result.status is Status.FAILED
    for name in ("Stable Diffusion 1.5 inpainting", "AlphaCLIP", "CLIPAway projection MLP",
                 "IP-Adapter SD 1.5"):
        assert name in result.message
    assert "paintnoise models download " + " ".join(CLIPAWAY_MODELS) in result.message
