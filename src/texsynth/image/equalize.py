"""Equalising the low-level statistics of a set of images, after the SHINE toolbox
(Willenbockel et al. 2010): mean luminance and RMS contrast, exact histograms, amplitude
spectra, so that such differences cannot explain an experiment's result.

Every function takes the set's luminance as one (N, H, W) float64 stack in [0, 1] and a
(H, W) boolean ``region`` (the pixels measured and changed; all of them without a mask),
and returns the new stack; pixels outside the region are returned as they were.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import uniform_filter

LEVELS = 256  # histograms are of 8-bit levels, as an image file holds them


def match_luminance(stack: torch.Tensor, region: torch.Tensor, rounds: int = 100) -> torch.Tensor:
    """Each image's mean and standard deviation over the region set to the set's averages.

    A linear map per image does it at once, but the values it pushes past 0 or 1 are
    clipped, which lowers that image's contrast and moves its mean; so the map is applied
    again to the clipped image, with the same targets, until every mean and deviation is
    within 1e-5 of them (or ``rounds`` pass: targets the range cannot hold)."""
    inside = stack[:, region]
    mean_goal = inside.mean(1).mean()
    std_goal = inside.std(1, correction=0).mean()
    for _ in range(rounds):
        means, stds = inside.mean(1), inside.std(1, correction=0)
        off = torch.maximum((means - mean_goal).abs(), (stds - std_goal).abs()).max()
        if off < 1e-5:
            break
        scale = torch.where(stds > 0, std_goal / stds.clamp_min(1e-12), torch.ones_like(stds))
        inside = ((inside - means[:, None]) * scale[:, None] + mean_goal).clamp(0, 1)
    out = stack.clone()
    out[:, region] = inside
    return out


def histograms(stack: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """(N, LEVELS) normalised histograms of each image's 8-bit levels in the region."""
    levels = _levels(stack[:, region])
    counts = torch.stack([torch.bincount(row, minlength=LEVELS) for row in levels])
    return counts.double() / levels.shape[1]


def match_histograms(stack: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Exact histogram specification to the set's average histogram: each image's region
    pixels are ranked and the k-th gets the k-th value of the target, so that every image
    ends with the same counts per 8-bit level. Ties are ranked by the 3×3 local mean
    (Coltuc, Bolon & Chassery 2006, as SHINE does) and then by position."""
    count = int(region.sum())
    target = _target_levels(histograms(stack, region).mean(0), count)
    out = stack.clone()
    for i, image in enumerate(stack):
        local = torch.from_numpy(uniform_filter(image.numpy(), size=3, mode="reflect"))
        values, tiebreak = image[region].numpy(), local[region].numpy()
        order = np.lexsort((tiebreak, values))  # by value, then by local mean
        matched = np.empty(count)
        matched[order] = target
        out[i][region] = torch.from_numpy(matched)
    return out


def match_spectra(stack: torch.Tensor, region: torch.Tensor) -> torch.Tensor:
    """Each image's amplitude spectrum set to the set's average, its own phases kept. The
    spectrum is of the whole image (a region has none of its own); pixels outside the
    region are then put back as they were."""
    spectra = torch.fft.fft2(stack)
    average = spectra.abs().mean(0)
    out = torch.fft.ifft2(torch.polar(average.expand_as(stack), spectra.angle())).real
    return torch.where(region, out, stack)


def amplitude_spectra(stack: torch.Tensor) -> torch.Tensor:
    """(N, H, W) amplitude spectra (mean removed, so they compare structure, not level)."""
    return torch.fft.fft2(stack - stack.mean(dim=(1, 2), keepdim=True)).abs()


STEPS = {"luminance": match_luminance, "histogram": match_histograms, "spectrum": match_spectra}


def equalize(stack: torch.Tensor, region: torch.Tensor, steps: list[str]) -> torch.Tensor:
    """``steps`` (names of :data:`STEPS`) applied in order; the result clipped to [0, 1]
    only where a step left it (the histogram step never does)."""
    for name in steps:
        stack = STEPS[name](stack, region)
    return stack.clamp(0, 1)


def _levels(values: torch.Tensor) -> torch.Tensor:
    return (values.clamp(0, 1) * (LEVELS - 1)).round().long()


def _target_levels(histogram: torch.Tensor, count: int) -> np.ndarray:
    """``count`` sorted values (8-bit levels in [0, 1]) whose histogram is ``histogram``,
    the counts rounded so that they sum to ``count`` (largest remainders first)."""
    wanted = histogram.numpy() * count
    counts = np.floor(wanted).astype(np.int64)
    short = count - int(counts.sum())
    counts[np.argsort(-(wanted - counts), kind="stable")[:short]] += 1
    return np.repeat(np.arange(LEVELS) / (LEVELS - 1), counts)
