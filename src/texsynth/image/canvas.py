"""The canvas of an edit: the pixels an image keeps, and the hole that is synthesised
(issue 25, work in progress: no command uses it yet).

Three edits make a canvas from an image people already have:

- ``fill``: a mask's white (non-zero) pixels, or an RGBA image's transparent ones, are the
  hole; every other pixel is kept;
- ``extend``: the image sits unchanged at an anchor of a larger canvas, and the rest is the
  hole;
- ``tile``: a band along the edges is the hole, and the middle is kept; synthesised with
  circular padding, the result wraps around.

A canvas knows nothing of networks: :mod:`texsynth.synthesis.edit` fills it. Its kept
pixels are the image's own 8-bit values (``k / 255``), so the written result holds them
byte for byte.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..core.errors import ImageError, SizeError
from .io import ImageLike, LoadedImage, load_image

# Where ``extend`` puts the image: the middle, a side (n, s, e, w) or a corner.
ANCHORS: tuple[str, ...] = ("center", "n", "s", "e", "w", "ne", "nw", "se", "sw")
# A grey mask counts as hole where it is at least half of white.
MASK_THRESHOLD = 0.5


@dataclass(frozen=True)
class Canvas:
    """An image with a hole: (C, H, W) ``pixels`` in [0, 1] (zero in the hole) and the
    (H, W) boolean ``hole``; ``name`` says where the kept pixels came from."""

    pixels: torch.Tensor
    hole: torch.Tensor
    name: str = "<canvas>"
    start: torch.Tensor | None = None  # (C, H, W) first guess of the hole (None: noise)

    @property
    def width(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def known(self) -> torch.Tensor:
        return ~self.hole

    def kept_image(self) -> LoadedImage:
        """The canvas with its hole painted in the kept pixels' mean colour (a stand-in
        source where one image is needed: sizes, colour mode, pixel range)."""
        known = self.known
        mean = self.pixels[:, known].mean(1) if known.any() else self.pixels.new_zeros(1)
        painted = torch.where(self.hole, mean.view(-1, 1, 1), self.pixels)
        return LoadedImage(painted, self.name)

    def composite(self, synthesised: torch.Tensor) -> torch.Tensor:
        """``synthesised`` (C, H, W) in the hole, the kept pixels exactly elsewhere."""
        return torch.where(self.hole, synthesised.to(self.pixels), self.pixels)


def read_mask(source: ImageLike, size: tuple[int, int]) -> torch.Tensor:
    """The (H, W) hole of a mask image: its pixels at least half of white (grey masks are
    thresholded at 50%, colour ones on their mean). ``size`` is the image's (width, height)."""
    mask = load_image(source, grayscale=True).pixels[0]
    if (mask.shape[1], mask.shape[0]) != size:
        raise SizeError(
            f"the mask is {mask.shape[1]}x{mask.shape[0]} px and the image {size[0]}x{size[1]}; "
            "they must be the same size"
        )
    return mask >= MASK_THRESHOLD


def transparent_pixels(path: str | os.PathLike) -> torch.Tensor | None:
    """The (H, W) hole of an image's alpha channel (alpha below half), or None when the
    image has no alpha channel. Turned upright by its EXIF orientation, as
    :func:`load_image` turns the image."""
    from PIL import Image, ImageOps

    try:
        with Image.open(Path(path)) as img:
            has_alpha = img.mode in ("RGBA", "LA", "PA") or "transparency" in img.info
            if not has_alpha:
                return None
            alpha = np.asarray(ImageOps.exif_transpose(img).convert("RGBA").getchannel("A"))
    except OSError as exc:
        raise ImageError(f"cannot read {path}: {exc}") from None
    return torch.from_numpy(alpha < 128)


def fill_canvas(image: ImageLike, mask: ImageLike | None = None) -> Canvas:
    """The hole is ``mask``'s white pixels, or without a mask the image's transparent ones."""
    loaded = load_image(image)
    size = (loaded.width, loaded.height)
    if mask is not None:
        hole = read_mask(mask, size)
    else:
        hole = transparent_pixels(image) if isinstance(image, (str, os.PathLike)) else None
        if hole is None:
            raise ImageError(
                f"{loaded.name} has no transparent pixels to fill; give --mask MASK "
                "(white: synthesise)"
            )
    canvas = _with_hole(loaded, hole)
    return dataclasses.replace(canvas, start=shifted_copy(canvas.pixels, hole))


