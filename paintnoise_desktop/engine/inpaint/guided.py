"""CLIP-guided replacement: Stable Diffusion inpainting steered by CLIP inside the mask and by
L2 and LPIPS outside it (the text-based editing study).

After each sampling step (or every k-th) the latents x_t are nudged down the gradient of

    lambda_clip * L_clip + lambda_2 * L_2 + lambda_lpips * L_lpips

where x0 = (x_t - sqrt(1 - abar_t) * eps) / sqrt(abar_t) is the clean image the UNet predicts
from x_t (decoded through the VAE, so the losses see pixels), L_clip is the cosine distance
between CLIP(prompt) and CLIP(x0 * m), and L_2 and L_lpips compare x0 * (1 - m) with the
crop's own background. The nudge happens in the step's callback, on the latents the next step
starts from, so it is the study's update applied one step later in the schedule's bookkeeping;
the guidance pass runs the UNet on the prompt alone (no classifier-free pair), which halves
its cost. Sampling uses DDIM, whose state is exactly the formula's (abar_t of the next
timestep). The study found 10^3 best for all three weights.

The gradient passes through the UNet, the VAE decoder, CLIP and LPIPS. On a GPU they run in
the pipeline's half precision with gradient checkpointing in the UNet and the VAE, and the
loss is scaled down by the sum of the weights before the backward pass (and the gradient
up again in fp32), so that large weights do not overflow fp16.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...core.errors import PaintNoiseError
from ...core.jobs import InpaintJob
from ..find.clip_model import ClipEmbedder, get_clip
from ..models.catalog import known_spec
from ..models.model_store import ModelStore
from .diffusion import DiffusionInpainter, execution_device
from .inpainter import CLIPAWAY, OPENCV_METHODS
from .lpips_model import get_lpips

LPIPS_MIN_PX = 64  # AlexNet's five stages leave nothing of a smaller input
NEEDS_DIFFUSION = ("CLIP-guided replacement steers a Stable Diffusion inpainting model; choose one "
                   "under Paint with (or leave it on Automatic).")


@dataclass(frozen=True)
class GuideWeights:
    clip: float = 1e3
    l2: float = 1e3
    lpips: float = 1e3
    every: int = 1  # guide every k-th sampling step

    @classmethod
    def of(cls, job: InpaintJob) -> GuideWeights:
        return cls(job.clip_weight, job.l2_weight, job.lpips_weight, job.guide_every)


def estimate_clean(latents: torch.Tensor, model_output: torch.Tensor, alpha_bar: torch.Tensor,
                   prediction_type: str = "epsilon") -> torch.Tensor:
    """x0 from x_t and the UNet's output: (x_t - sqrt(1 - abar) eps) / sqrt(abar) for epsilon
    models, sqrt(abar) x_t - sqrt(1 - abar) v for v-prediction ones."""
    alpha_bar = alpha_bar.to(latents.dtype)
    if prediction_type == "v_prediction":
        return alpha_bar.sqrt() * latents - (1 - alpha_bar).sqrt() * model_output
    return (latents - (1 - alpha_bar).sqrt() * model_output) / alpha_bar.sqrt()


def clip_distance(clip: ClipEmbedder, text: torch.Tensor, image: torch.Tensor,
                  inside: torch.Tensor) -> torch.Tensor:
    """1 - cos(CLIP(text), CLIP(image * m)), differentiable in `image` (1 x 3 x H x W, -1..1)."""
    processor = clip.processor.image_processor
    size = processor.crop_size
    pixels = ((image / 2 + 0.5).clamp(0, 1) * inside)
    pixels = F.interpolate(pixels, size=(size["height"], size["width"]), mode="bicubic",
                           align_corners=False)
    mean = torch.tensor(processor.image_mean, device=pixels.device).view(1, 3, 1, 1)
    std = torch.tensor(processor.image_std, device=pixels.device).view(1, 3, 1, 1)
    output = clip.model.get_image_features(pixel_values=((pixels - mean) / std).to(clip.dtype))
    features = output if isinstance(output, torch.Tensor) else output.pooler_output
    features = F.normalize(features.float(), dim=-1)
    return 1 - (features * text).sum()


def background_l2(image: torch.Tensor, original: torch.Tensor, outside: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of x0 * (1 - m) and the original * (1 - m)."""
    return ((image - original) * outside).pow(2).mean()


