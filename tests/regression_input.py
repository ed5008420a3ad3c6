"""A test image defined by formula, so stored regression values never drift with data files."""

import torch


def pattern_image(height: int = 48, width: int = 64) -> torch.Tensor:
    y = torch.arange(height, dtype=torch.float64).view(-1, 1)
    x = torch.arange(width, dtype=torch.float64).view(1, -1)
    r = 0.5 + 0.4 * torch.sin(0.37 * x + 0.11 * y)
    g = 0.5 + 0.4 * torch.cos(0.23 * y - 0.05 * x * y / width)
    b = 0.5 + 0.4 * torch.sin(0.17 * (x + y)) * torch.cos(0.29 * x)
    return torch.stack([r, g, b]).float()
