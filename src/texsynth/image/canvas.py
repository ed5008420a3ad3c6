"""The canvas of an edit: the pixels an image keeps, the hole that is synthesised, and the
hole's first fill (:mod:`texsynth.image.shifts`).

Three edits make a canvas from an image people already have:

- ``fill``: a mask's white pixels (grey ones from 50% up), or an RGBA image's transparent
  ones, are the hole; every other pixel is kept;
- ``extend``: the image sits unchanged at an anchor of a larger canvas, and the rest is the
  hole;
- ``tile``: a band along the edges is the hole, and the middle is kept; filled across the
  place where opposite edges meet, the result wraps around.

A canvas knows nothing of networks: :mod:`texsynth.synthesis.edit` may refine it. Its kept
pixels are the image's own 8-bit values (``k / 255``), so the written result holds them
byte for byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from ..core.devices import check_memory
from ..core.edits import ANCHORS, Edit
from ..core.errors import ImageError, SizeError
from .io import ImageLike, LoadedImage, load_image
from .material import SurfaceMap, as_map
from .seams import wrapped_by_seams
from .shifts import grown_copy, identity_places, stitched_fill

# Peak memory of a patch fill per pixel of the hole's bounding box (measured: extend of a
# 256² image to 384² and 512², 3.8 and 3.5 KiB per canvas pixel above the process's own),
# plus the canvas's own tensors per pixel; and of a tile's seams per pixel.
FILL_BYTES = 4096
CANVAS_BYTES = 64
TILE_BYTES = 256

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
    # (role, sha256) of each file the canvas was read from ("image", "mask"), hashed from
    # the bytes that were decoded: each file is read once.
    files: tuple[tuple[str, str], ...] = ()
    # What an edit's sidecar section records of it (canvas_for): the edit's fields, its
    # files with their sha256, the hole's size, and where the image sits.
    record: dict = dataclasses.field(default_factory=dict)
    # (2, H, W): for each canvas pixel, the (row, column) in the image of the pixel its
    # patch fill shows (kept pixels: their own); the other maps are filled from there.
    places: torch.Tensor | None = None
    # The image as its file holds it (colour not composited, alpha, depth), when read
    # from a file or array: what an edit writes is this, read at ``places``.
    surface: SurfaceMap | None = None

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


def read_mask(source: ImageLike, size: tuple[int, int]) -> LoadedImage:
    """A mask image, checked to be of the image's ``size`` (width, height)."""
    mask = load_image(source, grayscale=True)
    if (mask.width, mask.height) != size:
        raise SizeError(
            f"the mask is {mask.width}x{mask.height} px and the image {size[0]}x{size[1]}; "
            "they must be the same size"
        )
    return mask


def mask_hole(mask: LoadedImage) -> torch.Tensor:
    """The (H, W) hole of a mask: its pixels at least half of white (grey masks are
    thresholded at 50%, colour ones on their mean)."""
    return mask.pixels[0] >= MASK_THRESHOLD


def transparent_hole(image: LoadedImage) -> torch.Tensor | None:
    """The (H, W) hole of an image's alpha channel (alpha below half), or None when the
    image has none (turned upright by its EXIF orientation, as the pixels are)."""
    return None if image.alpha is None else image.alpha < 128 / 255


def check_fill_memory(
    width: int, height: int, hole: torch.Tensor | None, force: bool, per_pixel: int = 0
) -> None:
    """Refuse (unless ``force``), before the canvas is made, a patch fill whose estimated
    memory exceeds what is free: ``FILL_BYTES`` per pixel of the hole's bounding box (all
    of the canvas when ``hole`` is None), or ``per_pixel`` of the canvas (``tile``)."""
    box = width * height
    if hole is not None and hole.any():
        rows, cols = torch.nonzero(hole, as_tuple=True)
        box = (int(rows.max() - rows.min()) + 1) * (int(cols.max() - cols.min()) + 1)
    if per_pixel:
        need = per_pixel * width * height
    else:
        need = FILL_BYTES * box + CANVAS_BYTES * width * height
    check_memory(need, width, height, torch.device("cpu"), force, "patch fill")


