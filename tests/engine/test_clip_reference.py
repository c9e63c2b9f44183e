"""The app's CLIP vectors are the reference library's: CLIPModel.get_image_features /
get_text_features on CLIPProcessor inputs, for the same crops and phrases.

The tiny CLIP takes 224 px input and carries the OpenAI repositories' own
preprocessor_config.json, so resizing, cropping and normalising are the real ones.
Crops are bigger and smaller than 224 px, long, thin and square, with detail that a
different resampling would change.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import CLIPModel, CLIPProcessor

from paintnoise_desktop.engine.find.clip_model import load_clip
from tests.tinymodels.clip import build_hub_clip

CPU = torch.device("cpu")
PHRASES = ["a photo of a red car.", "dog", "a wooden bench in the park", "x",
           "a photo of a red car.", "the cat on the left, sitting on a blue chair"]
SIZES = [(224, 224), (480, 640), (1000, 40), (33, 51), (3, 200), (224, 225), (901, 299)]


def crops() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    images = []
    for height, width in SIZES:
        y, x = np.mgrid[0:height, 0:width]
        smooth = np.stack([x * 255 / width, y * 255 / height, (x + y) % 97 * 2.6], axis=-1)
        noise = rng.normal(0, 25, (height, width, 3))
        images.append(np.clip(smooth + noise, 0, 255).astype(np.uint8))
    return images


def reference_rows(output) -> np.ndarray:
    """transformers 5 returns a model output object (pooler_output); 4 returned the tensor."""
    features = output if isinstance(output, torch.Tensor) else output.pooler_output
    return torch.nn.functional.normalize(features.float(), dim=-1).numpy()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module", params=["safetensors", "bin"])
def hub_clip(request, tmp_path_factory):
    return build_hub_clip(tmp_path_factory.mktemp("clip") / request.param, request.param)


@pytest.fixture(scope="module")
def reference(hub_clip):
    """The library used as its documentation shows, on the same folder."""
    model = CLIPModel.from_pretrained(hub_clip).eval()
    processor = CLIPProcessor.from_pretrained(hub_clip)
    inputs = processor(text=PHRASES, images=[Image.fromarray(crop) for crop in crops()],
                       return_tensors="pt", padding=True)
    with torch.inference_mode():
        images = reference_rows(model.get_image_features(pixel_values=inputs["pixel_values"]))
        texts = reference_rows(model.get_text_features(input_ids=inputs["input_ids"],
                                                       attention_mask=inputs["attention_mask"]))
    return images, texts


@pytest.fixture(scope="module")
def embedder(hub_clip):
    return load_clip(hub_clip, "clip-vit-base-patch32", CPU, torch.float32)


def test_image_vectors_equal_the_reference(embedder, reference):
    embedder.batch_size = 3  # crops of different sizes in one batch, and several batches
    app = embedder.encode_images(crops())
    assert app.shape == reference[0].shape == (len(SIZES), 16)
    assert cosines(app, reference[0]).min() >= 0.999
    assert cosines(app, reference[0][::-1]).min() < 0.99  # the rows are not all alike


def test_text_vectors_equal_the_reference(embedder, reference):
    app = embedder.encode_text(PHRASES)
    assert app.shape == reference[1].shape == (len(PHRASES), 16)
    assert cosines(app, reference[1]).min() >= 0.999
    assert cosines(app[:2], reference[1][1::-1]).max() < 0.99


def test_text_over_clips_length_is_cut_as_the_reference_cuts_it(embedder, hub_clip):
    model = CLIPModel.from_pretrained(hub_clip).eval()
    processor = CLIPProcessor.from_pretrained(hub_clip)
    long = "a very long description of a garden " * 5  # more than 77 tokens
    inputs = processor(text=[long], return_tensors="pt", padding=True, truncation=True,
                       max_length=77)
    with torch.inference_mode():
        expected = reference_rows(model.get_text_features(**inputs))
    assert cosines(embedder.encode_text([long]), expected).min() >= 0.999
