"""DeepFill v2: gated convolutions, a coarse network, and a refinement with contextual attention.

Yu et al., "Free-Form Image Inpainting with Gated Convolution" (ICCV 2019), laid out as
the PyTorch port nipponjo/deepfillv2-pytorch (`model/networks.py`) lays it out, so that
port's Places2 state dict ("G" in its `states_pt_places2.pth`) loads as it is. Every
convolution is gated: half its outputs, through a sigmoid, scale the other half. The
coarse network paints a first guess; the refinement runs two branches over it, one of
dilated convolutions and one that copies matching patches from the known part of the
crop (contextual attention), and joins them. `cnum` (48 in the port) is read back from
the weights.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

MULTIPLE = 8  # two halvings, then contextual attention halves once more
GENERATOR_KEY = "G"  # the port's checkpoint: {"G": generator, "D": discriminator, ...}
ATTENTION_SCALE = 10.0  # softmax sharpness of the patch matching


class GatedConv(nn.Module):
    def __init__(self, cin: int, cout: int, kernel: int = 3, stride: int = 1, rate: int = 1,
                 activation: nn.Module | None = None, gated: bool = True) -> None:
        super().__init__()
        self.cout, self.gated = cout, gated
        self.activation = nn.ELU() if activation is None else activation
        self.conv = nn.Conv2d(cin, 2 * cout if gated else cout, kernel, stride,
                              padding=rate * (kernel - 1) // 2, dilation=rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if not self.gated:
            return x
        features, gate = torch.split(x, self.cout, dim=1)
        return self.activation(features) * torch.sigmoid(gate)


class UpConv(nn.Module):
    """Nearest-neighbour upsampling by 2, then a gated 3x3 convolution."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = GatedConv(cin, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))


class DownBlock(nn.Module):
    def __init__(self, cin: int, cout: int, hidden: int | None = None) -> None:
        super().__init__()
        self.conv1_downsample = GatedConv(cin, hidden or cout, stride=2)
        self.conv2 = GatedConv(hidden or cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1_downsample(x))


class UpBlock(nn.Module):
    def __init__(self, cin: int, cout: int, hidden: int | None = None) -> None:
        super().__init__()
        self.conv1_upsample = UpConv(cin, hidden or cout)
        self.conv2 = GatedConv(hidden or cout, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1_upsample(x))


