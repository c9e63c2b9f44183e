"""LaMa (big-lama): a Fast Fourier Convolution ResNet that fills a hole from its surroundings.

The generator of Suvorov et al., "Resolution-robust Large Mask Inpainting with Fourier
Convolutions" (WACV 2022), as advimman/lama's `ffc.py` builds it for big-lama's config:
4 input channels (the photo with the hole blanked, and the hole), a 7x7 stem, 3 strided
downsamplings, 18 FFC ResNet blocks whose channels are three quarters "global" (a 1x1
convolution in the 2D Fourier domain, so every pixel sees the whole crop), 3 transposed
convolutions up, and a sigmoid. The module names are those of the original, so its
weights load as they are; `LamaShape.of` reads the sizes back from the weights, so the
tiny test models and big-lama go through the same code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

GENERATOR_PREFIX = "generator."  # the Lightning checkpoint's (and its conversions') key prefix
MULTIPLE = 8  # three halvings: sides must divide by 8


@dataclass(frozen=True)
class LamaShape:
    ngf: int = 64  # stem width; doubled by each downsampling
    downsamplings: int = 3
    blocks: int = 18
    global_ratio: float = 0.75  # share of the blocks' channels on the Fourier branch
    in_channels: int = 4

    @classmethod
    def of(cls, state: Mapping[str, torch.Tensor]) -> LamaShape:
        """The shape the weights describe (generator keys, without the prefix)."""
        stem = state["model.1.ffc.convl2l.weight"]
        blocks = sorted({int(m.group(1)) for key in state
                         if (m := re.match(r"model\.(\d+)\.conv1\.ffc\.convl2l\.weight$", key))})
        if not blocks:
            raise KeyError("no FFC ResNet blocks (model.N.conv1.ffc...)")
        first = blocks[0]
        local = state[f"model.{first}.conv1.ffc.convl2l.weight"].shape[1]
        glob = state[f"model.{first}.conv1.ffc.convg2l.weight"].shape[1]
        return cls(ngf=stem.shape[0], downsamplings=first - 2, blocks=len(blocks),
                   global_ratio=glob / (local + glob), in_channels=stem.shape[1])


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
          dilation: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel, stride, padding, dilation, bias=False,
                     padding_mode="reflect")


class FourierUnit(nn.Module):
    """A 1x1 convolution (+ BN, ReLU) over the real and imaginary parts of the 2D FFT."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv_layer = nn.Conv2d(2 * channels, 2 * channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(2 * channels)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        channels, height, width = x.shape[1:]
        spectrum = torch.fft.rfftn(x.float(), dim=(-2, -1), norm="ortho")
        # (b, c, h, w/2+1) complex -> (b, c*2, h, w/2+1) real, each channel's re and im adjacent
        parts = torch.stack((spectrum.real, spectrum.imag), dim=2).flatten(1, 2).to(x.dtype)
        parts = self.relu(self.bn(self.conv_layer(parts)))
        parts = parts.unflatten(1, (channels, 2)).float()
        spectrum = torch.complex(parts[:, :, 0], parts[:, :, 1])
        return torch.fft.irfftn(spectrum, s=(height, width), dim=(-2, -1), norm="ortho").to(x.dtype)


