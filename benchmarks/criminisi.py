"""A plain reference implementation of exemplar-based inpainting (Criminisi, Pérez & Toyama
2004, "Region filling and object removal by exemplar-based image inpainting"), the
patch-copying baseline of ``benchmarks/edit.py``. Not part of texsynth.

The fill front is filled patch by patch, the patch of highest priority first: confidence
(how much of the patch is known, and how surely) times the data term (how strongly an
isophote, a line of equal brightness, flows into the front). Each patch's unknown pixels
are copied from the fully known source patch of least squared difference over its known
pixels.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage

PATCH = 9


def inpaint(image: np.ndarray, hole: np.ndarray, patch: int = PATCH) -> np.ndarray:
    """(H, W, 3) float ``image`` with its (H, W) boolean ``hole`` filled."""
    image, hole = image.astype(np.float32).copy(), hole.copy()
    r = patch // 2
    windows = sliding_window_view(image, (patch, patch), axis=(0, 1))  # (Y, X, 3, p, p)
    usable = ~ndimage.binary_dilation(hole, np.ones((patch, patch)))[r:-r, r:-r]
    ys, xs = np.nonzero(usable)
    candidates = windows[ys, xs].reshape(len(ys), -1)  # (N, 3 p²)
    squares = candidates**2
    confidence = (~hole).astype(np.float32)
    grey = image.mean(2)
    while hole.any():
        front = hole & ndimage.binary_dilation(~hole)
        fy, fx = np.nonzero(front)
        priority = _priority(confidence, hole, grey, fy, fx, r)
        y, x = fy[priority.argmax()], fx[priority.argmax()]
        y, x = (
            int(np.clip(y, r, image.shape[0] - r - 1)),
            int(np.clip(x, r, image.shape[1] - r - 1)),
        )
        box = (slice(y - r, y + r + 1), slice(x - r, x + r + 1))
        known = np.repeat((~hole[box])[None], 3, 0).reshape(-1).astype(np.float32)
        target = image[box].transpose(2, 0, 1).reshape(-1)
        ssd = squares @ known - 2 * candidates @ (known * target)
        best = candidates[ssd.argmin()].reshape(3, patch, patch).transpose(1, 2, 0)
        missing = hole[box]
        image[box][missing] = best[missing]
        confidence[box][missing] = confidence[box][~missing].mean() if (~missing).any() else 0
        hole[box] = False
        grey[box] = image[box].mean(2)
    return image


def _priority(
    confidence: np.ndarray,
    hole: np.ndarray,
    grey: np.ndarray,
    fy: np.ndarray,
    fx: np.ndarray,
    r: int,
) -> np.ndarray:
    """Confidence × data term at the front pixels (fy, fx)."""
    mean_confidence = ndimage.uniform_filter(confidence, 2 * r + 1)[fy, fx]
    known_grey = np.where(hole, ndimage.grey_dilation(grey, size=3), grey)
    gy, gx = np.gradient(known_grey)
    ny, nx = np.gradient(hole.astype(np.float32))
    norm = np.hypot(ny, nx) + 1e-8
    # The isophote is the gradient turned by 90 degrees; the data term is its flow across
    # the front's normal.
    data = np.abs(-gy[fy, fx] * nx[fy, fx] / norm[fy, fx] + gx[fy, fx] * ny[fy, fx] / norm[fy, fx])
    return mean_confidence * (data + 1e-3)
