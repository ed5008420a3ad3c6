"""Holes filled from the image itself, one shift at a time: the start of every edit.

A texture repeats itself: some shift of the kept part looks like what is missing. Three
steps, each a function here:

1. :func:`best_shift`: the shift whose ring of kept pixels around a hole best matches the
   ring (least squared difference), among those that copy only kept pixels. On a lattice
   it is a lattice vector, so a copy continues the lattice in phase.
2. :func:`copied_fill`: the whole hole from one shift where one fits; a large hole, for
   which none does, is peeled from the sides of its bounding box inwards, a strip at a
   time. Each pixel's shift is its *label*.
3. :func:`stitched_fill`: every pixel may change its label to any shift found in 1 and 2
   or among the ring's best matches, where that lowers the seam cost (Kwatra et al. 2003,
   "Graphcut textures"; He & Sun 2012, "Statistics of patch offsets"): between two
   neighbouring pixels with different shifts, how much the two shifted images differ at
   both. Iterated conditional modes on a checkerboard lower it until nothing changes, so
   the seams between copies, and at the hole's boundary, run where the copies agree.

Copies are real detail, never a blur; :mod:`texsynth.synthesis.edit` may refine them.
Every filled pixel is a copy of a kept one: given ``places`` (2, H, W), each function moves
it with the pixels, so that it ends holding, for each pixel, the (row, column) of the kept
pixel it shows (:func:`identity_places` to start). Other maps of the same surface are then
filled from the same places (:mod:`texsynth.image.material`).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

# The best shift is searched on the canvas shrunk by this factor, with this ring (px, at
# full size) of kept pixels around the hole compared.
SHIFT_SEARCH_SHRINK = 2
SHIFT_RING = 8
# Shifts each pixel may choose among in stitched_fill (besides those of the strips), and
# the sweeps of iterated conditional modes at most.
CANDIDATE_SHIFTS = 24
STITCH_SWEEPS = 2
LOCAL_TILE = 16
Shift = tuple[int, int]


def identity_places(height: int, width: int) -> torch.Tensor:
    """(2, H, W): each pixel's own (row, column), as float (moved like pixels)."""
    rows, cols = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([rows, cols]).float()


def shifted(pixels: torch.Tensor, shift: Shift) -> torch.Tensor:
    """(C, H, W) ``pixels`` read ``shift`` (rows, columns) away, clamped at the edges."""
    rows = (torch.arange(pixels.shape[1]) + shift[0]).clamp(0, pixels.shape[1] - 1)
    cols = (torch.arange(pixels.shape[2]) + shift[1]).clamp(0, pixels.shape[2] - 1)
    return pixels[:, rows][:, :, cols]


def shifted_copy(
    pixels: torch.Tensor, hole: torch.Tensor, unfilled: torch.Tensor | None = None
) -> torch.Tensor | None:
    """``pixels`` with ``hole`` copied from :func:`best_shift`; None where no shift fits."""
    shift = best_shift(pixels, hole, unfilled)
    return None if shift is None else torch.where(hole, shifted(pixels, shift), pixels)


def best_shift(
    pixels: torch.Tensor, hole: torch.Tensor, unfilled: torch.Tensor | None = None
) -> Shift | None:
    """The shift whose kept ring around ``hole`` best matches the ring, among those that
    land the whole hole on pixels not ``unfilled`` (default: the hole); None when none does.
    Searched at half size, then (a hole ending at odd pixels may leave no half-size cell
    whole) at full size."""
    unfilled = hole if unfilled is None else unfilled
    for shrink in (SHIFT_SEARCH_SHRINK, 1):
        scores, origin = ring_scores(pixels, hole, unfilled, shrink)
        if scores is not None and torch.isfinite(scores).any():
            dy, dx = divmod(int(scores.argmin()), scores.shape[-1])
            return dy * shrink - origin[0], dx * shrink - origin[1]
    return None


