"""Places of a synthesis: for each output pixel, the source pixel whose patch is most like
the output's patch around it (the maps of a material are then read there,
:mod:`texsynth.image.material`).

Patches (``PLACE_PATCH`` px square) are compared in their first ``PLACE_COMPONENTS``
principal components. Comparing every output patch with every source patch costs 18 s at
256² and five minutes at 512² on two cores (measured), so the search is PatchMatch's
(Barnes et al. 2009, "PatchMatch"): each pixel starts from the best of a sparse grid of
source patches (an exact search over every g-th patch, g chosen so that the grid holds at
most ``PLACE_CANDIDATES``), then, for ``PLACE_SWEEPS`` sweeps, takes its neighbours'
matches moved by one pixel where they fit better (coherent copies spread) and tries
matches at random around its own, in a window that halves from g px down to one. Random
draws come from a fixed seed: the same images give the same places.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

PLACE_PATCH = 7
PLACE_COMPONENTS = 24
# The sparse grid holds at most this many source patches (every 2nd at 128², every 4th at
# 256², every 8th at 512²), so that its exact search costs the same per output pixel at
# any size; PLACE_SWEEPS of propagation and random search refine it (six: twelve changed
# nothing more in the measures of docs/materials.md).
PLACE_CANDIDATES = 4096
PLACE_SWEEPS = 6
PLACE_BLOCK = 64  # queries compared with the grid at once: their distances stay in cache


def nearest_places(output: torch.Tensor, source: torch.Tensor, wrap: bool = False) -> torch.Tensor:
    """(2, H, W): for each pixel of ``output`` (C, H, W), the (row, column) of the centre
    of the ``source`` patch most like the output's patch around it. ``wrap``: the output
    tiles, so its patches wrap around."""
    queries, keys = _patch_components(output, source, wrap)
    step = max(1, math.ceil(math.sqrt(keys.shape[0] * keys.shape[1] / PLACE_CANDIDATES)))
    rows, cols = _grid_matches(queries, keys, step)
    generator = torch.Generator().manual_seed(0)
    best = _distance(queries, keys, rows, cols)
    for sweep in range(PLACE_SWEEPS):
        way = 1 if sweep % 2 == 0 else -1  # alternate the direction matches spread in
        for dy, dx in ((0, way), (way, 0)):
            moved = (rows.roll(dy, 0) + dy, cols.roll(dx, 1) + dx)
            rows, cols, best = _better(queries, keys, (rows, cols), moved, best)
        radius = step
        while radius >= 1:
            jitter = torch.randint(-radius, radius + 1, (2, *rows.shape), generator=generator)
            rows, cols, best = _better(
                queries, keys, (rows, cols), (rows + jitter[0], cols + jitter[1]), best
            )
            radius //= 2
    pad = PLACE_PATCH // 2
    return torch.stack([rows + pad, cols + pad]).float()


def _patch_components(
    output: torch.Tensor, source: torch.Tensor, wrap: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """(H, W, D) output patches around every pixel and (H', W', D) source patches at the
    valid centres, in the source patches' first principal components."""
    side, pad = PLACE_PATCH, PLACE_PATCH // 2
    padded = F.pad(output[None], (pad,) * 4, mode="circular" if wrap else "reflect")
    queries = F.unfold(padded, side)[0].T
    keys = F.unfold(source[None], side)[0].T
    mean = keys.mean(0)
    centred = keys - mean
    _, vectors = torch.linalg.eigh(centred.T @ centred)  # deterministic, unlike pca_lowrank
    basis = vectors[:, -min(PLACE_COMPONENTS, keys.shape[1]) :]
    valid = (source.shape[1] - side + 1, source.shape[2] - side + 1)
    return ((queries - mean) @ basis).view(*output.shape[1:], -1), (centred @ basis).view(
        *valid, -1
    )


def _grid_matches(
    queries: torch.Tensor, keys: torch.Tensor, step: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each output pixel's nearest among every ``step``-th source patch (exact)."""
    grid = keys[::step, ::step]
    flat, candidates = queries.reshape(-1, queries.shape[2]), grid.reshape(-1, grid.shape[2])
    norms = (candidates**2).sum(1)
    found = torch.empty(flat.shape[0], dtype=torch.long)
    for start in range(0, flat.shape[0], PLACE_BLOCK):
        block = flat[start : start + PLACE_BLOCK]
        found[start : start + PLACE_BLOCK] = torch.addmm(
            norms, block, candidates.T, alpha=-2
        ).argmin(1)
    rows, cols = found // grid.shape[1] * step, found % grid.shape[1] * step
    return rows.view(queries.shape[:2]), cols.view(queries.shape[:2])


def _distance(
    queries: torch.Tensor, keys: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor
) -> torch.Tensor:
    return ((queries - keys[rows, cols]) ** 2).sum(2)


def _better(
    queries: torch.Tensor,
    keys: torch.Tensor,
    current: tuple[torch.Tensor, torch.Tensor],
    tried: tuple[torch.Tensor, torch.Tensor],
    best: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The tried matches (clamped to the source's valid centres) where they fit better."""
    rows = tried[0].clamp(0, keys.shape[0] - 1)
    cols = tried[1].clamp(0, keys.shape[1] - 1)
    distance = _distance(queries, keys, rows, cols)
    wins = distance < best
    return (
        torch.where(wins, rows, current[0]),
        torch.where(wins, cols, current[1]),
        torch.where(wins, distance, best),
    )


__all__ = ["PLACE_COMPONENTS", "PLACE_PATCH", "nearest_places"]