def fill_canvas(image: ImageLike, mask: ImageLike | None = None, force: bool = False) -> Canvas:
    """The hole is ``mask``'s white pixels, or without a mask the image's transparent ones."""
    loaded = load_image(image)
    files = _files(("image", loaded))
    if mask is not None:
        mask_image = read_mask(mask, (loaded.width, loaded.height))
        hole, files = mask_hole(mask_image), files + _files(("mask", mask_image))
    else:
        hole = transparent_hole(loaded)
        if hole is None:
            raise ImageError(
                f"{loaded.name} has no transparent pixels to fill; give --mask MASK "
                "(white: synthesise)"
            )
    check_fill_memory(loaded.width, loaded.height, hole, force)
    canvas = _with_hole(loaded, hole)
    places = identity_places(loaded.height, loaded.width)
    start = stitched_fill(canvas.pixels, hole, places=places)
    return dataclasses.replace(canvas, start=start, files=files, places=places,
                               surface=_surface(loaded))  # fmt: skip


def extend_canvas(
    image: ImageLike, size: tuple[int, int], anchor: str = "center", force: bool = False
) -> Canvas:
    """``image`` unchanged at ``anchor`` of a ``size`` (width, height) canvas."""
    loaded = load_image(image)
    width, height = size
    same = (width, height) == (loaded.width, loaded.height)
    if width < loaded.width or height < loaded.height or same:
        raise SizeError(
            f"--size {width}x{height} must be larger than the image "
            f"({loaded.width}x{loaded.height}) along at least one side and smaller along none"
        )
    if anchor not in ANCHORS:
        raise ImageError(f"unknown anchor {anchor!r}; choose one of: {', '.join(ANCHORS)}")
    check_fill_memory(width, height, None, force)
    sides = "" if anchor == "center" else anchor
    top = _offset(height - loaded.height, "n" in sides, "s" in sides)
    left = _offset(width - loaded.width, "w" in sides, "e" in sides)
    pixels = loaded.pixels.new_zeros(loaded.pixels.shape[0], height, width)
    pixels[:, top : top + loaded.height, left : left + loaded.width] = loaded.pixels
    hole = hole_around((left, top, loaded.width, loaded.height), size)
    places = identity_places(height, width)
    start = stitched_fill(pixels, hole, grown_copy, places)
    in_image = places - torch.tensor([top, left], dtype=places.dtype).view(2, 1, 1)
    return Canvas(pixels, hole, loaded.name, start, _files(("image", loaded)),
                  places=in_image, surface=_surface(loaded))  # fmt: skip


def hole_around(kept: tuple[int, int, int, int], size: tuple[int, int]) -> torch.Tensor:
    """The (H, W) hole of a ``size`` (width, height) canvas that keeps only the rectangle
    ``kept`` (left, top, width, height): ``extend``'s and ``tile``'s."""
    left, top, width, height = kept
    hole = torch.ones(size[1], size[0], dtype=torch.bool)
    hole[top : top + height, left : left + width] = False
    return hole


def _offset(room: int, first: bool, last: bool) -> int:
    """Where along one side the image starts: at 0, at the end, or in the middle."""
    return 0 if first else room if last else room // 2


