"""A feed-forward texture generator: multi-scale noise in, a texture out (Ulyanov et al.
2016, "Texture Networks", with the instance normalisation of Ulyanov, Vedaldi & Lempitsky
2017), and the ``.gen`` file that holds one.

The network is fully convolutional, so one set of weights serves any output size. Every
convolution pads circularly: what it makes wraps around, so a sample whose sides are
multiples of :data:`GRANULE` tiles seamlessly, and any other size is cut from the next such
canvas. Each sample's noise is drawn from its own seeded generator on the CPU, so a seed
gives the same image on every device and in any batch.

A ``.gen`` file is a plain ``torch.save`` of tensors, numbers and text: the weights, the
network's shape, the recipe it was trained with, the source's pixels and sha256, and the
training state (for resuming). It loads with ``weights_only=True`` and never runs pickled
code.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.errors import SizeError, TexsynthError
from ..core.files import write_files
from ..image.io import ImageLike, LoadedImage, load_image
from .generator_file import checked_payload

FORMAT = "texsynth-generator"
VERSION = 1
SUFFIX = ".gen"
SCALES = 5  # noise inputs at 1, 1/2, … 1/16 of the size (Ulyanov et al. use 5 or 6)
GRANULE = 2 ** (SCALES - 1)  # a canvas side is a multiple of this
NOISE_CHANNELS = 3
WIDTH = 8  # channels added by each scale's branch (8, 16, 24, … as in the paper)


def _instance_norm(channels: int) -> nn.Module:
    """Instance normalisation with a scale and shift per channel (GroupNorm with one
    channel per group is the same, and 5x faster than InstanceNorm2d on the CPU)."""
    return nn.GroupNorm(channels, channels)


def _block(channels_in: int, channels_out: int) -> nn.Sequential:
    """3×3, 3×3, 1×1 convolutions, each instance-normalised and leaky-ReLU'd."""
    layers: list[nn.Module] = []
    for k, c_in in zip((3, 3, 1), (channels_in, channels_out, channels_out), strict=True):
        layers += [
            nn.Conv2d(c_in, channels_out, k, padding=k // 2, padding_mode="circular"),
            _instance_norm(channels_out),
            nn.LeakyReLU(0.01),
        ]
    return nn.Sequential(*layers)


class TextureGenerator(nn.Module):
    """Noise at ``scales`` resolutions → a (B, C, H, W) image in [lower, upper].

    The coarsest noise is processed, upsampled and joined with the next finer noise's
    branch, and so on up to full size, where a 1×1 convolution gives the pixels.
    """

    def __init__(self, channels: int = 3, scales: int = SCALES, width: int = WIDTH) -> None:
        super().__init__()
        self.channels, self.scales, self.width = channels, scales, width
        self.branches = nn.ModuleList(_block(NOISE_CHANNELS, width) for _ in range(scales))
        self.joins = nn.ModuleList(
            _block(width * (k + 1), width * (k + 1)) for k in range(1, scales)
        )
        self.norms = nn.ModuleList(_instance_norm(width * k) for k in range(1, scales))
        self.to_pixels = nn.Conv2d(width * scales, channels, 1)
        self.register_buffer("lower", torch.zeros(channels))
        self.register_buffer("upper", torch.ones(channels))

    def forward(self, noise: Sequence[torch.Tensor]) -> torch.Tensor:
        """``noise``: coarsest first, each (B, NOISE_CHANNELS, h·2^k, w·2^k)."""
        x = self.branches[0](noise[0])
        for k in range(1, self.scales):
            up = nn.functional.interpolate(x, scale_factor=2, mode="nearest")
            x = self.joins[k - 1](torch.cat([self.norms[k - 1](up), self.branches[k](noise[k])], 1))
        unit = torch.sigmoid(self.to_pixels(x))
        shape = (1, -1, 1, 1)
        return self.lower.view(shape) + unit * (self.upper - self.lower).view(shape)

    def noise(self, seed: int, height: int, width: int) -> list[torch.Tensor]:
        """One sample's noise for a canvas of ``height`` × ``width`` (multiples of
        :data:`GRANULE`), coarsest first, drawn on the CPU from ``seed``."""
        gen = torch.Generator().manual_seed(seed)
        found = []
        for k in reversed(range(self.scales)):
            shape = (1, NOISE_CHANNELS, height >> k, width >> k)
            found.append(torch.rand(shape, generator=gen))
        return found


# The smallest canvas side: the coarsest noise is then 2 px, the least that instance
# normalisation can normalise (one value per channel has no spread).
MIN_CANVAS = 2 * GRANULE


def canvas_side(side: int) -> int:
    """The smallest multiple of :data:`GRANULE` at least ``side`` and :data:`MIN_CANVAS`."""
    return max(MIN_CANVAS, -(-side // GRANULE) * GRANULE)


@dataclass
class Generator:
    """A trained generator and what it was trained on; :meth:`sample` makes textures."""

    network: TextureGenerator
    recipe: dict[str, Any]  # the recipe of its loss, as Recipe.as_dict() gives it
    source_pixels: torch.Tensor  # (C, H, W) uint8: the source, so the file stands alone
    source_name: str
    source_sha256: str
    training: dict[str, Any]  # steps, seconds, losses, optimiser state (for resuming)
    path: Path | None = None

    @property
    def source(self) -> torch.Tensor:
        """The source as (C, H, W) floats in [0, 1]."""
        return self.source_pixels.float() / 255

    def sample(
        self,
        n: int = 1,
        size: tuple[int, int] | int = 256,
        seed: int = 0,
        tileable: bool = False,
        device: str | torch.device = "cpu",
    ) -> torch.Tensor:
        """``n`` textures of ``size`` (width, height), seeds ``seed`` … ``seed + n - 1``:
        an (n, C, H, W) tensor in [0, 1]. ``tileable`` needs sides that are multiples of
        :data:`GRANULE`; the samples then wrap around."""
        width, height = (size, size) if isinstance(size, int) else size
        if tileable and (width % GRANULE or height % GRANULE or min(width, height) < MIN_CANVAS):
            raise SizeError(
                f"a tileable sample needs sides that are multiples of {GRANULE} px and at least "
                f"{MIN_CANVAS} px, not {width}x{height}"
            )
        if width < 1 or height < 1:
            raise SizeError(f"a sample size must be positive, not {width}x{height}")
        net = self.network.to(device).eval()
        out = []
        with torch.no_grad():
            for i in range(n):
                noise = net.noise(seed + i, canvas_side(height), canvas_side(width))
                image = net([z.to(device) for z in noise])[0, :, :height, :width]
                out.append(image.float().cpu().clamp(0, 1))
        return torch.stack(out)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the file (complete or not at all; never over one unless ``overwrite``)."""
        payload = {
            "format": FORMAT,
            "version": VERSION,
            "shape": {k: getattr(self.network, k) for k in ("channels", "scales", "width")},
            "weights": self.network.state_dict(),
            "recipe": self.recipe,
            "source": {"pixels": self.source_pixels, "name": self.source_name,
                       "sha256": self.source_sha256},
            "training": self.training,
        }  # fmt: skip
        target = Path(path)
        write_files([(target, lambda p: torch.save(payload, p))], overwrite)
        self.path = target
        return target

    @classmethod
    def load(cls, path: str | os.PathLike) -> Generator:
        """Read a ``.gen`` file (tensors and plain values only: ``weights_only``)."""
        where = Path(path)
        try:
            payload = torch.load(where, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise TexsynthError(f"no generator file {where}") from None
        except Exception as exc:  # a truncated or foreign file: say so in one line
            why = "it holds Python objects, which texsynth never unpickles"
            why = why if "weights_only" in str(exc) else "it does not load"
            raise TexsynthError(f"{where} is not a texsynth generator file ({why})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise TexsynthError(f"{where} is not a texsynth generator file")
        if payload.get("version") != VERSION:
            raise TexsynthError(f"{where}: generator format {payload.get('version')!r} is unknown")
        shapes = {"channels": (1, 3), "scales": (SCALES,), "width": (WIDTH,)}
        payload = checked_payload(payload, where, TextureGenerator, shapes)
        network = TextureGenerator(**payload["shape"])
        network.load_state_dict(payload["weights"])
        source = payload["source"]
        return cls(
            network, payload["recipe"], source["pixels"], source["name"], source["sha256"],
            payload["training"], where,
        )  # fmt: skip


def is_generator_file(source: Any) -> bool:
    """Whether ``source`` names a ``.gen`` file."""
    return isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(SUFFIX)


def source_image(source: ImageLike) -> LoadedImage:
    """An image source as texsynth reads it; for a ``.gen`` file, the source it was
    trained on, which the file holds."""
    if is_generator_file(source):
        return LoadedImage(Generator.load(source).source, Path(source).name)  # type: ignore[arg-type]
    return load_image(source)
