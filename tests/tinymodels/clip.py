"""A tiny CLIP: the real transformers classes, random weights, saved in each real layout.

The tokenizer is a real byte-level BPE CLIPTokenizer whose vocabulary is just the
256 byte symbols (alone and word-final) with no merges, so any text tokenizes.

`build_clip(folder)` saves as save_pretrained does today (model.safetensors,
processor_config.json, tokenizer.json). `build_hub_clip(folder, layout)` lays the
folder out as the OpenAI repositories on the hub have it: weights as
model.safetensors, as pytorch_model.bin only (torch.save of the state dict, with the
position_ids buffers older transformers saved), or either one in shards with an
index; the legacy preprocessor_config.json ("size": 224, CLIPFeatureExtractor), and
vocab.json + merges.txt beside tokenizer.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from tokenizers.pre_tokenizers import ByteLevel
from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPProcessor, CLIPTokenizer

IMAGE_SIZE = 32
HUB_IMAGE_SIZE = 224  # the OpenAI CLIPs' input size, so their preprocessing is the real one
LAYOUTS = ("safetensors", "bin", "safetensors-shards", "bin-shards")
SHARD_SIZE = "20KB"  # splits the tiny model into several shards


def tiny_vocab() -> dict[str, int]:
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for symbol in sorted(ByteLevel.alphabet()):
        vocab[symbol] = len(vocab)
        vocab[symbol + "</w>"] = len(vocab)
    return vocab


def tiny_tokenizer() -> CLIPTokenizer:
    return CLIPTokenizer(vocab=tiny_vocab(), merges=[])


def tiny_clip_model(image_size: int = IMAGE_SIZE, patch_size: int = 8) -> CLIPModel:
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tiny_tokenizer()),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 77,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": image_size,
            "patch_size": patch_size,
        },
        projection_dim=16,
    )
    torch.manual_seed(0)
    return CLIPModel(config).eval()


def build_clip(folder: Path) -> Path:
    """Save a tiny CLIP model and processor in `folder` (safetensors) and return it."""
    folder.mkdir(parents=True, exist_ok=True)
    image_processor = CLIPImageProcessor(
        size={"shortest_edge": IMAGE_SIZE},
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
    )
    tiny_clip_model().save_pretrained(folder)
    CLIPProcessor(image_processor=image_processor, tokenizer=tiny_tokenizer()).save_pretrained(
        folder)
    return folder


def build_hub_clip(folder: Path, layout: str = "safetensors") -> Path:
    """A tiny CLIP (224 px input) laid out as a hub repository holds it; see the module doc."""
    folder.mkdir(parents=True, exist_ok=True)
    model = tiny_clip_model(HUB_IMAGE_SIZE, patch_size=32)
    if layout == "safetensors":
        model.save_pretrained(folder)
    elif layout == "safetensors-shards":
        model.save_pretrained(folder, max_shard_size=SHARD_SIZE)
    elif layout in ("bin", "bin-shards"):
        model.config.architectures = ["CLIPModel"]  # as save_pretrained records it
        model.config.save_pretrained(folder)
        _save_bin(model, folder, sharded=layout == "bin-shards")
    else:
        raise ValueError(f"unknown layout {layout!r}")
    tokenizer = tiny_tokenizer()
    tokenizer.model_max_length = 77
    tokenizer.save_pretrained(folder)
    (folder / "vocab.json").write_text(json.dumps(tiny_vocab()), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")  # no merges
    size = HUB_IMAGE_SIZE
    (folder / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": size, "do_center_crop": True, "do_normalize": True, "do_resize": True,
        "feature_extractor_type": "CLIPFeatureExtractor",
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 3, "size": size,
    }, indent=2))
    return folder


def _save_bin(model: CLIPModel, folder: Path, sharded: bool) -> None:
    """pytorch_model.bin as transformers 4 wrote it (torch.save), or its shards and index."""
    state = dict(model.state_dict())
    for tower, length in (("text_model", 77), ("vision_model", model.vision_model.embeddings
                                                               .num_positions)):
        state[f"{tower}.embeddings.position_ids"] = torch.arange(length).unsqueeze(0)
    if not sharded:
        torch.save(state, folder / "pytorch_model.bin")
        return
    names = list(state)
    groups = [names[i::3] for i in range(3)]
    weight_map = {}
    for number, group in enumerate(groups, start=1):
        shard = f"pytorch_model-{number:05d}-of-{len(groups):05d}.bin"
        torch.save({name: state[name] for name in group}, folder / shard)
        weight_map |= dict.fromkeys(group, shard)
    total = sum(t.numel() * t.element_size() for t in state.values())
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(
        {"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
