"""Synthetic periodic textures with a known lattice, and their jumbled versions.

For tests and ``benchmarks/structure.py``: a checkerboard, a brick wall and a hexagonal
dot grid, each (3, H, W) in [0, 1] and mildly blurred (like a photograph), and
:func:`shuffled_blocks`, which keeps every part but scrambles where the parts sit, as a Gram
synthesis does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _soften(
    mask: torch.Tensor, colors: tuple[tuple[float, ...], tuple[float, ...]]
) -> torch.Tensor:
    """(H, W) mask in [0, 1] → (3, H, W) between two colours, blurred by a 3×3 binomial."""
    kernel = torch.tensor([1.0, 2.0, 1.0])
    kernel = (kernel[:, None] * kernel[None, :] / 16).view(1, 1, 3, 3)
    soft = F.conv2d(F.pad(mask[None, None], (1, 1, 1, 1), mode="replicate"), kernel)[0, 0]
    low, high = (torch.tensor(c).view(3, 1, 1) for c in colors)
    return (low + (high - low) * soft).clamp(0, 1)


def _grid(height: int, width: int) -> tuple[torch.Tensor, torch.Tensor]:
    y = torch.arange(height, dtype=torch.float32).view(-1, 1).expand(height, width)
    x = torch.arange(width, dtype=torch.float32).view(1, -1).expand(height, width)
    return y, x


def checkerboard(height: int = 128, width: int = 128, period: int = 16) -> torch.Tensor:
    y, x = _grid(height, width)
    mask = ((y // (period // 2) + x // (period // 2)) % 2).float()
    return _soften(mask, ((0.15, 0.2, 0.3), (0.9, 0.85, 0.7)))


def bricks(height: int = 128, width: int = 128, brick: tuple[int, int] = (12, 28)) -> torch.Tensor:
    """Courses of ``brick`` = (height, width) px, each course shifted by half a brick, with
    2 px mortar."""
    y, x = _grid(height, width)
    course = y // brick[0]
    shifted = x + (course % 2) * (brick[1] // 2)
    mortar = ((y % brick[0]) < 2) | ((shifted % brick[1]) < 2)
    return _soften((~mortar).float(), ((0.85, 0.85, 0.8), (0.6, 0.25, 0.15)))


def hex_dots(height: int = 128, width: int = 128, spacing: int = 14, radius: float = 4.0):
    """Dots on a hexagonal lattice: rows ``spacing`` · √3/2 apart, alternate rows shifted."""
    y, x = _grid(height, width)
    row_step = spacing * 3**0.5 / 2
    row = torch.round(y / row_step)
    cy = row * row_step
    cx = torch.round((x - (row % 2) * spacing / 2) / spacing) * spacing + (row % 2) * spacing / 2
    dots = ((y - cy) ** 2 + (x - cx) ** 2) <= radius**2
    return _soften(dots.float(), ((0.1, 0.3, 0.2), (0.95, 0.9, 0.5)))


def shuffled_blocks(image: torch.Tensor, block: int, seed: int = 0) -> torch.Tensor:
    """``image`` cut into ``block``-px squares, put back in a random order."""
    c, h, w = image.shape
    rows, cols = h // block, w // block
    tiles = image[:, : rows * block, : cols * block].reshape(c, rows, block, cols, block)
    tiles = tiles.permute(1, 3, 0, 2, 4).reshape(rows * cols, c, block, block)
    order = torch.randperm(rows * cols, generator=torch.Generator().manual_seed(seed))
    tiles = tiles[order].reshape(rows, cols, c, block, block).permute(2, 0, 3, 1, 4)
    return tiles.reshape(c, rows * block, cols * block)
