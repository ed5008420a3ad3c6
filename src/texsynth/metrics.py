"""How close an image's texture statistics are to a target's, on any texture model.

The synthesis loss is the wrong yardstick for comparing models: each model's loss has its
own scale (a random network's Gram entries can be 10⁶ times a normalised one's) and a model
always looks good by its own measure. The relative Gram error is scale-free, and evaluating
one model's synthesis with *another* model (a held-out judge) shows whether it captured
what that model sees.
"""

from __future__ import annotations

import torch

from .losses import random_unit_vectors, resample_sorted
from .statistics import TextureStatistics, gram_matrix
from .texture_model import TextureModel


@torch.no_grad()
def relative_gram_errors(
    model: TextureModel, image: torch.Tensor, target: TextureStatistics
) -> dict[str, float]:
    """‖Ĝ_l − G_l‖_F / ‖G_l‖_F per layer of ``model`` for one (C, H, W) image in [0, 1]."""
    feats = model.features(image.unsqueeze(0).to(model.device))
    out = {}
    for name in model.layers:
        g_target = target.grams[name].to(model.device).double()
        g = gram_matrix(feats[name].double())[0]
        out[name] = float(torch.linalg.norm(g - g_target) / torch.linalg.norm(g_target))
    return out


def relative_gram_error(
    model: TextureModel, image: torch.Tensor, target: TextureStatistics
) -> float:
    """Mean over layers of :func:`relative_gram_errors` (0 = identical statistics)."""
    errors = relative_gram_errors(model, image, target)
    return sum(errors.values()) / len(errors)


# Number of random projection directions of the sliced Wasserstein metric, per layer.
SWD_DIRECTIONS = 128


def _quantiles(values: torch.Tensor, n: int) -> torch.Tensor:
    """``n`` evenly spaced quantiles of each row of (D, M) ``values`` (sizes may differ)."""
    return resample_sorted(values.sort(dim=1)[0], n)


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, directions: torch.Tensor) -> torch.Tensor:
    """Sliced 2-Wasserstein distance between the columns of (N, Ma) ``a`` and (N, Mb) ``b``.

    Both point clouds are projected on the rows of (D, N) unit ``directions``; the 1-D
    distributions are compared by their quantile functions (so Ma ≠ Mb is fine).
    """
    pa, pb = directions @ a, directions @ b
    n = max(pa.shape[1], pb.shape[1])
    return ((_quantiles(pa, n) - _quantiles(pb, n)) ** 2).mean().sqrt()


@torch.no_grad()
def feature_swd(
    model: TextureModel,
    source: torch.Tensor,
    synth: torch.Tensor,
    directions: int = SWD_DIRECTIONS,
    seed: int = 0,
) -> dict[str, float]:
    """Sliced Wasserstein distance between the feature distributions of two images per layer.

    Relative: divided by the spread (RMS deviation from the mean) of the source's projected
    features, so layers and networks of any scale compare. Fixed ``seed`` → same directions.
    """
    fa = model.features(source.unsqueeze(0).to(model.device))
    fb = model.features(synth.unsqueeze(0).to(model.device))
    out = {}
    for i, name in enumerate(model.layers):
        a = fa[name][0].flatten(1).double()
        b = fb[name][0].flatten(1).double()
        gen = torch.Generator().manual_seed(seed + i)
        dirs = random_unit_vectors(directions, a.shape[0], gen, torch.float64).to(a.device)
        proj = dirs @ a
        spread = (proj - proj.mean(1, keepdim=True)).pow(2).mean().sqrt().clamp_min(1e-12)
        out[name] = float(sliced_wasserstein(a, b, dirs) / spread)
    return out


def color_distance(source: torch.Tensor, synth: torch.Tensor) -> float:
    """Mean over channels of the 1-D Wasserstein distance between pixel values (0 … 1).

    Grey against colour compares luminance-free channel by channel after replicating grey.
    """
    a, b = _same_channels(source, synth)
    n = max(a.shape[1] * a.shape[2], b.shape[1] * b.shape[2])
    qa = _quantiles(a.flatten(1).double(), n)
    qb = _quantiles(b.flatten(1).double(), n)
    return float((qa - qb).abs().mean())


def _same_channels(a: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if a.shape[0] != b.shape[0]:
        a, b = a.expand(3, -1, -1), b.expand(3, -1, -1)
    return a, b


SPECTRUM_BINS = 32


def radial_power_spectrum(image: torch.Tensor, bins: int = SPECTRUM_BINS) -> torch.Tensor:
    """log10 of the radially averaged power spectrum of the luminance, in ``bins`` bands of
    frequency from 0 to 0.5 cycles/px (size-independent), Hann-windowed, mean removed."""
    gray = image.double().mean(0) if image.shape[0] > 1 else image[0].double()
    h, w = gray.shape
    window = torch.outer(
        torch.hann_window(h, periodic=False, dtype=torch.float64),
        torch.hann_window(w, periodic=False, dtype=torch.float64),
    )
    x = (gray - gray.mean()) * window
    power = torch.fft.fft2(x).abs() ** 2 / (window**2).sum()
    fy = torch.fft.fftfreq(h, dtype=torch.float64).abs().view(-1, 1)
    fx = torch.fft.fftfreq(w, dtype=torch.float64).abs().view(1, -1)
    radius = (fx**2 + fy**2).sqrt()
    band = (radius / 0.5 * bins).long()
    keep = (band >= 1) & (band < bins)  # drop DC and the corners beyond Nyquist
    sums = torch.zeros(bins, dtype=torch.float64).index_add_(0, band[keep], power[keep])
    counts = torch.zeros(bins, dtype=torch.float64).index_add_(
        0, band[keep], torch.ones_like(power[keep])
    )
    mean = sums[1:] / counts[1:].clamp_min(1)
    return torch.log10(mean.clamp_min(1e-20))


def spectrum_distance(source: torch.Tensor, synth: torch.Tensor) -> float:
    """Mean absolute difference of the log10 radial power spectra (decades)."""
    return float((radial_power_spectrum(source) - radial_power_spectrum(synth)).abs().mean())


def evaluate(
    source: torch.Tensor,
    synth: torch.Tensor,
    model: TextureModel,
    directions: int = SWD_DIRECTIONS,
    seed: int = 0,
) -> dict[str, float | dict[str, float]]:
    """All quality metrics of ``synth`` against ``source`` ((C, H, W) in [0, 1], any sizes).

    0 means identical statistics for every metric; larger is worse.
    """
    target = model.statistics(source)
    gram = relative_gram_errors(model, synth, target)
    swd = feature_swd(model, source, synth, directions, seed)
    return {
        "gram": sum(gram.values()) / len(gram),
        "swd": sum(swd.values()) / len(swd),
        "color": color_distance(source, synth),
        "spectrum": spectrum_distance(source, synth),
        "gram_per_layer": gram,
        "swd_per_layer": swd,
    }
