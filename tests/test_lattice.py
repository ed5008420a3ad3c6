"""The lattice measure and the copy check, on textures whose lattice is known."""

import pytest
import torch

from texsynth.evaluation.metrics import copy_fraction
from texsynth.image.lattice import find_lattice, lattice_score
from texsynth.image.patterns import bricks, checkerboard, hex_dots, shuffled_blocks

LATTICES = {"checkerboard": checkerboard, "bricks": bricks, "hex dots": hex_dots}


@pytest.mark.parametrize("name", list(LATTICES))
def test_a_lattice_scores_high_and_its_shuffled_blocks_low(name):
    image = LATTICES[name](128, 128)
    assert find_lattice(image) is not None
    assert lattice_score(image, image) == pytest.approx(1.0)
    # Another size of the same lattice keeps it; blocks (not a multiple of the period)
    # put back in another order keep every part and lose the lattice.
    assert lattice_score(image, LATTICES[name](160, 192)) > 0.95
    assert lattice_score(image, shuffled_blocks(image, 20, seed=1)) < 0.3


def test_the_lattice_vectors_are_the_patterns_periods():
    lags = set(find_lattice(bricks(128, 128, brick=(12, 28))).lags)
    assert (0, 28) in lags and {(12, 14), (12, -14)} <= lags  # a course, and half a brick over
    period = set(find_lattice(checkerboard(128, 128, period=16)).lags)
    assert all(dy % 8 == 0 and dx % 8 == 0 for dy, dx in period)


def test_noise_and_a_blurred_texture_have_no_lattice():
    gen = torch.Generator().manual_seed(0)
    assert find_lattice(torch.rand(3, 128, 128, generator=gen)) is None
    blobs = torch.nn.functional.avg_pool2d(torch.rand(1, 3, 160, 160, generator=gen), 9, 1)[0]
    assert find_lattice(blobs) is None
    assert lattice_score(torch.rand(3, 64, 64, generator=gen), bricks()) is None


def test_copy_check_sees_a_pasted_crop_but_not_another_sample():
    source = bricks(128, 192) * 0.7 + 0.3 * torch.rand(
        3, 128, 192, generator=torch.Generator().manual_seed(1)
    )
    sample = bricks(128, 192) * 0.7 + 0.3 * torch.rand(
        3, 128, 192, generator=torch.Generator().manual_seed(2)
    )
    assert copy_fraction(source, source[:, 10:110, 20:140]) > 0.85
    assert copy_fraction(source, sample) < 0.15  # same texture, new noise: nothing copied
