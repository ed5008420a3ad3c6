"""How close an image's texture statistics are to a target's, on any texture model.

The synthesis loss is the wrong yardstick for comparing models: each model's loss has its
own scale (a random network's Gram entries can be 10⁶ times a normalised one's) and a model
always looks good by its own measure. The relative Gram error is scale-free, and evaluating
one model's synthesis with *another* model (a held-out judge) shows whether it captured
what that model sees.
"""

from __future__ import annotations

import torch

from ..image.lattice import lattice_score
from ..losses.terms import random_unit_vectors, resample_sorted
from ..statistics.gram import TextureStatistics, gram_matrix
from ..statistics.model import TextureModel
from ..statistics.portilla_simoncelli import ps_crop, ps_model, ps_scales, ps_statistics, to_gray


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


# The independent judge: white noise of the source's mean and spread, from this seed, is
# what a distance of 1 means.
PS_NOISE_SEED = 0


@torch.no_grad()
def ps_distance(source: torch.Tensor, synth: torch.Tensor) -> float:
    """Portilla–Simoncelli distance of ``synth`` from ``source`` ((C, H, W), any sizes),
    relative to white noise's: 0 is the source's statistics, 1 no better than noise.

    A judge that is not VGG: P–S statistics (plenoptic; grey, 4 orientations, as many
    scales, up to 4, as both images allow) compared by plenoptic's own P–S loss (the L2
    norm with the pixel range left out and the highpass variance weighted up). The noise
    is Gaussian with the source's mean and standard deviation, clipped to [0, 1], at the
    synthesis's size.
    """
    import plenoptic as po

    gray_source, gray_synth = to_gray(source.float().cpu()), to_gray(synth.float().cpu())
    n_scales = min(
        ps_scales(*(side - side % 16 for side in reversed(g.shape[-2:])))
        for g in (gray_source, gray_synth)
    )
    gray_source, gray_synth = ps_crop(gray_source, n_scales), ps_crop(gray_synth, n_scales)
    gen = torch.Generator().manual_seed(PS_NOISE_SEED)
    noise = torch.randn(gray_synth.shape, generator=gen) * gray_source.std() + gray_source.mean()
    target = ps_statistics(gray_source, n_scales)
    h, w = gray_synth.shape[-2:]
    loss = po.loss.portilla_simoncelli_loss_factory(ps_model(h, w, n_scales), gray_synth[None])
    made = loss(ps_statistics(gray_synth, n_scales), target)
    noisy = loss(ps_statistics(noise.clamp(0, 1), n_scales), target)
    return float(made / noisy.clamp_min(1e-12))


# The scores of evaluate(), in the order tables show them.
METRICS: tuple[str, ...] = ("gram", "swd", "color", "spectrum", "ps", "lattice", "copy")

# Copy check: patches of this side (px), taken every COPY_STRIDE px.
COPY_PATCH = 16
COPY_STRIDE = 4
# A synthesis patch is a copy when it is nearer to the source than COPY_FACTOR times the
# distance that all but COPY_QUANTILE of held-out source patches keep. A faithful new
# sample sits at about the held-out distances; a verbatim copy near zero. (Without the
# factor, a synthesis that gets a lattice right would count as copying more, only for
# resembling its source more.)
COPY_QUANTILE = 0.05
COPY_FACTOR = 0.5
# Synthesis patches flatter than this fraction of the source's patches are left out.
COPY_FLAT_QUANTILE = 0.25


def _patches(image: torch.Tensor, stride: int) -> torch.Tensor:
    """(N, C·P·P) patches of (C, H, W) ``image``."""
    unfolded = torch.nn.functional.unfold(image[None].float(), COPY_PATCH, stride=stride)
    return unfolded[0].T


def _nearest(queries: torch.Tensor, database: torch.Tensor) -> torch.Tensor:
    """Distance from each query patch to its nearest database patch, in chunks."""
    return torch.cat([torch.cdist(q, database).min(1).values for q in queries.split(1024)])


