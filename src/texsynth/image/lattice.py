"""Periodic structure: a texture's lattice, and how much of it a synthesis keeps.

A Gram matrix averages over positions, so it cannot tell a regular lattice from a jumble
of the same parts. The lattice shows in the luminance's autocorrelation: a periodic
texture correlates with itself shifted by a lattice vector, far beyond the size of its
parts. Here the autocorrelation is normalised by the overlap at each lag (so long lags are
not biased towards zero) and by the variance (r(0) = 1). A lag's *prominence* is its
correlation minus the mean correlation at the same distance: a lattice vector stands out
from its ring, while a texture's broad blobs or lines raise the whole ring.

- :func:`find_lattice`: the most prominent lags of a source, or ``None`` ("no lattice")
  when no lag stands out by :data:`MIN_PROMINENCE`.
- :func:`lattice_score`: the synthesis's prominence at those lags relative to the
  source's, averaged (1: the lattice is kept; 0: lost). Lags are in pixels, so the
  synthesis must be at the source's scale; its size may differ.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import ndimage

# Lags up to this fraction of the image's shorter side (enough overlap to be reliable).
MAX_LAG_FRACTION = 1 / 3
# Lags closer than this to zero are the central peak's own slope, not a lattice.
MIN_RADIUS = 4
# A lattice lag must stand out from its ring by this much (noise: < 0.05; the peer
# textures' lattices: 0.3–0.95; irregular peer textures: none above 0.2).
MIN_PROMINENCE = 0.2
# The lattice is described by at most this many of its most prominent lags.
MAX_LAGS = 6


@dataclass(frozen=True)
class Lattice:
    """A texture's lattice: lags (dy, dx) in px, one per ± pair, and their prominence."""

    lags: tuple[tuple[int, int], ...]
    prominence: tuple[float, ...]


def autocorrelation(image: torch.Tensor, max_lag: int) -> np.ndarray:
    """Normalised autocorrelation of the luminance of (C, H, W) ``image`` at lags up to
    ``max_lag`` px: a (2L+1, 2L+1) array centred on lag (0, 0), where it is 1."""
    gray = image.double().mean(0) if image.shape[0] > 1 else image[0].double()
    r = autocorrelations(gray - gray.mean(), max_lag)
    return (r / r[max_lag, max_lag].clamp_min(1e-12)).numpy()


def autocorrelations(maps: torch.Tensor, max_lag: int) -> torch.Tensor:
    """(…, H, W) maps → (…, 2L+1, 2L+1): each map's mean product with itself at every lag
    up to L = ``max_lag`` positions, centred on lag (0, 0). Zero-padded FFT, divided by the
    overlap at each lag, so nothing wraps around. (Pixels here, feature maps in the
    autocorrelation structure term: texsynth's one autocorrelation.)"""
    h, w = maps.shape[-2:]
    size = (h + max_lag, w + max_lag)

    def correlate(x: torch.Tensor) -> torch.Tensor:
        spectrum = torch.fft.rfft2(x, s=size)
        # S·S̄ rather than |S|²: the gradient of abs() is undefined where S is 0.
        return torch.fft.irfft2(spectrum * spectrum.conj(), s=size)

    overlap = correlate(torch.ones(h, w, dtype=maps.dtype, device=maps.device))
    found = correlate(maps) / overlap.round().clamp_min(1)
    found = torch.roll(found, shifts=(max_lag, max_lag), dims=(-2, -1))
    return found[..., : 2 * max_lag + 1, : 2 * max_lag + 1]


def prominence(image: torch.Tensor, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """(prominence, autocorrelation): each lag's correlation minus its ring's mean."""
    r = autocorrelation(image, max_lag)
    radius = _radii(max_lag)
    ring = np.rint(radius).astype(int)
    means = np.bincount(ring.ravel(), r.ravel()) / np.bincount(ring.ravel())
    return r - means[ring], r


def _radii(max_lag: int) -> np.ndarray:
    dy, dx = np.mgrid[-max_lag : max_lag + 1, -max_lag : max_lag + 1]
    return np.hypot(dy, dx)


def _max_lag(image: torch.Tensor) -> int:
    return int(min(image.shape[-2:]) * MAX_LAG_FRACTION)


def find_lattice(source: torch.Tensor) -> Lattice | None:
    """The source's lattice, or None when it has no clear autocorrelation peaks."""
    max_lag = _max_lag(source)
    if max_lag <= MIN_RADIUS:
        return None
    p, r = prominence(source, max_lag)
    radius = _radii(max_lag)
    dy, dx = np.mgrid[-max_lag : max_lag + 1, -max_lag : max_lag + 1]
    peaks = (
        (p == ndimage.maximum_filter(p, size=5))
        & (r == ndimage.maximum_filter(r, size=3))
        & (radius >= MIN_RADIUS)
        & (radius <= max_lag)
        & ((dy > 0) | ((dy == 0) & (dx > 0)))  # one of each ± pair
        & (p > MIN_PROMINENCE)
    )
    found = np.argwhere(peaks)
    if not len(found):
        return None
    values = p[found[:, 0], found[:, 1]]
    best = np.argsort(-values, kind="stable")[:MAX_LAGS]
    lags = tuple((int(found[i, 0]) - max_lag, int(found[i, 1]) - max_lag) for i in best)
    return Lattice(lags, tuple(float(values[i]) for i in best))


def lattice_score(source: torch.Tensor | Lattice | None, synth: torch.Tensor) -> float | None:
    """How much of the source's lattice ``synth`` keeps, 0…1; None when there is none.

    At each lattice lag, the synthesis's prominence (the best within ±1 px, for rounding)
    over the source's, clipped to [0, 1], averaged over the lags the synthesis is large
    enough to show.
    """
    lattice = source if isinstance(source, Lattice) or source is None else find_lattice(source)
    if lattice is None:
        return None
    max_lag = _max_lag(synth)
    p, _ = prominence(synth, max_lag)
    best_near = ndimage.maximum_filter(p, size=3)
    kept = [
        min(max(best_near[dy + max_lag, dx + max_lag] / ps, 0.0), 1.0)
        for (dy, dx), ps in zip(lattice.lags, lattice.prominence, strict=True)
        if max(abs(dy), abs(dx)) <= max_lag
    ]
    return float(np.mean(kept)) if kept else None
