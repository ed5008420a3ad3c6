"""Edits (work in progress): the canvas of a fill, the shifted-copy start, and the one
promise every edit keeps: pixels outside the hole are not changed."""

from __future__ import annotations

import pytest
import torch

from texsynth.core.errors import ImageError, SizeError
from texsynth.image.canvas import Canvas, extend_canvas, shifted_copy, tile_canvas
from texsynth.image.patterns import checkerboard


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