def copy_fraction(source: torch.Tensor, synth: torch.Tensor) -> float:
    """How much of ``synth`` is a near-verbatim copy of ``source``: the fraction of its
    patches that lie nearer to one half of the source than half the distance that the
    nearest 5% of the other half's patches keep (patches flatter than the source's flattest
    quarter are left out: they match anything). Measured: 0 for every synthesis of the
    peer textures (ours with and without structure terms, and the published ones), 0.85–0.9
    for a pasted crop, about 0.4 for a jumble of 32 px blocks of the source.

    The source's two halves (split along its longer side) are each other's held-out
    texture: their distances say how near a new sample of the texture comes by chance.
    """
    source, synth = _same_channels(source, synth)
    _, h, w = source.shape
    halves = (
        (source[:, :, : w // 2], source[:, :, w // 2 :])
        if w >= h
        else (source[:, : h // 2], source[:, h // 2 :])
    )
    if (
        min(min(half.shape[1:]) for half in halves) < COPY_PATCH
        or min(synth.shape[1:]) < COPY_PATCH
    ):
        raise ValueError(f"the copy check needs images of at least {COPY_PATCH} px a side")
    queries = _patches(synth, COPY_STRIDE)
    # Flat patches match anything; copying means something only where there is texture.
    flat = torch.quantile(_patches(source, COPY_STRIDE).std(dim=1), COPY_FLAT_QUANTILE)
    queries = queries[queries.std(dim=1) > flat]
    if not len(queries):
        return 0.0
    copied = torch.zeros(len(queries), dtype=torch.bool)
    for half, other in (halves, halves[::-1]):
        database = _patches(half, 2)
        chance = torch.quantile(_nearest(_patches(other, COPY_STRIDE), database), COPY_QUANTILE)
        copied |= _nearest(queries, database) < COPY_FACTOR * chance
    return float(copied.float().mean())


def wrap_seam_ratio(image: torch.Tensor) -> float:
    """How visible the seam of ``image`` (C, H, W) tiled with itself is: the mean squared
    step across the border where opposite edges meet, over the mean squared step between
    neighbours inside (about 1: no seam)."""
    inside = ((image[:, :, 1:] - image[:, :, :-1]) ** 2).mean() + (
        (image[:, 1:] - image[:, :-1]) ** 2
    ).mean()
    border = ((image[:, :, 0] - image[:, :, -1]) ** 2).mean() + (
        (image[:, 0] - image[:, -1]) ** 2
    ).mean()
    return float(border / inside)


def evaluate(
    source: torch.Tensor,
    synth: torch.Tensor,
    model: TextureModel,
    directions: int = SWD_DIRECTIONS,
    seed: int = 0,
) -> dict[str, float | dict[str, float]]:
    """All quality metrics of ``synth`` against ``source`` ((C, H, W) in [0, 1], any sizes).

    gram, swd, color, spectrum: 0 means identical statistics; larger is worse. ps: the
    Portilla–Simoncelli distance relative to white noise's (:func:`ps_distance`).
    lattice: how much of the source's lattice the synthesis keeps (1 all, 0 none; None when
    the source has no lattice). copy: the fraction of the synthesis that is a near-verbatim
    copy of the source (0: nothing copied; see :func:`copy_fraction`).
    """
    target = model.statistics(source)
    gram = relative_gram_errors(model, synth, target)
    swd = feature_swd(model, source, synth, directions, seed)
    return {
        "gram": sum(gram.values()) / len(gram),
        "swd": sum(swd.values()) / len(swd),
        "color": color_distance(source, synth),
        "spectrum": spectrum_distance(source, synth),
        "ps": ps_distance(source, synth),
        "lattice": lattice_score(source, synth),
        "copy": copy_fraction(source, synth),
        "gram_per_layer": gram,
        "swd_per_layer": swd,
    }
