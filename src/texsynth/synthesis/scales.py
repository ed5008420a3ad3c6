"""Coarse-to-fine: the sizes a synthesis runs at, and the source shrunk to match.

A synthesis with K scales runs first at 1/2^(K−1) of the output size against the source
shrunk by the same factor, then upsamples its result to start each finer scale. The plan
is one function, :func:`plan_scales`, used by the synthesis and by batch runs (which
compute every scale's source statistics before the jobs start).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from ..core.errors import SizeError, TexsynthError
from ..image.io import resample

# scales="auto" keeps the coarsest image and source at least this many pixels per side …
AUTO_SCALE_MIN_SIDE = 64
# … and uses at most this many scales.
AUTO_SCALE_MAX = 4


def auto_scales(
    width: int, height: int, source_size: Sequence[int] | None, multiple: int = 1
) -> int:
    """Number of scales for ``scales="auto"`` (1 without a single source image).

    ``multiple``: every scale's sides must be multiples of it (tileable syntheses).
    """
    if not source_size:
        return 1
    side = min(width, height, *source_size)

    def fits(scales: int) -> bool:
        factor = 2 ** (scales - 1)
        step = multiple * factor
        exact = multiple == 1 or (width % step == 0 and height % step == 0)
        return side // factor >= AUTO_SCALE_MIN_SIDE and exact

    scales = 1
    while scales < AUTO_SCALE_MAX and fits(scales + 1):
        scales += 1
    return scales


@dataclass(frozen=True)
class Scale:
    """One scale of a plan: the output size there and how often the source is halved."""

    width: int
    height: int
    halvings: int  # the source is shrunk by 2 this many times (0 at full size)
    iters: int

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height


def plan_scales(
    width: int,
    height: int,
    scales: int | str,
    iters: int,
    coarse_iters: int | None,
    source_size: Sequence[int] | None,
    min_size: int,
    tileable: bool,
    iters_side: int | None = None,
) -> list[Scale]:
    """The scales of a synthesis, coarsest first; the last is the full size.

    ``source_size`` is the single source image's (width, height), or None when there is no
    single image (pooled or saved statistics, guidance), which allows only one scale.
    ``min_size``: the network's downsampling; every size must reach it, and for tileable
    output every side must be a multiple of it. ``iters_side``: see
    :func:`full_size_iterations`.
    """
    multiple = min_size if tileable else 1
    count = auto_scales(width, height, source_size, multiple) if scales == "auto" else scales
    if count > 1 and not source_size:
        raise TexsynthError("coarse-to-fine needs a single source image and no guide")
    factor = 2 ** (count - 1)
    if min(width // factor, height // factor) < min_size:
        raise SizeError(
            f"{count} scales shrink {width}x{height} to {width // factor}x{height // factor} "
            f"px, below the {min_size} px the network's layers need"
        )
    plan = []
    for halvings in range(count - 1, -1, -1):
        w, h = width // 2**halvings, height // 2**halvings
        if tileable and (w % min_size or h % min_size):
            step = min_size * 2**halvings
            raise SizeError(
                f"a tileable texture needs sides (width x height) that are multiples of "
                f"{step} px (the network's downsampling{', at every scale' * bool(halvings)}), "
                f"not {width}x{height}"
            )
        budget = iters if halvings == 0 or coarse_iters is None else coarse_iters
        plan.append(Scale(w, h, halvings, budget))
    if count > 1 and coarse_iters is not None:
        full = full_size_iterations(iters, coarse_iters, width * height, iters_side)
        plan[-1] = replace(plan[-1], iters=full)
    return plan


def full_size_iterations(iters: int, coarse_iters: int, area: int, iters_side: int | None) -> int:
    """Full-size iterations of a coarse-to-fine run whose output has ``area`` pixels.

    Up to ``iters_side``² pixels, ``iters``. Larger outputs get ``iters`` × side²/area, but
    never fewer than ``coarse_iters`` (nor more than ``iters``): their coarser scales, each
    itself larger than most whole syntheses, have settled the structure, and what remains is
    detail that a full-size iteration (the cost of all coarser ones together) adds slowly
    (benchmarks/large.py).
    """
    if iters_side is None or area <= iters_side**2:
        return iters
    return min(iters, max(coarse_iters, round(iters * iters_side**2 / area)))


def shrink(pixels: torch.Tensor, factor: int) -> torch.Tensor:
    """(C, H, W) reduced by ``factor`` along each side, antialiased."""
    _, h, w = pixels.shape
    return resample(pixels, max(1, h // factor), max(1, w // factor))


def halved(pixels: torch.Tensor, times: int) -> torch.Tensor:
    """``pixels`` shrunk by 2, ``times`` times over (each scale's source, as planned)."""
    for _ in range(times):
        pixels = shrink(pixels, 2)
    return pixels


def upsample(image: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """(C, H, W) or (1, C, H, W) → (1, C, height, width), bilinear (the next scale's start)."""
    x = image.detach().float().cpu()
    x = x[None] if x.dim() == 3 else x
    return torch.nn.functional.interpolate(
        x, size=(height, width), mode="bilinear", align_corners=False
    )