class SpectralTransform(nn.Module):
    """The global branch: 1x1 down to half width, a Fourier unit with a skip, 1x1 back up."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        half = cout // 2
        self.conv1 = nn.Sequential(nn.Conv2d(cin, half, 1, bias=False), nn.BatchNorm2d(half),
                                   nn.ReLU(inplace=True))
        self.fu = FourierUnit(half)
        self.conv2 = nn.Conv2d(half, cout, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv1(x)
        return self.conv2(x + self.fu(x))


class FFC(nn.Module):
    """A convolution over a (local, global) pair of feature maps; either side may be empty."""

    def __init__(self, cin: int, cout: int, kernel: int, ratio_in: float, ratio_out: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> None:
        super().__init__()
        in_g = int(cin * ratio_in)
        in_l = cin - in_g
        out_g = int(cout * ratio_out)
        out_l = cout - out_g
        args = (kernel, stride, padding, dilation)
        self.convl2l = _conv(in_l, out_l, *args) if in_l and out_l else None
        self.convl2g = _conv(in_l, out_g, *args) if in_l and out_g else None
        self.convg2l = _conv(in_g, out_l, *args) if in_g and out_l else None
        self.convg2g = SpectralTransform(in_g, out_g) if in_g and out_g else None
        self.out_l, self.out_g = out_l, out_g

    def forward(self, x: tuple) -> tuple:
        x_l, x_g = x
        out_l = out_g = None
        if self.out_l:
            out_l = _sum(_apply(self.convl2l, x_l), _apply(self.convg2l, x_g))
        if self.out_g:
            out_g = _sum(_apply(self.convl2g, x_l), _apply(self.convg2g, x_g))
        return out_l, out_g


def _apply(module: nn.Module | None, x: torch.Tensor | None) -> torch.Tensor | None:
    return None if module is None or x is None else module(x)


def _sum(a: torch.Tensor | None, b: torch.Tensor | None) -> torch.Tensor | None:
    return b if a is None else a if b is None else a + b


class FFCBnAct(nn.Module):
    """FFC, then batch norm and ReLU on each side that has channels."""

    def __init__(self, cin: int, cout: int, kernel: int, ratio_in: float, ratio_out: float,
                 stride: int = 1, padding: int = 0, dilation: int = 1) -> None:
        super().__init__()
        self.ffc = FFC(cin, cout, kernel, ratio_in, ratio_out, stride, padding, dilation)
        self.bn_l = nn.BatchNorm2d(self.ffc.out_l) if self.ffc.out_l else None
        self.bn_g = nn.BatchNorm2d(self.ffc.out_g) if self.ffc.out_g else None
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: tuple) -> tuple:
        x_l, x_g = self.ffc(x)
        if x_l is not None:
            x_l = self.act(self.bn_l(x_l))
        if x_g is not None:
            x_g = self.act(self.bn_g(x_g))
        return x_l, x_g


class FFCResnetBlock(nn.Module):
    def __init__(self, dim: int, ratio: float) -> None:
        super().__init__()
        self.conv1 = FFCBnAct(dim, dim, 3, ratio, ratio, padding=1)
        self.conv2 = FFCBnAct(dim, dim, 3, ratio, ratio, padding=1)

    def forward(self, x: tuple) -> tuple:
        y_l, y_g = self.conv2(self.conv1(x))
        return x[0] + y_l, x[1] + y_g


class _Join(nn.Module):
    def forward(self, x: tuple) -> torch.Tensor:
        return torch.cat([part for part in x if part is not None], dim=1)


class LamaGenerator(nn.Module):
    """big-lama's generator; `model.N` indices match the original's, so its weights load."""

    def __init__(self, shape: LamaShape = LamaShape()) -> None:
        super().__init__()
        ngf, down = shape.ngf, shape.downsamplings
        layers: list[nn.Module] = [nn.ReflectionPad2d(3),
                                   FFCBnAct(shape.in_channels, ngf, 7, 0, 0)]
        for i in range(down):
            ratio_out = shape.global_ratio if i == down - 1 else 0
            layers.append(FFCBnAct(ngf * 2**i, ngf * 2 ** (i + 1), 3, 0, ratio_out,
                                   stride=2, padding=1))
        width = ngf * 2**down
        layers += [FFCResnetBlock(width, shape.global_ratio) for _ in range(shape.blocks)]
        layers.append(_Join())
        for i in range(down):
            cin = ngf * 2 ** (down - i)
            layers += [nn.ConvTranspose2d(cin, cin // 2, 3, stride=2, padding=1, output_padding=1),
                       nn.BatchNorm2d(cin // 2), nn.ReLU(inplace=True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, 3, 7), nn.Sigmoid()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = self.model[0](x)
        return self.model[1:]((padded, None))  # the FFC layers take (local, global) pairs


def generator_weights(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The generator's tensors of a checkpoint: its `generator.` keys without the prefix, or
    every key when none has it (a generator saved on its own). The discriminator and the
    losses of a training checkpoint are left out."""
    if any(key.startswith(GENERATOR_PREFIX) for key in state):
        return {key[len(GENERATOR_PREFIX):]: value for key, value in state.items()
                if key.startswith(GENERATOR_PREFIX)}
    return dict(state)


def build(state: Mapping[str, torch.Tensor]) -> LamaGenerator:
    """An untrained generator of the shape the weights describe (load them with load_into)."""
    return LamaGenerator(LamaShape.of(state))


def inpaint(net: LamaGenerator, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """image: (1, 3, H, W) in 0..1; hole: (1, 1, H, W), 1 = fill. The filled image, 0..1."""
    known = image * (1 - hole)
    return net(torch.cat([known, hole], dim=1))
