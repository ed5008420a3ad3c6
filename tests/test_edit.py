"""Edits (work in progress): the canvas of a fill, the shifted-copy start, and the one
promise every edit keeps: pixels outside the hole are not changed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from texsynth.core.errors import ImageError, SizeError
from texsynth.evaluation.metrics import wrap_seam_ratio
from texsynth.image.canvas import Canvas, extend_canvas, tile_canvas
from texsynth.image.patterns import checkerboard
from texsynth.image.shifts import shifted_copy


def stripes(height: int = 64, width: int = 64, period: int = 8) -> torch.Tensor:
    x = torch.arange(width).float()
    row = (torch.sin(2 * torch.pi * x / period) > 0).float()
    return row.expand(3, height, width).clone()


def test_shifted_copy_continues_a_lattice_in_phase() -> None:
    image = checkerboard(64, 64, 8)[:1].expand(3, -1, -1).clone()
    hole = torch.zeros(64, 64, dtype=torch.bool)
    hole[24:40, 20:44] = True
    filled = shifted_copy(torch.where(hole, 0.0, image), hole)
    assert filled is not None
    assert torch.equal(filled, image)  # a period away, the checkerboard is itself
    # A shift by half a period would invert it: the ring test rules that out.


def test_shifted_copy_leaves_kept_pixels() -> None:
    image = torch.rand(3, 48, 48)
    hole = torch.zeros(48, 48, dtype=torch.bool)
    hole[10:20, 10:20] = True
    filled = shifted_copy(torch.where(hole, 0.0, image), hole)
    assert filled is not None
    assert torch.equal(filled[:, ~hole], image[:, ~hole])


def test_no_shift_fits_a_hole_as_wide_as_the_image() -> None:
    image = stripes()
    hole = torch.zeros(64, 64, dtype=torch.bool)
    hole[:, 8:60] = True
    assert shifted_copy(torch.where(hole, 0.0, image), hole) is None


def test_extend_places_the_image_at_its_anchor() -> None:
    image = torch.rand(3, 20, 30)
    canvas = extend_canvas(image, (50, 40), "se")
    assert torch.equal(canvas.pixels[:, 20:, 20:], image)
    assert canvas.hole[:20].all() and not canvas.hole[20:, 20:].any()
    centred = extend_canvas(image, (50, 40), "center")
    assert torch.equal(centred.pixels[:, 10:30, 10:40], image)
    with pytest.raises(SizeError):
        extend_canvas(image, (20, 40))


def test_tile_band_must_leave_a_middle() -> None:
    image = torch.rand(3, 64, 64)
    assert tile_canvas(image).hole.sum() == 64 * 64 - 48 * 48  # 8 px: an eighth
    with pytest.raises(SizeError):
        tile_canvas(image, 32)


def test_empty_mask_is_refused(tmp_path) -> None:
    from texsynth.image.canvas import fill_canvas
    from texsynth.image.io import save_image

    save_image(torch.rand(3, 16, 16), tmp_path / "image.png")
    save_image(torch.zeros(1, 16, 16), tmp_path / "mask.png")
    with pytest.raises(ImageError, match="nothing to fill"):
        fill_canvas(tmp_path / "image.png", tmp_path / "mask.png")
    save_image(torch.zeros(1, 8, 16), tmp_path / "small.png")
    with pytest.raises(SizeError, match="same size"):
        fill_canvas(tmp_path / "image.png", tmp_path / "small.png")


def test_edit_changes_only_the_hole() -> None:
    from texsynth.synthesis.edit import edit

    image = torch.rand(3, 64, 64)
    image = (image * 255).round() / 255
    hole = torch.zeros(64, 64, dtype=torch.bool)
    hole[24:40, 24:40] = True
    canvas = Canvas(torch.where(hole, 0.0, image), hole, "noise")
    result = edit(canvas, iters=5, coarse_iters=3, precision="float32")
    assert torch.equal(result.image[:, ~hole], image[:, ~hole])
    assert not torch.equal(result.image[:, hole], torch.zeros_like(result.image[:, hole]))


# ----------------------------------------------------------------- patch fills ----
def seam_energy(image: torch.Tensor, hole: torch.Tensor) -> float:
    """Colour differences across the hole's boundary (one neighbour kept, one filled)."""
    total = 0.0
    for dim in (1, 2):
        diff = (image.diff(dim=dim) ** 2).sum(0).sqrt()
        n = hole.shape[dim - 1] - 1
        across = hole.narrow(dim - 1, 1, n) ^ hole.narrow(dim - 1, 0, n)
        total += float(diff[across].sum())
    return total


def photograph(size: int = 128) -> torch.Tensor:
    """A real colour texture (scikit-image's immunohistochemistry image), in 8-bit steps."""
    from texsynth.image.io import load_image, resize_and_crop

    return (resize_and_crop(load_image("builtin:ihc").pixels, size) * 255).round() / 255


def test_stitching_lowers_the_seams_of_the_copied_fill() -> None:
    from texsynth.image.shifts import copied_fill, stitched_fill

    image = photograph()
    hole = torch.zeros(128, 128, dtype=torch.bool)
    hole[32:96, 32:96] = True  # a quarter of the area: no one shift fits, strips do
    kept = torch.where(hole, 0.0, image)
    copied, shifts = copied_fill(kept, hole)
    stitched = stitched_fill(kept, hole)
    assert len(shifts) > 1
    assert torch.equal(stitched[:, ~hole], image[:, ~hole])
    assert seam_energy(stitched, hole) < 0.8 * seam_energy(copied, hole)


def test_a_large_hole_in_a_lattice_is_filled_in_phase() -> None:
    from texsynth.image.shifts import stitched_fill

    image = checkerboard(128, 128, 8)[:1].expand(3, -1, -1).clone()
    hole = torch.zeros(128, 128, dtype=torch.bool)
    hole[32:96, 32:96] = True
    assert torch.equal(stitched_fill(torch.where(hole, 0.0, image), hole), image)


def test_tile_wraps_around_and_keeps_the_middle() -> None:
    image = photograph()
    canvas = tile_canvas(image)  # a 16 px frame
    tiled = canvas.composite(canvas.start)
    assert torch.equal(tiled[:, 16:-16, 16:-16], image[:, 16:-16, 16:-16])
    assert wrap_seam_ratio(image) > 1.5  # the photograph's opposite edges do not meet
    assert wrap_seam_ratio(tiled) < 1.3


def test_a_closed_seam_follows_the_cheapest_path_and_meets_itself() -> None:
    from texsynth.image.seams import closed_seam, wrapped_by_seams

    cost = np.ones((40, 9))
    cost[np.arange(40), 3 + (np.arange(40) // 10) % 2] = 0.0  # a cheap path, 3 then 4 …
    path, total = closed_seam(cost)
    assert total == 0.0 and abs(int(path[-1]) - int(path[0])) <= 1
    assert (cost[np.arange(40), path] == 0).all()
    image = torch.rand(3, 37, 53)
    tile = wrapped_by_seams(image, 5)
    assert torch.equal(tile[:, 5:-5, 5:-5], image[:, 5:-5, 5:-5])
    # Every output pixel is one of the image's pixels.
    pixels = {tuple(p) for p in image.flatten(1).T.tolist()}
    assert all(tuple(p) in pixels for p in tile.flatten(1).T.tolist())
