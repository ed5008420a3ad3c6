"""Colour control: synthesise luminance only and take the colours from the source.

Gram statistics of the three colour channels let colours drift into combinations the source
never shows. With ``preserve_colors`` the texture is synthesised on the luminance alone and
coloured afterwards: every output pixel gets the mean chroma that source pixels of the same
luminance have (the conditional mean from the joint luminance–chroma histogram), so each
brightness keeps its colour.
"""

from __future__ import annotations

import torch

# YIQ (NTSC): Y is the luminance, I and Q the chroma.
_RGB_TO_YIQ = torch.tensor(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]]
)


def rgb_to_yiq(pixels: torch.Tensor) -> torch.Tensor:
    """(3, H, W) RGB in [0, 1] → (3, H, W) YIQ."""
    return torch.einsum("ij,jhw->ihw", _RGB_TO_YIQ.to(pixels), pixels)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    return torch.einsum("ij,jhw->ihw", torch.linalg.inv(_RGB_TO_YIQ).to(yiq), yiq)


def luminance(pixels: torch.Tensor) -> torch.Tensor:
    """(C, H, W) → (1, H, W) luminance (grey input is returned as is)."""
    return pixels if pixels.shape[0] == 1 else rgb_to_yiq(pixels)[:1]


def colorize(lum: torch.Tensor, source: torch.Tensor, bins: int = 64) -> torch.Tensor:
    """Colour a (1, H, W) luminance image with the source's chroma for each luminance.

    The source's mean I and Q are tabulated in ``bins`` luminance bins (empty bins take the
    nearest filled one) and read off with linear interpolation; the result is clipped to
    [0, 1]. A grey source gives a grey (1, H, W) result.
    """
    if source.shape[0] == 1:
        return lum.clamp(0, 1)
    yiq = rgb_to_yiq(source.double()).flatten(1)
    idx = (yiq[0].clamp(0, 1) * (bins - 1)).round().long()
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(0, idx, torch.ones_like(yiq[0]))
    table = torch.zeros(2, bins, dtype=torch.float64)
    for c in (0, 1):
        table[c].index_add_(0, idx, yiq[c + 1])
    filled = counts > 0
    table[:, filled] /= counts[filled]
    # Empty bins copy the nearest filled bin.
    centres = torch.arange(bins, dtype=torch.float64)
    nearest = (centres[:, None] - centres[filled][None, :]).abs().argmin(1)
    table = table[:, filled][:, nearest]
    pos = lum[0].double().clamp(0, 1) * (bins - 1)
    lo = pos.floor().long().clamp(max=bins - 1)
    hi = (lo + 1).clamp(max=bins - 1)
    frac = pos - lo
    chroma = table[:, lo] * (1 - frac) + table[:, hi] * frac
    out = yiq_to_rgb(torch.cat([lum.double(), chroma], dim=0))
    return out.clamp(0, 1).to(lum.dtype)
