"""Find by words, stage by stage, against a straightforward implementation of the method.

  --tiny  the tiny test models (built here, loaded by the app's loaders), on the CPU
  --full  Segment Anything ViT-H and CLIP ViT-L/14 with random weights (same cost as the
          real ones, nothing downloaded), on CUDA when present, else the CPU

The straightforward implementation is the founding report's: segment_anything's
SamAutomaticMaskGenerator with its defaults (32 x 32 points), one CLIP call per crop,
no cache, so asking again repeats everything. With random weights its filters may
keep few masks; its CLIP stage then embeds our proposals' crops one by one, so both
sides embed the same number of crops.

The app's proposals are timed twice: with its faster defaults and with the reference
settings (`proposals.REFERENCE`, the library's settings in the library's order), and
each is compared with the library's masks: the share of masks on either side that the
other matches with IoU >= 0.95. Random weights often leave the library no mask to match;
tests/engine/test_sam_reference.py checks the agreement on a model that has some.

Run: python benchmarks/bench_find.py --tiny   (add --repeats N, --points N, --size WxH)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paintnoise_desktop.core import masks
from paintnoise_desktop.core.jobs import MaskSettings
from paintnoise_desktop.engine.find import proposals
from paintnoise_desktop.engine.find.clip_model import ClipEmbedder, load_clip
from paintnoise_desktop.engine.find.ranking import select
from paintnoise_desktop.engine.find.sam_model import load_sam
from paintnoise_desktop.engine.find.segclip import describe_photo, object_crop, rank_candidates


def synthetic_photo(width: int, height: int, objects: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """A textured background with coloured ellipses, and each ellipse's mask."""
    rng = np.random.default_rng(0)
    photo = cv2.GaussianBlur(rng.integers(90, 170, (height, width, 3), dtype=np.uint8), (0, 0), 3)
    shapes = []
    for _ in range(objects):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        axes = (
            int(rng.integers(width // 40, width // 10)),
            int(rng.integers(height // 40, height // 10)),
        )
        mask = np.zeros((height, width), np.uint8)
        cv2.ellipse(mask, centre, axes, float(rng.integers(0, 180)), 0, 360, 255, -1)
        photo[mask > 0] = colour
        shapes.append(mask)
    return photo, shapes


def with_objects(
    found: proposals.Proposals, shapes: list[np.ndarray], count: int, size: tuple[int, int]
) -> proposals.Proposals:
    """`found` topped up to `count` with the photo's own objects, so every stage sees a
    realistic number of proposals even when random weights propose few."""
    extra = [cv2.resize(shape, size, interpolation=cv2.INTER_NEAREST) > 0 for shape in shapes]
    extra = [mask for mask in extra if mask.any()][: max(0, count - len(found.masks))]
    if not extra:
        return found
    boxes = []
    for mask in extra:
        ys, xs = np.nonzero(mask)
        boxes.append((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    return proposals.Proposals(
        np.concatenate([found.masks, np.stack(extra)]),
        np.concatenate([found.boxes.reshape(-1, 4), np.array(boxes)]),
        np.concatenate([found.quality, np.ones(len(extra), np.float32)]),
    )


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(device: torch.device, repeats: int, work):
    """(median seconds, last result) over `repeats` runs."""
    times, result = [], None
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        result = work()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def tiny_models(folder: Path, device: torch.device):
    from tests.tinymodels.clip import build_clip
    from tests.tinymodels.sam import build_sam

    build_sam(folder / "sam")
    build_clip(folder / "clip")
    return (
        load_sam(folder / "sam", "sam-vit-b", device),
        load_clip(folder / "clip", "clip-vit-base-patch32", device, torch.float32),
    )


def full_models(device: torch.device):
    """ViT-H SAM and ViT-L/14 CLIP, random weights, the real architectures."""
    from segment_anything import sam_model_registry
    from transformers import CLIPConfig, CLIPImageProcessor, CLIPModel

    from tests.tinymodels.clip import tiny_tokenizer

    dtype = torch.float16 if device.type == "cuda" else torch.float32
    sam = sam_model_registry["vit_h"]().eval().to(device)
    config = CLIPConfig(
        text_config={
            "hidden_size": 768,
            "intermediate_size": 3072,
            "num_hidden_layers": 12,
            "num_attention_heads": 12,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
        vision_config={
            "hidden_size": 1024,
            "intermediate_size": 4096,
            "num_hidden_layers": 24,
            "num_attention_heads": 16,
            "image_size": 224,
            "patch_size": 14,
        },
        projection_dim=768,
    )
    model = CLIPModel(config).eval().to(device=device, dtype=dtype)
    images = CLIPImageProcessor()
    clip = ClipEmbedder(
        model, tiny_tokenizer(), 224, images.image_mean, images.image_std, device, dtype
    )
    return sam, clip


def clip_one_by_one(clip: ClipEmbedder, crops: list[np.ndarray], text: str) -> int:
    """The report's CLIP stage: one call per crop, then the best crop for `text`."""
    rows = np.concatenate([clip.encode_images([crop]) for crop in crops])
    text_row = clip.encode_text([f"a photo of a {text}."])[0]
    return int(np.argmax(rows @ text_row))


def agreement(ours: np.ndarray, library: np.ndarray) -> str:
    """How many of each side's masks the other has (IoU >= 0.95)."""
    from tests.engine.sam_reference import matched_fraction

    if len(library) == 0:
        return f"library kept no mask, ours {len(ours)}: no match rate"
    return (
        f"{matched_fraction(library, ours):.0%} of the library's {len(library)} masks matched, "
        f"{matched_fraction(ours, library) if len(ours) else 0:.0%} of our {len(ours)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument("--tiny", action="store_true")
    kind.add_argument("--full", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--points", type=int, default=None, help="points per side (ours)")
    parser.add_argument("--size", default="1600x1200", help="photo size WxH")
    parser.add_argument(
        "--crops",
        type=int,
        default=48,
        help="top proposals up to this many with the photo's objects",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip SamAutomaticMaskGenerator (the baseline and the match rates)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    device = torch.device("cuda" if args.full and torch.cuda.is_available() else "cpu")
    width, height = (int(v) for v in args.size.split("x"))
    photo, shapes = synthetic_photo(width, height, args.crops)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        sam, clip = tiny_models(Path(folder), device) if args.tiny else full_models(device)
    load_s = time.perf_counter() - start
    points = args.points or (24 if device.type == "cuda" else 16)
    settings = proposals.ProposalSettings(points_per_side=points)

    def quiet(fraction: float, message: str) -> None:
        pass

    working = proposals.working_copy(photo)
    t_prop, proposed = timed(
        device, args.repeats, lambda: proposals.generate_proposals(sam, working, quiet, settings)
    )
    found = with_objects(proposed, shapes, args.crops, (working.shape[1], working.shape[0]))
    t_crop, crops = timed(
        device,
        args.repeats,
        lambda: [
            object_crop(working, mask, tuple(box)) for mask, box in zip(found.masks, found.boxes)
        ],
    )
    t_clip, _ = timed(device, args.repeats, lambda: clip.encode_images(crops))
    entry = describe_photo(working, photo.shape[:2], found, clip, quiet)

    def rank_and_postprocess():
        candidates = rank_candidates(entry, clip, "red balloon")
        chosen = select([c.score for c in candidates], "all")
        union = masks.union(masks.resize_mask(candidates[i].mask, width, height) for i in chosen)
        return masks.postprocess(union, MaskSettings())

    t_rank, _ = timed(device, args.repeats, rank_and_postprocess)
    t_again, _ = timed(device, args.repeats, lambda: rank_candidates(entry, clip, "blue door"))
    t_ref, reference = timed(
        device,
        args.repeats,
        lambda: proposals.generate_proposals(sam, working, quiet, proposals.REFERENCE),
    )
    first = t_prop + t_crop + t_clip + t_rank
    rows = [
        ("proposals (SAM encode + decode + filter)", t_prop, f"{len(proposed.masks)} proposals"),
        ("crops", t_crop, ""),
        ("CLIP image embeddings", t_clip, f"{len(crops)} crops"),
        ("ranking + post-processing", t_rank, ""),
        ("first query, total", first, ""),
        ("re-query (cached photo)", t_again, ""),
        ("proposals, reference settings", t_ref, f"{len(reference.masks)} proposals"),
    ]

    added = len(found.masks) - len(proposed.masks)
    print(
        f"device {device}, {'tiny' if args.tiny else 'full-size'} models "
        f"(loaded in {load_s:.1f} s), photo {width}x{height}, "
        f"working {working.shape[1]}x{working.shape[0]}, "
        f"app defaults {points}x{points} points, reference 32x32 in the library's order, "
        f"{len(proposed.masks)} proposals (+{added} of the photo's objects), "
        f"threads {torch.get_num_threads()}, median of {args.repeats}"
    )
    print(f"  {'stage':<46} {'ours':>9}")
    for label, seconds, note in rows:
        print(f"  {label:<46} {seconds * 1000:7.1f} ms  {note}".rstrip())
    if args.no_baseline:
        return
    from tests.engine.sam_reference import library_masks

    t_library, library = timed(device, 1, lambda: library_masks(sam, working, proposals.REFERENCE))
    library_crops = [
        object_crop(working, mask, masks.bounding_box(mask.astype(np.uint8))) for mask in library
    ]
    if len(library_crops) < len(crops):
        library_crops = crops  # embed as many crops as we do, for a fair CLIP stage
    t_each, _ = timed(device, 1, lambda: clip_one_by_one(clip, library_crops, "red balloon"))
    t_base = t_library + t_each
    print(f"  {'SamAutomaticMaskGenerator, its defaults':<46} {t_library * 1000:7.1f} ms  "
          f"{len(library)} masks")
    print(f"  {'baseline: AMG + CLIP per crop, no cache':<46} {t_base * 1000:7.1f} ms  "
          f"{len(library_crops)} crops embedded")
    print(f"  first query: baseline / ours = {t_base / first:.1f}x; "
          f"re-query: baseline / ours = {t_base / t_again:.0f}x")
    print(f"  match, app defaults: {agreement(proposed.masks, library)}")
    print(f"  match, reference settings: {agreement(reference.masks, library)}")


if __name__ == "__main__":
    main()
