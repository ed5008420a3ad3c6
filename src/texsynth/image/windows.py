"""Pooling windows whose size grows with eccentricity (Freeman & Simoncelli 2011,
"Metamers of the ventral stream"): they tile the image in log-polar coordinates around a
fixation point, and a metamer matches the texture statistics inside each of them.

Rings are spaced by the scaling S in log-eccentricity and sectors by about S radians, so a
window at eccentricity e is about S·e wide both ways. Neighbouring windows overlap with
raised-cosine (cos²) profiles that sum to one: every pixel outside the fovea belongs to the
windows with weights that add up to 1. The fovea, a disc of radius
:data:`MIN_WINDOW_PX` / S around the fixation, is the region where the windows would be
too small for the network to measure (the first ring is :data:`MIN_WINDOW_PX` wide); it is
kept as in the image.

Windows are built one at a time and stored sparsely, as the positions they cover and their
weights at each resolution asked for, so no full-size map per window is kept.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..core.errors import SizeError

# The narrowest window, in pixels: two positions of VGG's pool4 (16 px apart).
MIN_WINDOW_PX = 32


@dataclass(frozen=True)
class SparseWindows:
    """Windows at one resolution: window ``k`` covers the flat positions
    ``index[start[k]:start[k + 1]]`` with ``weight`` there."""

    index: torch.Tensor  # (nnz,) int64 positions in the (height × width) grid
    weight: torch.Tensor  # (nnz,) float32
    start: torch.Tensor  # (count + 1,) int64
    height: int
    width: int

    def of(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = int(self.start[k]), int(self.start[k + 1])
        return self.index[a:b], self.weight[a:b]

    def masses(self) -> torch.Tensor:
        """(count,) float64: each window's mass Σ_x w(x)."""
        counts = self.start.diff()
        owner = torch.repeat_interleave(torch.arange(counts.numel()), counts)
        mass = torch.zeros(counts.numel(), dtype=torch.float64)
        return mass.index_add_(0, owner, self.weight.double())

    @property
    def nbytes(self) -> int:
        return self.index.numel() * 8 + self.weight.numel() * 4 + self.start.numel() * 8


@dataclass(frozen=True)
class PoolingWindows:
    """The windows of a ``width``×``height`` image at ``scaling``, around ``fixation`` (x, y)."""

    width: int
    height: int
    scaling: float
    fixation: tuple[float, float]

    def __post_init__(self) -> None:
        x, y = self.fixation
        if not (0 <= x < self.width and 0 <= y < self.height):
            raise SizeError(
                f"the fixation point {x:g},{y:g} lies outside the {self.width}x{self.height} image"
            )
        if self.scaling <= 0:
            raise SizeError(f"the scaling must be > 0, not {self.scaling:g}")
        if self.fovea_radius >= self.max_eccentricity:
            raise SizeError(
                f"scaling {self.scaling:g} is too small for a {self.width}x{self.height} image: "
                f"windows {MIN_WINDOW_PX} px wide, the narrowest the network measures, start "
                f"{self.fovea_radius:.0f} px from the fixation, beyond the farthest pixel "
                f"({self.max_eccentricity:.0f} px); use a scaling of at least "
                f"{MIN_WINDOW_PX / self.max_eccentricity * 1.01:.2f}"
            )

    @property
    def fovea_radius(self) -> float:
        return MIN_WINDOW_PX / self.scaling

    @property
    def max_eccentricity(self) -> float:
        x, y = self.fixation
        corners = [(0, 0), (self.width, 0), (0, self.height), (self.width, self.height)]
        return max(math.hypot(cx - x, cy - y) for cx, cy in corners)

    @property
    def rings(self) -> int:
        span = math.log(self.max_eccentricity / self.fovea_radius)
        return max(1, math.ceil(span / self.scaling)) + 1

    @property
    def sectors(self) -> int:
        return max(1, round(2 * math.pi / self.scaling))

    @property
    def count(self) -> int:
        return self.rings * self.sectors

    def _polar(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Each pixel centre's log-eccentricity and angle."""
        x0, y0 = self.fixation
        ys = torch.arange(self.height, dtype=torch.float64) + 0.5 - y0
        xs = torch.arange(self.width, dtype=torch.float64) + 0.5 - x0
        dy, dx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.hypot(dx, dy).clamp_min(1e-9).log(), torch.atan2(dy, dx)

    def fovea(self) -> torch.Tensor:
        """(H, W) bool: the pixels nearer the fixation than the first ring."""
        log_e, _ = self._polar()
        return log_e < math.log(self.fovea_radius)

    def eccentricities(self) -> list[float]:
        """Each window's centre eccentricity in px (windows ordered ring by ring)."""
        return [
            self.fovea_radius * math.exp(r * self.scaling)
            for r in range(self.rings)
            for _ in range(self.sectors)
        ]

    def dense(self, k: int) -> torch.Tensor:
        """(H, W) weights of window ``k`` at full size (zero in the fovea)."""
        log_e, angle = self._polar()
        ring, sector = divmod(k, self.sectors)
        return _ring(log_e, ring, self.rings, math.log(self.fovea_radius), self.scaling) * (
            _sector(angle, sector, self.sectors)
        )

    def at(self, factor: int) -> SparseWindows:
        """The windows averaged over ``factor``×``factor`` blocks: their weights on the grid of
        a network layer that far down (sizes floored, as the network's pooling does)."""
        log_e, angle = self._polar()
        u0 = math.log(self.fovea_radius)
        rings = [_ring(log_e, r, self.rings, u0, self.scaling) for r in range(self.rings)]
        sectors = [_sector(angle, s, self.sectors) for s in range(self.sectors)]
        index, weight, start = [], [], [0]
        for ring in rings:
            for sector in sectors:
                w = ring * sector
                if factor > 1:
                    w = F.avg_pool2d(w[None, None], factor)[0, 0]
                flat = w.flatten()
                nonzero = (flat > 1e-6).nonzero().flatten()
                index.append(nonzero)
                weight.append(flat[nonzero].float())
                start.append(start[-1] + nonzero.numel())
        h, w = self.height // factor, self.width // factor
        return SparseWindows(torch.cat(index), torch.cat(weight), torch.tensor(start), h, w)


def _ring(log_e: torch.Tensor, k: int, count: int, u0: float, step: float) -> torch.Tensor:
    """Ring ``k``'s cos² profile in log-eccentricity (centres u0 + k·step); the last ring
    stays at 1 outwards, and nothing reaches into the fovea."""
    t = (log_e - (u0 + k * step)) / step
    if k == count - 1:
        t = t.clamp(max=0)
    profile = torch.cos(0.5 * math.pi * t.clamp(-1, 1)) ** 2
    return torch.where(log_e < u0, torch.zeros_like(profile), profile)


def _sector(angle: torch.Tensor, k: int, count: int) -> torch.Tensor:
    """Sector ``k``'s cos² profile in angle, wrapping around."""
    if count == 1:
        return torch.ones_like(angle)
    step = 2 * math.pi / count
    offset = torch.remainder(angle - (k * step - math.pi) + math.pi, 2 * math.pi) - math.pi
    return torch.cos(0.5 * math.pi * (offset / step).clamp(-1, 1)) ** 2