def background_lpips(lpips, image: torch.Tensor, original: torch.Tensor,
                     outside: torch.Tensor) -> torch.Tensor:
    """LPIPS between x0 * (1 - m) and the original * (1 - m), both in -1..1; crops smaller
    than AlexNet's smallest input are enlarged to it first."""
    dtype = next(lpips.parameters()).dtype
    pair = [(picture * outside).to(dtype) for picture in (image, original)]
    scale = LPIPS_MIN_PX / min(image.shape[-2:])
    if scale > 1:
        pair = [F.interpolate(picture, scale_factor=scale, mode="bilinear") for picture in pair]
    return lpips(*pair).float().sum()


def pixels(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """H x W x 3 uint8 -> 1 x 3 x H x W in -1..1, as the VAE decodes."""
    return torch.from_numpy(rgb).permute(2, 0, 1)[None].float().to(device) / 127.5 - 1


def coverage(mask: np.ndarray, device: torch.device) -> torch.Tensor:
    """H x W uint8 mask -> m, 1 x 1 x H x W in 0..1."""
    return torch.from_numpy(mask)[None, None].float().to(device) / 255


class Guide:
    """The losses of one job: CLIP, LPIPS and the weights, shared by every crop and step."""

    def __init__(self, clip: ClipEmbedder, lpips, weights: GuideWeights) -> None:
        self.clip, self.lpips, self.weights = clip, lpips, weights

    def losses(self, image: torch.Tensor, original: torch.Tensor, inside: torch.Tensor,
               text: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each term on x0's pixels (1 x 3 x H x W in -1..1); `inside` is m (1 x 1 x H x W)."""
        outside = 1 - inside
        return {"clip": clip_distance(self.clip, text, image, inside),
                "l2": background_l2(image, original, outside),
                "lpips": background_lpips(self.lpips, image, original, outside)}

    def scores(self, crop: np.ndarray, painted: np.ndarray, hole: np.ndarray,
               prompt: str) -> dict[str, float]:
        """How a painted crop did: CLIP score (cosine) inside the hole, L2 and LPIPS outside."""
        device = self.clip.device
        text = torch.from_numpy(self.clip.encode_text([prompt])[0]).to(device)
        with torch.no_grad():
            losses = self.losses(pixels(painted, device), pixels(crop, device),
                                 coverage(hole, device), text)
        return {"clip score": 1 - losses["clip"].item(), "l2": losses["l2"].item(),
                "lpips": losses["lpips"].item()}

    def total(self, losses: dict[str, torch.Tensor]) -> torch.Tensor:
        weights = self.weights
        return (weights.clip * losses["clip"] + weights.l2 * losses["l2"]
                + weights.lpips * losses["lpips"])

    def steering(self, pipe, crop_rgb: np.ndarray, crop_mask: np.ndarray, prompt: str):
        """The step callback's nudge for one crop: (pipeline, index, timestep, tensors) -> dict."""
        device = execution_device(pipe)
        original, inside = pixels(crop_rgb, device), coverage(crop_mask, device)
        text = torch.from_numpy(self.clip.encode_text([prompt])[0]).to(device)
        wsum = max(self.weights.clip + self.weights.l2 + self.weights.lpips, 1e-12)

        def steer(pipeline, index: int, timestep, tensors: dict) -> dict:
            scheduler = pipeline.scheduler
            step = scheduler.config.num_train_timesteps // scheduler.num_inference_steps
            upcoming = int(timestep) - step  # DDIM's previous timestep: where the latents now are
            if upcoming < 0 or index % self.weights.every:
                return {}
            latents = tensors["latents"]
            with torch.enable_grad():
                x_t = latents.detach().requires_grad_(True)
                model_output = _unet_on_prompt(pipeline, x_t, upcoming, tensors)
                x0 = estimate_clean(x_t, model_output, scheduler.alphas_cumprod[upcoming].to(device),
                                    scheduler.config.prediction_type)
                vae = pipeline.vae
                image = vae.decode(x0 / vae.config.scaling_factor, return_dict=False)[0].float()
                total = self.total(self.losses(image, original, inside, text))
                (gradient,) = torch.autograd.grad(total / wsum, x_t)
            return {"latents": (latents - gradient.float().mul(wsum).to(latents.dtype)).detach()}

        return steer


def _unet_on_prompt(pipeline, latents: torch.Tensor, timestep: int, tensors: dict) -> torch.Tensor:
    """The UNet's output for `latents` at `timestep` on the prompt alone (the pair's second half)."""
    pair = pipeline.do_classifier_free_guidance
    embeds = tensors["prompt_embeds"].chunk(2)[1] if pair else tensors["prompt_embeds"]
    model_input = pipeline.scheduler.scale_model_input(latents, timestep)
    if pipeline.unet.config.in_channels == 9:
        mask, masked = tensors["mask"], tensors["masked_image_latents"]
        if pair:
            mask, masked = mask.chunk(2)[1], masked.chunk(2)[1]
        model_input = torch.cat([model_input, mask, masked], dim=1)
    return pipeline.unet(model_input, timestep, encoder_hidden_states=embeds, return_dict=False)[0]


class ClipGuidedInpainter(DiffusionInpainter):
    """A Stable Diffusion inpainter whose steps are steered by a `Guide`."""

    STEERING_INPUTS = ("latents", "prompt_embeds", "mask", "masked_image_latents")

    def __init__(self, pipe, name: str, native_size: int, guide: Guide) -> None:
        super().__init__(pipe, name, native_size)
        self.guide = guide
        # Gradients flow to the latents only: frozen weights keep no gradients of their own.
        for part in (pipe.unet, pipe.vae, guide.clip.model):
            part.requires_grad_(False)
        self.name = f"{name}, CLIP-guided"

    @contextmanager
    def _steering(self, crop_rgb, crop_mask, request):
        pipe = self.pipeline
        from diffusers import DDIMScheduler

        sampler, on_gpu = pipe.scheduler, execution_device(pipe).type == "cuda"
        pipe.scheduler = DDIMScheduler.from_config(sampler.config)
        if on_gpu:
            pipe.unet.enable_gradient_checkpointing()
            pipe.vae.enable_gradient_checkpointing()
        try:
            yield self.guide.steering(pipe, crop_rgb, crop_mask, request.prompt)
        finally:
            pipe.scheduler = sampler
            if on_gpu:
                pipe.unet.disable_gradient_checkpointing()
                pipe.vae.disable_gradient_checkpointing()


def guided_inpainter(name: str, job: InpaintJob, models: ModelStore) -> ClipGuidedInpainter:
    """The CLIP-guided inpainter over the Stable Diffusion model `name`."""
    if not job.prompt.strip():
        raise PaintNoiseError("CLIP-guided replacement paints words: type what goes there.")
    spec = known_spec(name)
    if name in (*OPENCV_METHODS, CLIPAWAY) or (spec is not None and spec.layout != "diffusers"):
        raise PaintNoiseError(NEEDS_DIFFUSION, detail=f"inpainter {name}")
    _, clip = get_clip(models)
    plain = DiffusionInpainter.for_model(name, models)
    lpips = get_lpips(models, clip.device, clip.dtype)
    return ClipGuidedInpainter(plain.pipeline, plain.name, plain.native_size,
                               Guide(clip, lpips, GuideWeights.of(job)))