def extend_canvas(image: ImageLike, size: tuple[int, int], anchor: str = "center") -> Canvas:
    """``image`` unchanged at ``anchor`` of a ``size`` (width, height) canvas."""
    loaded = load_image(image)
    width, height = size
    if (
        width < loaded.width
        or height < loaded.height
        or (width, height)
        == (
            loaded.width,
            loaded.height,
        )
    ):
        raise SizeError(
            f"--size {width}x{height} must be larger than the image "
            f"({loaded.width}x{loaded.height}) along at least one side and smaller along none"
        )
    if anchor not in ANCHORS:
        raise ImageError(f"unknown anchor {anchor!r}; choose one of: {', '.join(ANCHORS)}")
    sides = "" if anchor == "center" else anchor
    top = _offset(height - loaded.height, "n" in sides, "s" in sides)
    left = _offset(width - loaded.width, "w" in sides, "e" in sides)
    pixels = loaded.pixels.new_zeros(loaded.pixels.shape[0], height, width)
    pixels[:, top : top + loaded.height, left : left + loaded.width] = loaded.pixels
    hole = torch.ones(height, width, dtype=torch.bool)
    hole[top : top + loaded.height, left : left + loaded.width] = False
    return Canvas(pixels, hole, loaded.name, grown_copy(pixels, hole))


