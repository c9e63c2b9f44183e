"""The fast finder for CPUs: SAM 2.1 Hiera-tiny proposes the objects SegCLIP ranks.

Segment Anything ViT-B's image encoder alone takes 7-9 s on a 2-core CPU; SAM 2.1's
Hiera-tiny encoder does the same work in about a second. "Segment everything" runs as in
proposals.py: one image embedding, a grid of point prompts decoded in batches against it
(by `sam2_decoder.decode_points`, the library's decoder without its per-prompt copies),
filtering (predicted IoU, stability) and box NMS on the decoder's low-resolution logits
(`proposals.surviving_logits`, the same code), only the survivors upsampled, small holes and
islands tidied (`proposals.tidy_proposals`). So SegCLIP embeds and ranks these proposals
exactly as it ranks Segment Anything's.

Which proposal model SegCLIP uses is decided in `model_choice.proposal_model`: this one on
the CPU whenever it is installed (or on any device when no Segment Anything is), unless the
engine setting `fast_cpu_finder` is turned off ("fast_cpu_finder": false in the settings
file), which makes the CPU propose with Segment Anything as a GPU does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from segment_anything.utils.amg import build_point_grid

from ...core.photo_pixels import writable
from ..models.device import pick_device
from ..models.model_choice import FAST_PROPOSAL_MODEL, proposal_model
from ..models.model_store import ModelStore
from ..models.pretrained import load_pretrained
from ..models.registry import require_model
from .proposals import Proposals, ProposalSettings, surviving_logits, tidy_proposals
from .sam2_decoder import decode_points

Progress = Callable[[float, str], None]

# Each point prompt costs SAM 2's decoder a pass of its two-way transformer over all 4096
# image tokens plus the mask upscaling: with `decode_points` the 8 x 8 grid costs about as
# much as the whole image encoder (benchmarks/bench_fast_finder.py), half of what the
# library's forward cost. It decodes 32 prompts at a time: fewer cost more per prompt, 64
# is 7 % faster again but needs about twice the memory at its peak.
CPU_SETTINGS = ProposalSettings(points_per_side=8, points_per_batch=32)


class FastProposer:
    """A loaded Sam2Model and its processor, proposing object masks for a photo."""

    def __init__(self, model, processor, device: torch.device) -> None:
        self.model = model
        self.processor = processor
        self.device = device

    def _embed(self, image: np.ndarray, step: Progress) -> list[torch.Tensor]:
        """The image's feature pyramid, reporting (so checking for Cancel) before every
        Hiera block."""
        pixels = self.processor.image_processor(images=writable(image), return_tensors="pt")
        blocks = self.model.vision_encoder.backbone.blocks
        hooks = [
            block.register_forward_pre_hook(
                lambda module, inputs, number=number: step(
                    0.2 * number / len(blocks), "Looking at the photo"
                )
            )
            for number, block in enumerate(blocks)
        ]
        try:
            return self.model.get_image_embeddings(pixels["pixel_values"].to(self.device))
        finally:
            for hook in hooks:
                hook.remove()

    @torch.inference_mode()
    def propose(self, image: np.ndarray, step: Progress, settings: ProposalSettings) -> Proposals:
        """Object masks for `image` (RGB uint8, the working copy), best first by predicted IoU.

        The encoder sees the photo squashed to its square input, so the grid's points
        (fractions of the photo) are fractions of that square too, and every low-resolution
        logit is inside the photo.
        """
        h, w = image.shape[:2]
        embeddings = self._embed(image, step)
        side = self.model.prompt_encoder.image_embedding_size[0] * \
            self.model.config.prompt_encoder_config.patch_size
        grid = torch.as_tensor(build_point_grid(settings.points_per_side) * side,
                               dtype=torch.float, device=self.device)
        starts = range(0, len(grid), settings.points_per_batch)

        def batches():
            for number, start in enumerate(starts):
                step(0.2 + 0.6 * number / len(starts), "Finding objects")
                points = grid[start : start + settings.points_per_batch]
                masks, iou = decode_points(self.model, embeddings, points)
                yield masks.flatten(0, 1).float(), iou.flatten()

        logits, scores = surviving_logits(batches(), self.model.prompt_encoder.mask_input_size,
                                          0.0, settings)
        masks, quality = [], []
        for chunk in torch.arange(len(scores)).split(16):
            upsampled = torch.nn.functional.interpolate(
                logits[chunk][:, None], (h, w), mode="bilinear", align_corners=False)
            masks.extend((upsampled[:, 0] > 0.0).cpu().numpy())
            quality.extend(scores[chunk].tolist())
        step(0.85, "Tidying the outlines")
        return tidy_proposals(masks, quality, (h, w), settings)


def load_fast_proposer(folder: Path, model_id: str, device: torch.device) -> FastProposer:
    """SAM 2.1 from a save_pretrained folder or hub snapshot (fp32: the CPU is its place)."""
    from transformers import Sam2Model, Sam2Processor

    model, processor = load_pretrained("SAM 2.1", folder, model_id, Sam2Model, Sam2Processor)
    return FastProposer(model.to(device), processor, device)


def fast_proposer(models: ModelStore) -> tuple[str, FastProposer] | None:
    """The fast proposal model and its id, loaded once and kept warm, when SegCLIP should
    propose with it (see `model_choice.proposal_model`); else None."""
    device = pick_device(models.settings)
    model_id = proposal_model(models.settings, on_cpu=device.type == "cpu")
    if model_id != FAST_PROPOSAL_MODEL:
        return None
    folder = require_model(model_id, models.settings)
    key = f"{model_id}@{device}"
    return model_id, models.get(key, lambda: load_fast_proposer(folder, model_id, device))
