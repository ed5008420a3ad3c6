"""Portilla & Simoncelli's (2000) texture statistics, from plenoptic: a texture model that
is not a CNN.

Used as an independent judge of syntheses (the ``ps`` score of ``texsynth evaluate``,
:func:`texsynth.evaluation.metrics.ps_distance`), which optimising VGG statistics cannot win
by construction, and for the Portilla–Simoncelli row of the paper's Fig. 2. plenoptic's
model is grey, so colour images are taken as their luminance (ITU-R BT.709, as
scikit-image's ``rgb2gray``).
"""

from __future__ import annotations

import functools

import torch

from ..core.errors import TexsynthError

# Luminance weights of BT.709 (what skimage.color.rgb2gray uses).
_LUMA = (0.2125, 0.7154, 0.0721)


def to_gray(pixels: torch.Tensor) -> torch.Tensor:
    """(C, H, W) → (1, H, W) luminance; grey input is returned as is."""
    if pixels.shape[0] == 1:
        return pixels
    weights = torch.tensor(_LUMA, dtype=pixels.dtype).view(3, 1, 1)
    return (pixels * weights).sum(0, keepdim=True)


def ps_scales(width: int, height: int, most: int = 4, corr_width: int = 7) -> int:
    """Pyramid scales (at most ``most``, P&S's choice) that an image of this size supports.

    plenoptic needs each side divisible by 2 per scale, and the coarsest band at least as
    wide as the auto-correlation window (7 px).
    """
    n = 0
    while (
        n < most
        and width % 2 ** (n + 1) == 0
        and height % 2 ** (n + 1) == 0
        and min(width, height) // 2 ** (n + 1) >= corr_width
    ):
        n += 1
    if n == 0:
        raise TexsynthError(
            f"Portilla–Simoncelli needs even sides of at least {2 * corr_width} px, "
            f"not {width}x{height}"
        )
    return n


@functools.lru_cache(maxsize=8)
def ps_model(height: int, width: int, n_scales: int, n_orientations: int = 4):
    """plenoptic's Portilla–Simoncelli model for images of ``height``×``width``, built
    once per size (a distance uses it three times; a report, once per image)."""
    import plenoptic as po

    return po.models.PortillaSimoncelli(
        (height, width), n_scales=n_scales, n_orientations=n_orientations
    )


def ps_crop(pixels: torch.Tensor, n_scales: int) -> torch.Tensor:
    """(1, H, W) centre-cropped to sides divisible by 2^n_scales (the pyramid's need)."""
    step = 2**n_scales
    h, w = pixels.shape[-2:]
    top, left = (h % step) // 2, (w % step) // 2
    return pixels[..., top : top + h - h % step, left : left + w - w % step]


@torch.no_grad()
def ps_statistics(gray: torch.Tensor, n_scales: int, n_orientations: int = 4) -> torch.Tensor:
    """The P–S statistics of a (1, H, W) grey image (sides divisible by 2^n_scales), as
    plenoptic's (1, 1, K) representation; K depends only on the scales and orientations."""
    h, w = gray.shape[-2:]
    return ps_model(h, w, n_scales, n_orientations)(gray[None].float())