def grown_copy(pixels: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """An ``extend`` start: the kept rectangle grown outwards strip by strip, each strip
    (at most a third of the kept side deep) filled by :func:`shifted_copy` from what is
    kept so far, the sides in turn, so that the corners come from strips made before.
    Where no shift fits, the strip mirrors the kept rectangle across its edge."""
    pixels, hole = pixels.clone(), hole.clone()
    height, width = hole.shape
    rows, cols = torch.nonzero(~hole, as_tuple=True)
    rect = [int(rows.min()), int(rows.max()) + 1, int(cols.min()), int(cols.max()) + 1]
    while rect != [0, height, 0, width]:
        for side in range(4):
            top, bottom, left, right = rect
            deep = max(1, ((right - left) if side < 2 else (bottom - top)) // 3)
            grown = [
                [top, bottom, max(0, left - deep), right],
                [top, bottom, left, min(width, right + deep)],
                [max(0, top - deep), bottom, left, right],
                [top, min(height, bottom + deep), left, right],
            ][side]
            part = torch.zeros_like(hole)
            part[grown[0] : grown[1], grown[2] : grown[3]] = True
            part &= hole
            if part.any():
                filled = shifted_copy(torch.where(hole, 0.0, pixels), part, hole)
                if filled is None:
                    filled = _mirrored_into(pixels, part, tuple(rect))  # type: ignore[arg-type]
                pixels = torch.where(part, filled, pixels)
                hole &= ~part
            rect = grown
    return pixels


def _mirrored_into(
    pixels: torch.Tensor, part: torch.Tensor, kept: tuple[int, int, int, int]
) -> torch.Tensor:
    """``part`` filled with the kept rectangle mirrored across its nearest edge."""
    top, bottom, left, right = kept
    rows = _reflected(torch.arange(pixels.shape[1]), top, bottom)
    cols = _reflected(torch.arange(pixels.shape[2]), left, right)
    return pixels[:, rows][:, :, cols]


def _reflected(index: torch.Tensor, begin: int, end: int) -> torch.Tensor:
    """Indices outside [begin, end) mirrored back in (clamped once mirrored past the far edge)."""
    mirrored = torch.where(index < begin, 2 * begin - index - 1, index)
    mirrored = torch.where(mirrored >= end, 2 * end - mirrored - 1, mirrored)
    return mirrored.clamp(begin, end - 1)


def _offset(room: int, first: bool, last: bool) -> int:
    """Where along one side the image starts: at 0, at the end, or in the middle."""
    return 0 if first else room if last else room // 2


def default_band(width: int, height: int) -> int:
    """``tile``'s default band: an eighth of the shorter side along every edge, so that at
    most a quarter of each side is re-synthesised and at least the middle half is kept."""
    return max(1, min(width, height) // 8)


def tile_canvas(image: ImageLike, band: int | None = None) -> Canvas:
    """A ``band`` px frame along the edges of ``image`` is the hole; the middle is kept."""
    loaded = load_image(image)
    band = default_band(loaded.width, loaded.height) if band is None else band
    side = min(loaded.width, loaded.height)
    if band < 1 or 2 * band >= side:
        raise SizeError(
            f"--band {band} must be at least 1 px and less than half the shorter side "
            f"({side} px here), or nothing of the image is kept"
        )
    hole = torch.ones(loaded.height, loaded.width, dtype=torch.bool)
    hole[band:-band, band:-band] = False
    # The start is the photograph's own frame: it already continues the middle, and only
    # where the opposite edges meet (the wrap-around) is there a seam to remove.
    return dataclasses.replace(_with_hole(loaded, hole), start=loaded.pixels)


# The best shift is searched on the canvas shrunk by this factor, with this ring (px, at
# full size) of kept pixels around the hole compared.
SHIFT_SEARCH_SHRINK = 2
SHIFT_RING = 8


def shifted_copy(
    pixels: torch.Tensor, hole: torch.Tensor, unknown: torch.Tensor | None = None
) -> torch.Tensor | None:
    """The hole filled with the kept pixels one shift away, the shift whose kept ring
    around the hole best matches the ring (least mean squared difference), among the
    shifts that land the whole hole on kept pixels; None when none does.

    On a periodic texture the best shift is a lattice vector, so the copy continues the
    lattice in phase; on any texture it continues what surrounds the hole, with real
    detail rather than a blur. ``unknown`` (default: the hole) is what may not be copied.
    """
    unknown = hole if unknown is None else unknown
    f = SHIFT_SEARCH_SHRINK
    ys, xs = torch.nonzero(hole, as_tuple=True)
    r = SHIFT_RING
    top, left = max(0, int(ys.min()) - r), max(0, int(xs.min()) - r)
    bottom, right = (
        min(hole.shape[0], int(ys.max()) + r + 1),
        min(hole.shape[1], int(xs.max()) + r + 1),
    )
    small = torch.nn.functional.avg_pool2d(pixels[None], f, ceil_mode=True)
    holes = torch.nn.functional.max_pool2d(unknown[None, None].float(), f, ceil_mode=True)
    window = slice(top // f, -(-bottom // f)), slice(left // f, -(-right // f))
    ring = 1 - holes[0, 0][window]  # kept pixels of the window: compared
    patch = small[0][(slice(None), *window)] * ring
    if patch.shape[-2] >= small.shape[-2] and patch.shape[-1] >= small.shape[-1]:
        return None
    conv = torch.nn.functional.conv2d
    cross = conv(small, patch[None])[0, 0]
    energy = conv((small**2).sum(1, keepdim=True), ring[None, None])[0, 0]
    # What is copied must be kept (the ring's counterpart may hold unknown zeros: such a
    # shift then compares badly, and is only taken when nothing better fits).
    copied = torch.nn.functional.max_pool2d(hole[None, None].float(), f, ceil_mode=True)
    covered = conv(holes, copied[(0, slice(None), *window)][None])[0, 0]
    score = (energy - 2 * cross).reshape(covered.shape)
    score = torch.where(covered > 0, torch.inf, score)
    if not torch.isfinite(score).any():
        return None
    dy, dx = divmod(int(score.argmin()), score.shape[-1])
    sy, sx = dy * f - window[0].start * f, dx * f - window[1].start * f
    rows = (torch.arange(pixels.shape[1]) + sy).clamp(0, pixels.shape[1] - 1)
    cols = (torch.arange(pixels.shape[2]) + sx).clamp(0, pixels.shape[2] - 1)
    shifted = pixels[:, rows][:, :, cols]
    return torch.where(hole, shifted, pixels)


def _with_hole(loaded: LoadedImage, hole: torch.Tensor) -> Canvas:
    if not hole.any():
        raise ImageError("the mask is empty: there is nothing to fill")
    return Canvas(torch.where(hole, 0.0, loaded.pixels), hole, loaded.name)


__all__ = [
    "ANCHORS",
    "Canvas",
    "default_band",
    "extend_canvas",
    "fill_canvas",
    "read_mask",
    "tile_canvas",
    "transparent_pixels",
]
