"""Equalising the low-level statistics of a set of images, after the SHINE toolbox
(Willenbockel et al. 2010): mean luminance and RMS contrast, exact histograms, amplitude
spectra, so that such differences cannot explain an experiment's result.

Every function takes the set's luminance as one (N, H, W) float64 stack in [0, 1] and a
(H, W) boolean ``region`` (the pixels measured and changed; all of them without a mask),
and returns the new stack; pixels outside the region are returned as they were.

``equalize_set``: a set of images equalised as SHINE does, on their luminance so that
colour is kept, with each image's statistics before and after and its SSIM to the
original; and the files ``texsynth equalize`` writes (the images, a CSV, a plot, a
sidecar).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.ndimage import uniform_filter

from .. import __version__
from ..core.errors import ImageError, SizeError, TexsynthError
from ..core.provenance import fingerprint
from ..core.stimuli import Equalization
from ..image.color import rgb_to_yiq, yiq_to_rgb
from ..image.io import load_image, resample, to_bytes

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


MEASURES = ("mean", "contrast", "histogram_distance", "spectrum_distance")


@dataclass
class EqualizedSet:
    """The equalised images (same order and sizes as given) and the measurements."""

    names: list[str]
    images: list[torch.Tensor]  # (C, H, W) float32 in [0, 1]
    before: list[dict[str, float]]
    after: list[dict[str, float]]
    ssim: list[float]
    settings: Equalization
    inputs: list[dict[str, Any]]

    def rows(self) -> list[dict[str, Any]]:
        """One row per image: each measure before and after, and the SSIM."""
        return [
            {"image": name}
            | {f"{k}_before": b[k] for k in MEASURES}
            | {f"{k}_after": a[k] for k in MEASURES}
            | {"ssim": s}
            for name, b, a, s in zip(self.names, self.before, self.after, self.ssim, strict=True)
        ]

    def spread(self, key: str, when: str = "after") -> float:
        """(max − min) / mean of a measure over the set."""
        values = torch.tensor([row[key] for row in getattr(self, when)])
        return float((values.max() - values.min()) / values.mean().abs().clamp_min(1e-12))

    def record(self) -> dict[str, Any]:
        return {
            "texsynth_version": __version__,
            "equalize": self.settings.as_dict() | {"steps": self.settings.steps},
            "inputs": self.inputs,
            "facts": {
                "images": len(self.names),
                **{f"{k}_spread_{w}": self.spread(k, w) for k in ("mean", "contrast")
                   for w in ("before", "after")},
                "ssim_min": min(self.ssim),
                "ssim_median": sorted(self.ssim)[len(self.ssim) // 2],
            },
        }  # fmt: skip

    def csv_text(self) -> str:
        buffer = io.StringIO()
        rows = self.rows()
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: f"{v:.6g}" if isinstance(v, float) else v for k, v in r.items()}
                         for r in rows)  # fmt: skip
        return buffer.getvalue()


def equalize_set(paths: Sequence[str | os.PathLike], settings: Equalization) -> EqualizedSet:
    """Equalise the images at ``paths`` across the set by ``settings``."""
    if not settings.steps:
        raise TexsynthError("nothing to equalise: give --luminance, --histogram or --spectrum")
    if len(paths) < 2:
        raise TexsynthError(f"equalising needs at least 2 images, not {len(paths)}")
    pixels = _read_set(paths, settings.resize)
    region = _region(settings.mask, pixels[0].shape[1:])
    yiq = [rgb_to_yiq(p.double()) if p.shape[0] == 3 else p.double() for p in pixels]
    stack = torch.stack([y[0] for y in yiq])
    done = equalize(stack, region, settings.steps)
    images = [_recoloured(y, lum) for y, lum in zip(yiq, done, strict=True)]
    final = torch.stack([_luminance(to_bytes(im).double() / 255) for im in images])
    inputs = [fingerprint(p, "image", (int(x.shape[2]), int(x.shape[1])))
              for p, x in zip(paths, pixels, strict=True)]  # fmt: skip
    return EqualizedSet(
        [Path(p).name for p in paths], images, _measures(stack, region),
        _measures(final, region), _ssim(stack, final), settings, inputs,
    )  # fmt: skip


def _read_set(paths: Sequence[str | os.PathLike], resize: bool) -> list[torch.Tensor]:
    pixels = [load_image(p).pixels for p in paths]
    if len({p.shape[0] for p in pixels}) > 1:  # grey and colour: all as colour
        pixels = [p.expand(3, -1, -1) if p.shape[0] == 1 else p for p in pixels]
    _, height, width = pixels[0].shape
    for path, p in zip(paths, pixels, strict=True):
        if p.shape[1:] != (height, width) and not resize:
            raise SizeError(
                f"{Path(path).name} is {p.shape[2]}x{p.shape[1]}, {Path(paths[0]).name} "
                f"{width}x{height}: an equalised set has one size (or give --resize)"
            )
    return [p if p.shape[1:] == (height, width) else resample(p, height, width) for p in pixels]


def _region(mask: str | None, shape: tuple[int, int]) -> torch.Tensor:
    if mask is None:
        return torch.ones(shape, dtype=torch.bool)
    m = load_image(mask, grayscale=True).pixels[0]
    if tuple(m.shape) != tuple(shape):
        raise SizeError(f"the mask is {m.shape[1]}x{m.shape[0]}, the images {shape[1]}x{shape[0]}")
    region = m >= 0.5
    if int(region.sum()) < 2:
        raise ImageError(f"the mask {mask} has no white pixels to equalise")
    return region


def _recoloured(yiq: torch.Tensor, lum: torch.Tensor) -> torch.Tensor:
    """The image with luminance ``lum`` and its own chroma where the RGB cube holds them:
    where a pixel's new luminance would push a channel past 0 or 1, its chroma is scaled
    down until it fits (grey always fits), so the luminance is exactly ``lum``."""
    if yiq.shape[0] == 1:
        return lum[None].float()
    offset = yiq_to_rgb(torch.cat([torch.zeros_like(lum)[None], yiq[1:]]))  # chroma in RGB
    room_up = torch.where(offset > 0, (1 - lum) / offset.clamp_min(1e-12), torch.inf)
    room_down = torch.where(offset < 0, lum / (-offset).clamp_min(1e-12), torch.inf)
    k = torch.minimum(room_up, room_down).amin(0).clamp(0, 1)
    return (lum + k * offset).clamp(0, 1).float()


def _luminance(pixels: torch.Tensor) -> torch.Tensor:
    return rgb_to_yiq(pixels.double())[0] if pixels.shape[0] == 3 else pixels[0].double()


def _measures(stack: torch.Tensor, region: torch.Tensor) -> list[dict[str, float]]:
    """Per image: mean luminance and RMS contrast in the region, and the distances of its
    histogram (half the L1 distance) and amplitude spectrum (relative L2) to the set's
    (after equalisation: as the 8-bit files hold them)."""
    inside = stack[:, region]
    hists = histograms(stack, region)
    spectra = amplitude_spectra(stack)
    mean_spectrum = spectra.mean(0)
    return [
        {
            "mean": float(inside[i].mean()),
            "contrast": float(inside[i].std(correction=0)),
            "histogram_distance": float(0.5 * (hists[i] - hists.mean(0)).abs().sum()),
            "spectrum_distance": float((spectra[i] - mean_spectrum).norm() / mean_spectrum.norm()),
        }
        for i in range(len(stack))
    ]


def _ssim(before: torch.Tensor, after: torch.Tensor) -> list[float]:
    from skimage.metrics import structural_similarity

    return [
        float(structural_similarity(b.numpy(), a.numpy(), data_range=1.0))
        for b, a in zip(before, after, strict=True)
    ]


def plot(result: EqualizedSet) -> bytes:
    """A PNG: each measure per image, before and after."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(MEASURES), figsize=(3.2 * len(MEASURES), 3.0))
    x = range(len(result.names))
    for ax, key in zip(axes, MEASURES, strict=True):
        ax.plot(x, [b[key] for b in result.before], "o", label="before", color="0.6")
        ax.plot(x, [a[key] for a in result.after], "o", label="after", color="C0", ms=4)
        ax.set_title(key.replace("_", " "), fontsize=10)
        ax.set_xlabel("image")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()
