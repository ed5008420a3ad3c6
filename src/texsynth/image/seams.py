"""``tile``'s fill: a photograph made to wrap around by two minimum-error seams per axis.

An image ``A`` does not wrap: its left and right edges do not meet. ``B``, the image rolled
by about half its width, does (its own break is in the middle); of the rolls tried, the one
whose seams cost least (on a lattice, a period, so that ``A`` and ``B`` agree). So the
output is ``A`` in the middle and ``B`` near the left and right edges, switching from one
to the other along a seam in each side's band: a top-to-bottom path, chosen by dynamic
programming, where ``A`` and ``B`` agree best (the minimum error boundary cut of Efros &
Freeman 2001, "Image quilting", with the seam cost of Kwatra et al. 2003). The same is then
done down the columns of the result. Every output pixel is a pixel of the image, the middle
(outside the band) is the image unchanged, and the output has the image's size, whatever
it is.

Each seam is a closed path around the cylinder the other axis already wraps on, so it meets
itself across the wrap.
"""

from __future__ import annotations

import numpy as np
import torch

# A closed seam is searched from at most this many start positions across the band, and
# the rolled copy is tried at most at this many offsets.
SEAM_STARTS = 16
SEAM_OFFSETS = 48


def wrapped_by_seams(
    pixels: torch.Tensor, band: int, places: torch.Tensor | None = None
) -> torch.Tensor:
    """(C, H, W) ``pixels`` that wrap around in both directions, unchanged outside a
    ``band`` px frame along the edges (``band`` below half of each side). ``places``
    (2, H, W: each pixel's own row and column), if given, is moved with the pixels in
    place, so that it ends holding where each output pixel was taken from."""
    across = _wrapped_columns(pixels, band, places)
    turned = None if places is None else places.transpose(1, 2).clone()
    out = _wrapped_columns(across.transpose(1, 2), band, turned).transpose(1, 2)
    if places is not None and turned is not None:
        places.copy_(turned.transpose(1, 2))
    return out


def _wrapped_columns(
    pixels: torch.Tensor, band: int, places: torch.Tensor | None = None
) -> torch.Tensor:
    """``pixels`` whose left and right edges meet: ``B`` (rolled by the offset whose seams
    cost least, half the width among them; on a lattice, a period) left of a seam in the
    left band and right of one in the right band, ``pixels`` between."""
    width = pixels.shape[2]
    best = None
    for offset in _offsets(width, band):
        rolled = pixels.roll(-offset, 2)
        error = ((pixels.double() - rolled.double()) ** 2).sum(0).sqrt().numpy()  # (H, W)
        # A cut between columns x - 1 and x costs the error on both of its sides.
        left, left_cost = closed_seam(error[:, 0:band] + error[:, 1 : band + 1])  # x = 1 … band
        right, right_cost = closed_seam(
            error[:, width - band - 1 : width - 1] + error[:, width - band :]
        )
        if best is None or left_cost + right_cost < best[0]:
            best = (left_cost + right_cost, offset, left, right)
    _, offset, left, right = best  # type: ignore[misc]
    rolled = pixels.roll(-offset, 2)
    columns = np.arange(width)[None]
    take_rolled = (columns < (left[:, None] + 1)) | (columns >= (right[:, None] + width - band))
    take = torch.from_numpy(take_rolled)[None]
    if places is not None:
        places.copy_(torch.where(take, places.roll(-offset, 2), places))
    return torch.where(take, rolled, pixels)


def _offsets(width: int, band: int) -> list[int]:
    """The rolls ``B`` may take: its own break (at ``width - offset``) must fall in the kept
    middle, so ``band < offset <= width - band``; at most ``SEAM_OFFSETS`` of them, evenly
    spread, half the width always among them."""
    valid = np.arange(band + 1, width - band + 1)
    chosen = np.unique(np.linspace(0, len(valid) - 1, min(len(valid), SEAM_OFFSETS)).round())
    return sorted({width // 2, *(int(valid[int(i)]) for i in chosen)})


def closed_seam(cost: np.ndarray) -> tuple[np.ndarray, float]:
    """(H,) positions in ``cost``'s (H, K) columns, and their summed cost: the path of least
    cost from the first row to the last, moving at most one position per row, whose last
    position is at most one from its first (so it closes across the wrap)."""
    height, k = cost.shape
    starts = np.unique(np.linspace(0, k - 1, min(k, SEAM_STARTS)).round().astype(int))
    total = np.full((len(starts), k), np.inf)
    total[np.arange(len(starts)), starts] = cost[0, starts]
    steps = np.zeros((height, len(starts), k), dtype=np.int8)  # -1, 0, 1: where from
    for row in range(1, height):
        padded = np.pad(total, ((0, 0), (1, 1)), constant_values=np.inf)
        choices = np.stack([padded[:, :-2], padded[:, 1:-1], padded[:, 2:]])  # from k-1, k, k+1
        pick = choices.argmin(0)
        total = np.take_along_axis(choices, pick[None], 0)[0] + cost[row]
        steps[row] = pick - 1
    reach = np.abs(np.arange(k)[None] - starts[:, None]) <= 1
    closing = np.where(reach, total, np.inf)
    start, end = np.unravel_index(int(closing.argmin()), closing.shape)
    path = np.empty(height, dtype=int)
    path[-1] = end
    for row in range(height - 1, 0, -1):
        path[row - 1] = path[row] + steps[row, start, path[row]]
    return path, float(closing[start, end])


__all__ = ["closed_seam", "wrapped_by_seams"]