def _to_rgb(cnum: int) -> GatedConv:
    return GatedConv(cnum // 4, 3, gated=False)


class CoarseGenerator(nn.Module):
    def __init__(self, cin: int, cnum: int) -> None:
        super().__init__()
        self.conv1 = GatedConv(cin, cnum // 2, 5)
        self.down_block1 = DownBlock(cnum // 2, cnum)
        self.down_block2 = DownBlock(cnum, 2 * cnum)
        for i, rate in enumerate((1, 2, 4, 8, 16, 1, 1), start=1):
            setattr(self, f"conv_bn{i}", GatedConv(2 * cnum, 2 * cnum, rate=rate))
        self.up_block1 = UpBlock(2 * cnum, cnum)
        self.up_block2 = UpBlock(cnum, cnum // 4, cnum // 2)
        self.conv_to_rgb = _to_rgb(cnum)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.down_block2(self.down_block1(self.conv1(x)))
        for i in range(1, 8):
            x = getattr(self, f"conv_bn{i}")(x)
        return torch.tanh(self.conv_to_rgb(self.up_block2(self.up_block1(x))))


class FineGenerator(nn.Module):
    """The refinement: a dilated-convolution branch beside a contextual-attention branch."""

    def __init__(self, cnum: int) -> None:
        super().__init__()
        self.conv_conv1 = GatedConv(3, cnum // 2, 5)
        self.conv_down_block1 = DownBlock(cnum // 2, cnum, cnum // 2)
        self.conv_down_block2 = DownBlock(cnum, 2 * cnum, cnum)
        for i, rate in enumerate((1, 2, 4, 8, 16), start=1):
            setattr(self, f"conv_conv_bn{i}", GatedConv(2 * cnum, 2 * cnum, rate=rate))
        self.ca_conv1 = GatedConv(3, cnum // 2, 5)
        self.ca_down_block1 = DownBlock(cnum // 2, cnum, cnum // 2)
        self.ca_down_block2 = DownBlock(cnum, 2 * cnum)
        self.ca_conv_bn1 = GatedConv(2 * cnum, 2 * cnum, activation=nn.ReLU())
        self.contextual_attention = ContextualAttention()
        self.ca_conv_bn4 = GatedConv(2 * cnum, 2 * cnum)
        self.ca_conv_bn5 = GatedConv(2 * cnum, 2 * cnum)
        self.conv_bn6 = GatedConv(4 * cnum, 2 * cnum)
        self.conv_bn7 = GatedConv(2 * cnum, 2 * cnum)
        self.up_block1 = UpBlock(2 * cnum, cnum)
        self.up_block2 = UpBlock(cnum, cnum // 4, cnum // 2)
        self.conv_to_rgb = _to_rgb(cnum)

    def forward(self, x: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        dilated = self.conv_down_block2(self.conv_down_block1(self.conv_conv1(x)))
        for i in range(1, 6):
            dilated = getattr(self, f"conv_conv_bn{i}")(dilated)
        attended = self.ca_conv_bn1(self.ca_down_block2(self.ca_down_block1(self.ca_conv1(x))))
        attended = self.contextual_attention(attended, hole)
        attended = self.ca_conv_bn5(self.ca_conv_bn4(attended))
        x = self.conv_bn7(self.conv_bn6(torch.cat([dilated, attended], dim=1)))
        return torch.tanh(self.conv_to_rgb(self.up_block2(self.up_block1(x))))


class ContextualAttention(nn.Module):
    """Each feature position inside the hole becomes a blend of known patches that look like it.

    Matching runs at half the features' resolution on 3x3 patches (cosine similarity,
    fused along diagonals so that neighbouring matches reinforce each other, softmax over
    the known patches only); the blend pastes the matching 4x4 patches of the full-resolution
    features. The features are a quarter of the image's size.
    """

    def __init__(self, rate: int = 2, fuse: int = 3, image_to_features: int = 4) -> None:
        super().__init__()
        self.rate, self.image_to_features = rate, image_to_features
        self.register_buffer("fuse_weight", torch.eye(fuse).view(1, 1, fuse, fuse))

    def forward(self, features: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        rate = self.rate
        out = []
        small_hole = F.interpolate(hole, scale_factor=1 / (self.image_to_features * rate),
                                   mode="nearest")
        for i in range(features.shape[0]):
            out.append(self._attend(features[i:i + 1], small_hole[i:i + 1], rate))
        return torch.cat(out, dim=0)

    def _attend(self, feature: torch.Tensor, hole: torch.Tensor, rate: int) -> torch.Tensor:
        channels = feature.shape[1]
        # The patches pasted back: 2*rate wide, every `rate` pixels of the full features.
        paste = F.unfold(feature, 2 * rate, padding=rate - 1, stride=rate)
        paste = paste.view(channels, 2 * rate, 2 * rate, -1).permute(3, 0, 1, 2)
        small = F.interpolate(feature, scale_factor=1 / rate, mode="nearest")
        height, width = small.shape[2:]
        patches = F.unfold(small, 3, padding=1).view(channels, 3, 3, -1).permute(3, 0, 1, 2)
        known = F.unfold(hole, 3, padding=1).mean(dim=1).eq(0).to(feature.dtype)
        known = known.view(1, -1, 1, 1)  # patches with no hole pixel in them
        norms = patches.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-4)
        scores = F.conv2d(small, patches / norms, padding=1)  # (1, L, h, w)
        scores = self._fuse(scores, height, width)
        scores = F.softmax(scores * known * ATTENTION_SCALE, dim=1) * known
        return F.conv_transpose2d(scores, paste, stride=rate, padding=1) / 4.0

    def _fuse(self, scores: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Smooth the (patch, position) score matrix along its diagonals, in both orders.

        The port does it as a convolution with `fuse_weight`, an identity matrix (kept as a
        buffer since its state dict holds it); summing shifted copies is the same and fast.
        """
        count = height * width
        scores = _diagonal_sum(scores.reshape(count, count), self.fuse_weight.shape[-1])
        scores = scores.view(height, width, height, width).permute(1, 0, 3, 2)
        scores = _diagonal_sum(scores.reshape(count, count), self.fuse_weight.shape[-1])
        scores = scores.view(width, height, width, height).permute(1, 0, 3, 2)
        return scores.reshape(1, count, height, width)


def _diagonal_sum(matrix: torch.Tensor, size: int) -> torch.Tensor:
    """Each entry plus its `size // 2` neighbours either way along the diagonal (zero beyond)."""
    count, reach = matrix.shape[0], size // 2
    padded = F.pad(matrix, (reach, reach, reach, reach))
    return sum(padded[k:k + count, k:k + count] for k in range(size))


class DeepFillGenerator(nn.Module):
    def __init__(self, cnum: int = 48, cin: int = 5) -> None:
        super().__init__()
        self.stage1 = CoarseGenerator(cin, cnum)
        self.stage2 = FineGenerator(cnum)

    def forward(self, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
        """image in -1..1 with the hole blanked; the refined image in -1..1."""
        ones = torch.ones_like(hole)
        coarse = self.stage1(torch.cat([image, ones, ones * hole], dim=1))
        return self.stage2(coarse * hole + image * (1 - hole), hole)


def generator_weights(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The generator's tensors: the port's file holds them under "G" (flattened to `G.` keys
    by the loader); a file of the generator alone has them at the top."""
    prefix = f"{GENERATOR_KEY}."
    if any(key.startswith(prefix) for key in state):
        return {key[len(prefix):]: value for key, value in state.items()
                if key.startswith(prefix)}
    return dict(state)


def build(state: Mapping[str, torch.Tensor]) -> DeepFillGenerator:
    stem = state["stage1.conv1.conv.weight"]
    return DeepFillGenerator(cnum=stem.shape[0], cin=stem.shape[1])


def inpaint(net: DeepFillGenerator, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """image: (1, 3, H, W) in 0..1; hole: (1, 1, H, W), 1 = fill. The filled image, 0..1."""
    signed = (image * 2 - 1) * (1 - hole)
    return (net(signed, hole) + 1) / 2