def ring_scores(
    pixels: torch.Tensor,
    hole: torch.Tensor,
    unfilled: torch.Tensor,
    shrink: int,
    strict: bool = True,
) -> tuple[torch.Tensor | None, Shift]:
    """Squared difference (up to a constant) between the kept ring around ``hole`` and the
    image at each shift, on the canvas shrunk by ``shrink``; inf where a hole pixel would
    land on an unfilled one (``strict``). Entry (i, j) is the shift (i·shrink − origin[0],
    j·shrink − origin[1])."""
    f, r = shrink, SHIFT_RING
    ys, xs = torch.nonzero(hole, as_tuple=True)
    top, left = max(0, int(ys.min()) - r), max(0, int(xs.min()) - r)
    bottom = min(hole.shape[0], int(ys.max()) + r + 1)
    right = min(hole.shape[1], int(xs.max()) + r + 1)
    small = F.avg_pool2d(pixels[None], f, ceil_mode=True)[0]
    holes = F.max_pool2d(unfilled[None, None].float(), f, ceil_mode=True)[0]
    window = slice(top // f, -(-bottom // f)), slice(left // f, -(-right // f))
    origin = (window[0].start * f, window[1].start * f)
    ring = 1 - holes[0][window]  # kept pixels of the window: compared
    patch = small[(slice(None), *window)] * ring
    if patch.shape[-2] >= small.shape[-2] and patch.shape[-1] >= small.shape[-1]:
        return None, origin
    cross = _correlate(small, patch)
    energy = _correlate((small**2).sum(0, keepdim=True), ring[None])
    scores = energy - 2 * cross
    if strict:  # what is copied must be kept
        copied = F.max_pool2d(hole[None, None].float(), f, ceil_mode=True)[0]
        covered = _correlate(holes, copied[(slice(None), *window)])
        scores = torch.where(covered > 0.5, torch.inf, scores)
    return scores, origin


def _correlate(image: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """The valid cross-correlation of (C, H, W) ``image`` with (C, h, w) ``kernel``, summed
    over channels: (H - h + 1, W - w + 1). By FFT, as the kernel (the hole's window) may
    be a large part of the image."""
    size = image.shape[-2:]
    spectrum = torch.fft.rfft2(image.double()) * torch.fft.rfft2(kernel.double(), s=size).conj()
    full = torch.fft.irfft2(spectrum.sum(0), s=size)
    return full[: size[0] - kernel.shape[-2] + 1, : size[1] - kernel.shape[-1] + 1]


def copied_fill(
    pixels: torch.Tensor, hole: torch.Tensor, places: torch.Tensor | None = None
) -> tuple[torch.Tensor, list[Shift]]:
    """The hole filled by :func:`shifted_copy` at once where one shift fits it; else peeled
    from its bounding box's sides inwards, a strip (a quarter of the box deep) at a time,
    each copied from what is kept or filled so far. A strip no shift fits takes its nearest
    kept pixels. Returns the filled pixels and the shifts used; ``places`` (module
    docstring), if given, is updated in place."""
    pixels, left, used = pixels.clone(), hole.clone(), []
    while left.any():
        parts = [left] if best_shift(pixels, left) is not None else _side_strips(left)
        for part in parts:
            pixels = _copied_into(pixels, part, left, used, places)
            left &= ~part
    return pixels, used


def _copied_into(
    pixels: torch.Tensor,
    part: torch.Tensor,
    unfilled: torch.Tensor,
    used: list[Shift],
    places: torch.Tensor | None = None,
) -> torch.Tensor:
    """``part`` copied from its :func:`best_shift` (appended to ``used``), or where no shift
    fits from its nearest kept pixels; ``places``, if given, moved the same way."""
    shift = best_shift(pixels, part, unfilled)
    if shift is not None:
        used.append(shift)

    def moved(values: torch.Tensor) -> torch.Tensor:
        copy = _nearest_kept(values, unfilled) if shift is None else shifted(values, shift)
        return torch.where(part, copy, values)

    if places is not None:
        places.copy_(moved(places))
    return moved(pixels)


def grown_copy(
    pixels: torch.Tensor, hole: torch.Tensor, places: torch.Tensor | None = None
) -> tuple[torch.Tensor, list[Shift]]:
    """An ``extend`` fill: the kept rectangle grown outwards strip by strip, each strip (at
    most a third of the kept side deep) copied by :func:`best_shift` from what is kept so
    far, the sides in turn, so that the corners come from strips made before. A strip no
    shift fits takes its nearest kept pixels. Returns the filled pixels and the shifts used."""
    pixels, hole, used = pixels.clone(), hole.clone(), []
    height, width = hole.shape
    rows, cols = torch.nonzero(~hole, as_tuple=True)
    rect = [int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1]
    while rect != [0, height, 0, width]:
        for side in range(4):
            top, bottom, left, right = rect
            deep = max(1, ((right - left) if side < 2 else (bottom - top)) // 3)
            rect = [
                [top, bottom, max(0, left - deep), right],
                [top, bottom, left, min(width, right + deep)],
                [max(0, top - deep), bottom, left, right],
                [top, min(height, bottom + deep), left, right],
            ][side]
            part = torch.zeros_like(hole)
            part[rect[0] : rect[1], rect[2] : rect[3]] = True
            part &= hole
            if part.any():
                pixels = _copied_into(pixels, part, hole, used, places)
                hole &= ~part
    return pixels, used


def _side_strips(hole: torch.Tensor) -> list[torch.Tensor]:
    """The hole's pixels in the top, bottom, left and right strips of its bounding box."""
    rows, cols = torch.nonzero(hole, as_tuple=True)
    top, bottom = int(rows.min()), int(rows.max()) + 1
    left, right = int(cols.min()), int(cols.max()) + 1
    deep_rows, deep_cols = max(1, (bottom - top) // 4), max(1, (right - left) // 4)
    boxes = [
        (slice(top, top + deep_rows), slice(left, right)),
        (slice(bottom - deep_rows, bottom), slice(left, right)),
        (slice(top, bottom), slice(left, left + deep_cols)),
        (slice(top, bottom), slice(right - deep_cols, right)),
    ]
    strips, left_over = [], hole.clone()
    for box in boxes:
        strip = torch.zeros_like(hole)
        strip[box] = left_over[box]
        if strip.any():
            strips.append(strip)
            left_over &= ~strip
    return strips


def _nearest_kept(pixels: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """Every hole pixel takes the value of its nearest kept pixel."""
    from scipy import ndimage

    _, (rows, cols) = ndimage.distance_transform_edt(hole.numpy(), return_indices=True)
    return pixels[:, torch.from_numpy(rows), torch.from_numpy(cols)]


def candidate_shifts(pixels: torch.Tensor, hole: torch.Tensor, count: int) -> list[Shift]:
    """The ``count`` shifts whose copy best matches the kept ring around the hole (local
    minima of :func:`ring_scores`, at least ``SHIFT_RING`` px apart), whether or not they
    fit the whole hole."""
    scores, origin = ring_scores(pixels, hole, hole, SHIFT_SEARCH_SHRINK, strict=False)
    if scores is None:
        return []
    f = SHIFT_SEARCH_SHRINK
    reach = SHIFT_RING // f
    lowest = -F.max_pool2d(-scores[None, None], 2 * reach + 1, 1, reach)[0, 0]
    minima = torch.nonzero(scores <= lowest)
    order = scores[minima[:, 0], minima[:, 1]].argsort()[:count]
    return [(int(i) * f - origin[0], int(j) * f - origin[1]) for i, j in minima[order]]


def local_shifts(pixels: torch.Tensor, hole: torch.Tensor) -> list[Shift]:
    """For each tile along the hole's boundary (a quarter of the hole's thickness, at least
    ``LOCAL_TILE`` px), the best shift for the tile's part of the hole: copies that
    continue each stretch of the boundary on their own."""
    from scipy import ndimage

    rows, cols = torch.nonzero(hole, as_tuple=True)
    top, left = int(rows.min()), int(cols.min())
    height, width = int(rows.max()) + 1 - top, int(cols.max()) + 1 - left
    depth = float(ndimage.distance_transform_edt(hole.numpy()).max())  # half the thickness
    tile = max(LOCAL_TILE, round(depth / 2))
    edge = hole & F.max_pool2d((~hole)[None, None].float(), 3, 1, 1)[0, 0].bool()
    found = []
    for y in range(top, top + height, tile):
        for x in range(left, left + width, tile):
            part = torch.zeros_like(hole)
            part[y : y + tile, x : x + tile] = hole[y : y + tile, x : x + tile]
            if (part & edge).any() and (shift := best_shift(pixels, part, hole)) is not None:
                found.append(shift)
    return found


def stitched_fill(
    pixels: torch.Tensor,
    hole: torch.Tensor,
    first: Any = None,
    places: torch.Tensor | None = None,
) -> torch.Tensor:
    """The ``first`` fill (default :func:`copied_fill`; :func:`grown_copy` for ``extend``),
    then each hole pixel's shift re-chosen to lower the seam cost (module docstring).
    Kept pixels are never changed; ``places``, if given, is updated in place."""
    filled, used = (first or copied_fill)(pixels, hole, places)
    found = [*used, *local_shifts(pixels, hole), *candidate_shifts(pixels, hole, CANDIDATE_SHIFTS)]
    shifts = list(dict.fromkeys(found))
    if len(shifts) < 2:
        return filled
    rows, cols = torch.nonzero(hole, as_tuple=True)
    reach = KEPT_REACH
    top, left = max(0, int(rows.min()) - reach), max(0, int(cols.min()) - reach)
    box = slice(top, int(rows.max()) + 1 + reach), slice(left, int(cols.max()) + 1 + reach)
    reader = _Reader(pixels, hole, (top, left), hole[box].shape, shifts)
    shows = filled[(slice(None), *box)]
    labels = reader.first_labels(shows)
    labels = _stitch(reader, hole[box], shows, labels)
    moves = hole[box] & (labels >= 0)
    chosen = torch.where(moves, reader.read(labels), shows)
    if places is not None:
        places[(slice(None), *box)] = torch.where(
            moves, reader.read(labels, source=places), places[(slice(None), *box)]
        )
    out = filled.clone()
    out[(slice(None), *box)] = chosen
    return out


class _Reader:
    """Reads, for each pixel of a box of the canvas, the pixel its label's shift (plus an
    offset) points at, and whether that pixel is kept."""

    def __init__(
        self,
        pixels: torch.Tensor,
        hole: torch.Tensor,
        origin: Shift,
        shape: tuple[int, int],
        shifts: list[Shift],
    ) -> None:
        self.pixels, self.hole, self.count = pixels, hole, len(shifts)
        self.rows = torch.arange(shape[0])[:, None] + origin[0]
        self.cols = torch.arange(shape[1])[None] + origin[1]
        self.sy = torch.tensor([s[0] for s in shifts])
        self.sx = torch.tensor([s[1] for s in shifts])

    def _at(self, labels: torch.Tensor, offset: Shift) -> tuple[torch.Tensor, torch.Tensor]:
        safe = labels.clamp_min(0)
        return self.rows + self.sy[safe] + offset[0], self.cols + self.sx[safe] + offset[1]

    def read(
        self, labels: torch.Tensor, offset: Shift = (0, 0), source: torch.Tensor | None = None
    ) -> torch.Tensor:
        """What each label's shift points at in the canvas (or in ``source``, its places)."""
        rows, cols = self._at(labels, offset)
        height, width = self.hole.shape
        values = self.pixels if source is None else source
        return values[:, rows.clamp(0, height - 1), cols.clamp(0, width - 1)]

    def kept(self, labels: torch.Tensor) -> torch.Tensor:
        rows, cols = self._at(labels, (0, 0))
        height, width = self.hole.shape
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        return inside & ~self.hole[rows.clamp(0, height - 1), cols.clamp(0, width - 1)]

    def first_labels(self, shows: torch.Tensor) -> torch.Tensor:
        """The label of the copy that made each pixel of ``shows`` (-1: none did)."""
        labels = torch.full(shows.shape[1:], -1, dtype=torch.long)
        for k in reversed(range(self.count)):
            every = torch.full_like(labels, k)
            same = (self.read(every) == shows).all(0) & self.kept(every)
            labels = torch.where(same, k, labels)
        return labels


def _stitch(
    reader: _Reader, hole: torch.Tensor, shows: torch.Tensor, labels: torch.Tensor
) -> torch.Tensor:
    """Alpha-expansion (Boykov, Veksler & Zabih 2001): for each shift in turn, the pixels
    that take it are chosen by one minimum cut, until a sweep changes nothing."""
    for _ in range(STITCH_SWEEPS):
        changed = 0
        for alpha in range(reader.count):
            switch = _expansion(reader, hole, shows, labels, alpha)
            labels = torch.where(switch, alpha, labels)
            changed += int(switch.sum())
        if not changed:
            break
    return labels


# Seam costs are cut as integers (scipy's maximum flow): this many units per unit of
# colour difference, and the cost of copying a pixel that is not kept.
COST_UNITS = 1000
FORBIDDEN = 10**7
# A hole pixel's copy is compared with the kept pixels this far away along each axis, not
# only with its kept neighbours: a seam at the hole's boundary is then judged over a band.
KEPT_REACH = 2
KEPT_NEIGHBOURS = tuple(
    (sign * step * dy, sign * step * dx)
    for step in range(1, KEPT_REACH + 1)
    for dy, dx in ((0, 1), (1, 0))
    for sign in (1, -1)
)


def _seam(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per pixel colour distance of two (C, …) images (a metric, so expansions are exact)."""
    return ((a - b) ** 2).sum(0).sqrt()


def _expansion(
    reader: _Reader, hole: torch.Tensor, shows: torch.Tensor, labels: torch.Tensor, alpha: int
) -> torch.Tensor:
    """(H, W): the hole pixels that switch to label ``alpha`` in the expansion's minimum cut.

    Binary choice per pixel, x = 1 to switch. The seam cost V(a, b) of two neighbours p, q
    is |copy_a(p) − copy_b(p)| + |copy_a(q) − copy_b(q)|; a kept neighbour q costs
    |copy(q) − kept(q)|. Pairwise terms become edges as Kolmogorov & Zabih 2004 show.
    ``shows`` is the box before stitching: kept pixels, and the first fill where a pixel
    has no label (-1).
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import maximum_flow

    everywhere = torch.full_like(labels, alpha)
    movable = hole & reader.kept(everywhere) & (labels != alpha)
    if not movable.any():
        return movable
    current = torch.where(hole & (labels >= 0), reader.read(labels), shows)
    mine = reader.read(everywhere)
    # Only pixels that may switch are nodes; a fixed neighbour's terms fall to the unary.
    n = int(movable.sum())
    index = torch.full(hole.shape, -1, dtype=torch.long)
    index[movable] = torch.arange(n)
    near_movable = {d: _moved(movable, *d) for d in ((0, 1), (1, 0))}
    # Pixels without a label (the first fill found no shift) are pushed to take one.
    unary = torch.where((labels >= 0) & reader.kept(labels), 0.0, -1e3)
    heads, tails, weights = [], [], []
    for dy, dx in KEPT_NEIGHBOURS:
        near_hole, near_shows = _moved(hole, dy, dx), _moved(current, dy, dx)
        inside = _moved(torch.ones_like(hole), dy, dx)
        mine_there = reader.read(everywhere, (dy, dx))  # copy_alpha(q)
        ours_there = reader.read(labels, (dy, dx))  # copy_{l_p}(q)
        # A kept neighbour: the cost of switching against that of staying.
        switching = _seam(mine_there, near_shows) - _seam(ours_there, near_shows)
        unary += torch.where(inside & ~near_hole, switching, 0.0)
        if (dy, dx) not in ((0, 1), (1, 0)):
            continue  # each pair of hole neighbours once, and only neighbours
        pair, free = hole & near_hole, near_movable[dy, dx]
        theirs = reader.read(_moved(labels, dy, dx))  # copy_{l_q}(p)
        a = _seam(current, theirs) + _seam(ours_there, near_shows)
        b = _seam(current, mine) + _seam(ours_there, mine_there)
        c = _seam(mine, theirs) + _seam(mine_there, near_shows)
        # E = A + (C − A) x_p − C x_q + (B + C − A) (1 − x_p) x_q, with x_q's term at q;
        # with x_p fixed at 0, E = A + (B − A) x_q; with x_q fixed, E = A + (C − A) x_p.
        both = pair & movable & free
        unary += torch.where(pair & movable, c - a, 0.0)
        unary -= _moved(torch.where(both, c, 0.0), -dy, -dx)
        unary += _moved(torch.where(pair & ~movable & free, b - a, 0.0), -dy, -dx)
        heads.append(index[both])
        tails.append(_moved(index, dy, dx)[both])
        weights.append((b + c - a).clamp_min(0)[both])
    unary = unary[movable]
    source, sink = n, n + 1
    nodes = torch.arange(n)
    heads += [torch.full((n,), source), nodes]
    tails += [nodes, torch.full((n,), sink)]
    weights += [unary.clamp_min(0), (-unary).clamp_min(0)]
    head, tail = torch.cat(heads).numpy(), torch.cat(tails).numpy()
    capacity = (torch.cat(weights) * COST_UNITS).round().clamp(0, FORBIDDEN).int().numpy()
    graph = coo_matrix((capacity, (head, tail)), shape=(n + 2, n + 2)).tocsr()
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    on_sink = ~_reachable(graph - flow, source)[:n]
    switch = torch.zeros_like(hole)
    switch[movable] = torch.from_numpy(on_sink)
    return switch


def _reachable(residual, start: int):
    """Which nodes ``start`` reaches along edges of positive residual capacity."""
    import numpy as np
    from scipy.sparse.csgraph import breadth_first_order

    residual = residual.tocsr()
    residual.data = (residual.data > 0).astype(np.int8)
    residual.eliminate_zeros()
    order = breadth_first_order(residual, start, directed=True, return_predecessors=False)
    reached = np.zeros(residual.shape[0], bool)
    reached[order] = True
    return reached


def _moved(values: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """``values`` (…, H, W) at each pixel's neighbour (dy, dx); zeros (False) outside."""
    out = torch.zeros_like(values)
    height, width = values.shape[-2:]
    src = (slice(max(0, dy), height + min(0, dy)), slice(max(0, dx), width + min(0, dx)))
    dst = (slice(max(0, -dy), height + min(0, -dy)), slice(max(0, -dx), width + min(0, -dx)))
    out[(..., *dst)] = values[(..., *src)]
    return out
