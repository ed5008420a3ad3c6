"""VGG-19 as a plain ``torch.nn.Module`` with named layers.

Layer names follow the paper: ``conv1_1`` … ``conv5_4`` (outputs *after* the ReLU, as the
texture model uses them) and ``pool1`` … ``pool5``. The network takes RGB images in [0, 1];
a fixed 1×1 ``preprocess`` convolution maps them to whatever input space the weights were
trained in (mean-subtracted BGR×255 for the Caffe-derived normalised VGG-19, ImageNet
mean/std-normalised RGB for torchvision weights).

Gatys et al. replace max pooling by average pooling, which gives smoother gradients and
better syntheses; ``pool="avg"`` is the default, ``pool="max"`` the original VGG.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

# (block, number of convolutions, output channels) of VGG-19.
VGG19_BLOCKS: tuple[tuple[int, int, int], ...] = (
    (1, 2, 64),
    (2, 2, 128),
    (3, 4, 256),
    (4, 4, 512),
    (5, 4, 512),
)


def _layer_sequence() -> list[tuple[str, int]]:
    """All named layers in forward order, each with its number of output channels."""
    layers: list[tuple[str, int]] = []
    for block, n_convs, channels in VGG19_BLOCKS:
        layers += [(f"conv{block}_{i}", channels) for i in range(1, n_convs + 1)]
        layers.append((f"pool{block}", channels))
    return layers


LAYER_CHANNELS: dict[str, int] = dict(_layer_sequence())
LAYER_NAMES: tuple[str, ...] = tuple(LAYER_CHANNELS)
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))

PoolKind = Literal["avg", "max"]
PaddingMode = Literal["zeros", "circular"]


def layer_index(name: str) -> int:
    """Position of a named layer in the forward order; raises ``ValueError`` for unknown names."""
    try:
        return LAYER_NAMES.index(name)
    except ValueError:
        raise ValueError(
            f"unknown layer {name!r}; known layers: {', '.join(LAYER_NAMES)}"
        ) from None


def deepest_layer(names: Iterable[str]) -> str:
    """The layer among ``names`` that comes last in the forward pass."""
    return max(names, key=layer_index)


def downsampling_factor(layer: str) -> int:
    """How many input pixels one position of ``layer`` spans along each axis (2 per pool)."""
    n_pools = sum(1 for n in LAYER_NAMES[: layer_index(layer) + 1] if n.startswith("pool"))
    return 2**n_pools


class VGG19(nn.Module):
    """VGG-19 feature extractor, truncated after ``last_layer``.

    Args:
        last_layer: deepest layer to build; everything after it is dropped to save memory.
        pool: ``"avg"`` (Gatys et al.) or ``"max"`` (original VGG).
        padding: ``"zeros"`` (the paper) or ``"circular"`` (for tileable textures).
    """

    def __init__(
        self,
        last_layer: str = "pool4",
        pool: PoolKind = "avg",
        padding: PaddingMode = "zeros",
    ) -> None:
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"pool must be 'avg' or 'max', not {pool!r}")
        if padding not in ("zeros", "circular"):
            raise ValueError(f"padding must be 'zeros' or 'circular', not {padding!r}")
        self.pool = pool
        self.padding = padding
        self.last_layer = last_layer
        self.layer_names = LAYER_NAMES[: layer_index(last_layer) + 1]
        self.preprocess = nn.Conv2d(3, 3, kernel_size=1)
        self.convs = nn.ModuleDict()
        in_channels = 3
        for name in self.layer_names:
            if name.startswith("conv"):
                out_channels = LAYER_CHANNELS[name]
                self.convs[name] = nn.Conv2d(
                    in_channels, out_channels, kernel_size=3, padding=1, padding_mode=padding
                )
                in_channels = out_channels
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Feature maps of ``layers`` for a batch of RGB images in [0, 1], shape (B, 3, H, W).

        Stops after the deepest requested layer.
        """
        wanted = set(layers)
        for name in wanted:
            if name not in self.layer_names:
                raise ValueError(
                    f"layer {name!r} is not in this network (built up to {self.last_layer})"
                )
        stop = deepest_layer(wanted)
        x = self.preprocess(image)
        out: dict[str, torch.Tensor] = {}
        for name in self.layer_names:
            if name.startswith("conv"):
                x = F.relu(self.convs[name](x))
            elif self.pool == "avg":
                x = F.avg_pool2d(x, kernel_size=2, stride=2)
            else:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            if name in wanted:
                out[name] = x
            if name == stop:
                break
        return out


def activation_elements(width: int, height: int, last_layer: str) -> int:
    """Number of activation values of all layers up to ``last_layer`` for one image."""
    total, w, h = 0, width, height
    for name in LAYER_NAMES[: layer_index(last_layer) + 1]:
        if name.startswith("pool"):
            w, h = w // 2, h // 2
        total += LAYER_CHANNELS[name] * w * h
    return total


def estimate_memory_bytes(
    width: int, height: int, last_layer: str, batch: int = 1, bytes_per_value: int = 4
) -> int:
    """Rough peak memory of one forward + backward pass.

    Autograd keeps each conv output and its ReLU for the backward pass, which then holds
    gradients of similar size: about four copies of all activations, plus the weights.
    """
    n_weights, in_channels = 0, 3
    for name in LAYER_NAMES[: layer_index(last_layer) + 1]:
        if name.startswith("conv"):
            n_weights += (in_channels * 9 + 1) * LAYER_CHANNELS[name]
            in_channels = LAYER_CHANNELS[name]
    activations = activation_elements(width, height, last_layer)
    return (4 * batch * activations + n_weights) * bytes_per_value
