"""Tiny CLIPAway models, random weights, in the files their releases publish.

- AlphaCLIP: `ReferenceAlphaVisual`, AlphaCLIP's visual encoder written out plainly as
  SunzeY/AlphaCLIP's model.py builds it (OpenAI CLIP names, `conv1_alpha`, q/k/v in one
  `attn.in_proj` Linear, QuickGELU, `x @ proj`), saved with `torch.save(state_dict)` as the
  `clip_l14_grit*.pth` files are. Being independent of the app's transformers-based
  AlphaCLIP, it is also the reference the app's embeddings are compared with.
- The MLP: CLIPAway's generate_projection_layer rule, saved as accelerate's save_model
  writes `model.safetensors` (the Sequential's own keys).
- IP-Adapter: `image_proj.*` and `ip_adapter.<n>.to_k_ip/to_v_ip` for every
  cross-attention of the tiny SD UNet, numbered as IP-Adapter numbers them, in one
  `.safetensors` file as h94/IP-Adapter publishes `ip-adapter_sd15.safetensors`.
- SD 1.5 inpainting: the tiny pipeline of `sd.py`.

Sizes: AlphaCLIP width 128 (2 heads), patch 8 at 32 px, output 16; MLP 16 -> 24 with 4
hidden layers; IP-Adapter 4 tokens of the UNet's cross-attention width (32).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import torch
from torch import nn

from .sd import build_sd_inpainting, tiny_sd_inpainting_pipeline

WIDTH, PATCH, RESOLUTION, LAYERS, OUTPUT = 128, 8, 32, 2, 16
ADAPTER_WIDTH, HIDDEN_LAYERS, TOKENS = 24, 4, 4
ALPHA_CLIP_FILE = "clip_l14_grit+mim_fultune_6xe.pth"
MLP_FILE = "model.safetensors"
ADAPTER_FILE = "ip-adapter_sd15.safetensors"


class _QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class _Attention(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.in_proj = nn.Linear(width, 3 * width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # L x N x C, as OpenAI's CLIP runs it
        length, batch, width = x.shape
        q, k, v = (part.reshape(length, batch * self.heads, -1).transpose(0, 1)
                   for part in self.in_proj(x).chunk(3, dim=-1))
        weights = torch.softmax(q * (width // self.heads) ** -0.5 @ k.transpose(1, 2), dim=-1)
        return self.out_proj((weights @ v).transpose(0, 1).reshape(length, batch, width))


class _Block(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.attn = _Attention(width, heads)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict([
            ("c_fc", nn.Linear(width, 4 * width)), ("gelu", _QuickGELU()),
            ("c_proj", nn.Linear(4 * width, width))]))
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int) -> None:
        super().__init__()
        self.resblocks = nn.Sequential(*[_Block(width, heads) for _ in range(layers)])


class ReferenceAlphaVisual(nn.Module):
    """AlphaCLIP's VisionTransformer, forward(image, alpha) -> image embedding."""

    def __init__(self) -> None:
        super().__init__()
        scale = WIDTH ** -0.5
        self.conv1 = nn.Conv2d(3, WIDTH, PATCH, stride=PATCH, bias=False)
        self.conv1_alpha = nn.Conv2d(1, WIDTH, PATCH, stride=PATCH, bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(WIDTH))
        self.positional_embedding = nn.Parameter(scale * torch.randn((RESOLUTION // PATCH) ** 2 + 1, WIDTH))
        self.ln_pre = nn.LayerNorm(WIDTH)
        self.transformer = _Transformer(WIDTH, LAYERS, WIDTH // 64)
        self.ln_post = nn.LayerNorm(WIDTH)
        self.proj = nn.Parameter(scale * torch.randn(WIDTH, OUTPUT))

    def forward(self, image: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        x = (self.conv1(image) + self.conv1_alpha(alpha)).flatten(2).permute(0, 2, 1)
        cls = self.class_embedding + torch.zeros(x.shape[0], 1, WIDTH)
        x = self.ln_pre(torch.cat([cls, x], dim=1) + self.positional_embedding)
        x = self.transformer.resblocks(x.permute(1, 0, 2)).permute(1, 0, 2)
        return self.ln_post(x[:, 0, :]) @ self.proj


def tiny_alpha_clip() -> ReferenceAlphaVisual:
    torch.manual_seed(1)
    model = ReferenceAlphaVisual()
    with torch.no_grad():  # an alpha channel that matters (AlphaCLIP starts it at zero)
        model.conv1_alpha.weight.normal_(0, 0.2)
    return model.eval()


def tiny_mlp() -> nn.Sequential:
    """CLIPAway's generate_projection_layer for AlphaCLIP width OUTPUT -> ADAPTER_WIDTH."""
    torch.manual_seed(2)
    layers: list[nn.Module] = []
    for i in range(HIDDEN_LAYERS):
        if i < HIDDEN_LAYERS // 2:
            layers += [nn.Linear(OUTPUT, OUTPUT), nn.LayerNorm(OUTPUT)]
        elif i == HIDDEN_LAYERS // 2:
            layers += [nn.Linear(OUTPUT, ADAPTER_WIDTH), nn.LayerNorm(ADAPTER_WIDTH)]
        else:
            layers += [nn.Linear(ADAPTER_WIDTH, ADAPTER_WIDTH), nn.LayerNorm(ADAPTER_WIDTH)]
        layers.append(nn.GELU())
    layers.append(nn.Linear(ADAPTER_WIDTH, ADAPTER_WIDTH))
    return nn.Sequential(*layers).eval()


def tiny_ip_adapter() -> dict[str, torch.Tensor]:
    """IP-Adapter's flat safetensors keys for the tiny SD UNet."""
    torch.manual_seed(3)
    unet = tiny_sd_inpainting_pipeline().unet
    width, channels = unet.config.cross_attention_dim, unet.config.block_out_channels
    state = {"image_proj.proj.weight": torch.randn(TOKENS * width, ADAPTER_WIDTH) * 0.2,
             "image_proj.proj.bias": torch.randn(TOKENS * width) * 0.1,
             "image_proj.norm.weight": torch.ones(width),
             "image_proj.norm.bias": torch.zeros(width)}
    number = 1  # IP-Adapter numbers every attention, self-attention (even) and cross (odd)
    for name in unet.attn_processors:
        if name.endswith("attn1.processor"):
            continue
        if name.startswith("mid_block"):
            hidden = channels[-1]
        elif name.startswith("up_blocks"):
            hidden = list(reversed(channels))[int(name.split(".")[1])]
        else:
            hidden = channels[int(name.split(".")[1])]
        for part in ("to_k_ip", "to_v_ip"):
            state[f"ip_adapter.{number}.{part}.weight"] = torch.randn(hidden, width) * 0.5
        number += 2
    return state


def build_clipaway(root: Path) -> Path:
    """Every model CLIPAway needs in `root`, each in the folder of its catalogue id."""
    from safetensors.torch import save_file

    build_sd_inpainting(root / "sd15-inpainting")
    for folder in ("alpha-clip-l14", "clipaway-mlp", "ip-adapter-sd15"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    torch.save(tiny_alpha_clip().state_dict(), root / "alpha-clip-l14" / ALPHA_CLIP_FILE)
    save_file(tiny_mlp().state_dict(), str(root / "clipaway-mlp" / MLP_FILE))
    save_file(tiny_ip_adapter(), str(root / "ip-adapter-sd15" / ADAPTER_FILE))
    return root