def default_band(width: int, height: int) -> int:
    """``tile``'s default band: an eighth of the shorter side along every edge, so that at
    most a quarter of each side is re-synthesised and at least the middle half is kept."""
    return max(1, min(width, height) // 8)


def tile_canvas(image: ImageLike, band: int | None = None, force: bool = False) -> Canvas:
    """A ``band`` px frame along the edges of ``image`` is the hole; the middle is kept."""
    loaded = load_image(image)
    band = default_band(loaded.width, loaded.height) if band is None else band
    side = min(loaded.width, loaded.height)
    if band < 1 or 2 * band >= side:
        raise SizeError(
            f"--band {band} must be at least 1 px and less than half the shorter side "
            f"({side} px here), or nothing of the image is kept"
        )
    check_fill_memory(loaded.width, loaded.height, None, force, TILE_BYTES)
    inner = (band, band, loaded.width - 2 * band, loaded.height - 2 * band)
    hole = hole_around(inner, (loaded.width, loaded.height))
    canvas = _with_hole(loaded, hole)
    places = identity_places(loaded.height, loaded.width)
    start = wrapped_by_seams(loaded.pixels, band, places)
    return dataclasses.replace(canvas, start=start, files=_files(("image", loaded)),
                               places=places, surface=_surface(loaded))  # fmt: skip


def canvas_for(edit: Edit, size: tuple[int, int] | None = None, force: bool = False) -> Canvas:
    """The canvas of ``edit``, with the record of it; ``size`` is ``extend``'s (width,
    height); ``force`` runs a patch fill whose memory estimate exceeds what is free."""
    if edit.image is None:
        raise ImageError(f"{edit.kind} needs an image to edit")
    if edit.kind == "fill":
        canvas = fill_canvas(edit.image, edit.mask, force)
    elif edit.kind == "extend":
        if size is None:
            raise SizeError("extend needs --size WxH, the size of the larger canvas")
        canvas = extend_canvas(edit.image, size, edit.anchor, force)
    else:
        canvas = tile_canvas(edit.image, edit.band, force)
    return dataclasses.replace(canvas, record=_record(edit, canvas))


def _record(edit: Edit, canvas: Canvas) -> dict:
    """An edit's sidecar section: its fields, the files it read (resolved, with the sha256
    of the bytes decoded), the hole's pixels, where extend put the image ([left, top,
    width, height]) and tile's band; :func:`recorded_hole` reads the hole back from it."""
    record = edit.as_dict()
    for role, sha256 in canvas.files:
        record[role] = str(Path(record[role]).resolve())
        record[f"{role}_sha256"] = sha256
    record["hole_pixels"] = int(canvas.hole.sum())
    if edit.kind == "extend":
        rows, cols = torch.nonzero(canvas.known, as_tuple=True)
        left, top = int(cols.min()), int(rows.min())
        record["placed"] = [left, top, int(cols.max()) + 1 - left, int(rows.max()) + 1 - top]
    if edit.kind == "tile":
        record["band"] = edit.band or default_band(canvas.width, canvas.height)
    return record


def recorded_hole(edit: dict, size: tuple[int, int]) -> torch.Tensor | None:
    """The (H, W) hole of an edit as its sidecar records it (kind, mask or image, placed,
    band), for an output of ``size`` (width, height); None when it cannot be told (a mask
    that has moved, an in-memory image)."""
    width, height = size
    try:
        if edit.get("kind") == "fill" and edit.get("mask"):
            return mask_hole(read_mask(edit["mask"], size))
        if edit.get("kind") == "fill" and edit.get("image"):
            return transparent_hole(load_image(edit["image"]))
        if edit.get("kind") == "extend" and edit.get("placed"):
            left, top, w, h = (int(v) for v in edit["placed"])
            return hole_around((left, top, w, h), size)
        if edit.get("kind") == "tile" and edit.get("band"):
            band = int(edit["band"])
            return hole_around((band, band, width - 2 * band, height - 2 * band), size)
    except (ImageError, SizeError, OSError, ValueError, TypeError):
        return None
    return None


def _files(*read: tuple[str, LoadedImage]) -> tuple[tuple[str, str], ...]:
    """(role, sha256) of each image that was read from a file."""
    return tuple((role, image.sha256) for role, image in read if image.sha256 is not None)


def _surface(loaded: LoadedImage) -> SurfaceMap:
    """The image as its file holds it, a map of its own material (never a normal map)."""
    return as_map(loaded, loaded.name, normal=False)


def _with_hole(loaded: LoadedImage, hole: torch.Tensor) -> Canvas:
    if not hole.any():
        raise ImageError("the mask is empty: there is nothing to fill")
    return Canvas(torch.where(hole, 0.0, loaded.pixels), hole, loaded.name)


__all__ = [
    "ANCHORS",
    "Canvas",
    "canvas_for",
    "default_band",
    "extend_canvas",
    "fill_canvas",
    "mask_hole",
    "read_mask",
    "recorded_hole",
    "tile_canvas",
    "transparent_hole",
]
