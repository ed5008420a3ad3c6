"""Quality metrics: identical → 0, noise → large, size-independent, seeded."""

from __future__ import annotations

import json

import pytest
import torch

from texsynth.evaluation.metrics import (
    color_distance,
    evaluate,
    radial_power_spectrum,
    sliced_wasserstein,
    spectrum_distance,
)
from texsynth.statistics.model import TextureModel


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights)


def test_identical_images_score_zero(model, small_color) -> None:
    scores = evaluate(small_color, small_color, model)
    for key in ("gram", "swd", "color", "spectrum"):
        assert scores[key] == pytest.approx(0.0, abs=1e-5), key


def test_noise_scores_far_worse_than_the_same_texture_rearranged(model, small_color) -> None:
    # Swapping the halves keeps the texture (plus a seam) but moves every pixel.
    other_crop = torch.cat([small_color[:, :, 32:], small_color[:, :, :32]], dim=2).flip(1)
    noise = torch.rand(3, 80, 56, generator=torch.Generator().manual_seed(0))
    same = evaluate(small_color, other_crop, model)
    far = evaluate(small_color, noise, model)
    for key in ("gram", "swd", "color", "spectrum"):
        assert far[key] > 2 * same[key], key
    assert far["gram"] > 0.5 and far["swd"] > 0.5


def test_swd_is_seeded_and_size_independent() -> None:
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(8, 500, generator=gen, dtype=torch.float64)
    dirs = torch.randn(16, 8, generator=gen, dtype=torch.float64)
    dirs = torch.nn.functional.normalize(dirs, dim=1)
    # The same distribution sampled twice as densely is (almost) at distance 0 …
    assert sliced_wasserstein(a, a.repeat(1, 2), dirs) < 1e-2
    # … and a shifted copy is at the distance of the shift along each direction.
    shift = torch.zeros(8, 1, dtype=torch.float64)
    shift[0] = 1.0
    expected = (dirs[:, 0] ** 2).mean().sqrt()
    assert sliced_wasserstein(a, a + shift, dirs) == pytest.approx(float(expected), rel=1e-6)


def test_swd_metric_repeats_with_a_seed(model, small_color) -> None:
    noise = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(2))
    a = evaluate(small_color, noise, model, seed=3)["swd"]
    b = evaluate(small_color, noise, model, seed=3)["swd"]
    c = evaluate(small_color, noise, model, seed=4)["swd"]
    assert a == b and a != c


def test_color_distance_ignores_layout_and_sees_shifts(small_color) -> None:
    flat = small_color.flatten(1)
    shuffled = flat[:, torch.randperm(flat.shape[1])].reshape(small_color.shape)
    assert color_distance(small_color, shuffled) == pytest.approx(0.0, abs=1e-7)
    darker = (small_color - 0.1).clamp(0, 1)
    assert 0.05 < color_distance(small_color, darker) <= 0.1 + 1e-6


def test_spectrum_distance_sees_blur_not_flips(small_color) -> None:
    assert spectrum_distance(small_color, small_color.flip(-1)) < 1e-9
    blurred = torch.nn.functional.avg_pool2d(small_color.unsqueeze(0), 3, 1, 1)[0]
    assert spectrum_distance(small_color, blurred) > 0.1
    spec = radial_power_spectrum(small_color)
    assert spec.shape == (31,) and torch.isfinite(spec).all()


def test_evaluate_command_prints_table_and_json(run_cli, color_png, tmp_path) -> None:
    out = tmp_path / "scores.json"
    result = run_cli("evaluate", color_png, color_png, "builtin:brick", "--json", out)
    assert result.code == 0, result.err
    lines = result.out.strip().splitlines()
    header = ["image", "gram", "swd", "color", "spectrum", "ps", "lattice", "copy"]
    assert lines[0].split() == header
    assert len(lines) == 4 and "no lattice" in lines[3]  # ihc has no periodic lattice
    assert lines[1].split()[6] == "-"
    data = json.loads(out.read_text())
    assert data["swd_directions"] == 128 and len(data["results"]) == 2
    assert data["results"][0]["gram"] == pytest.approx(0.0, abs=1e-5)
    # The source itself is all copy, but for patches that straddle its two halves.
    assert data["results"][0]["copy"] > 0.6 and data["results"][0]["lattice"] is None
    again = run_cli("evaluate", color_png, color_png, "--json", out)
    assert again.code == 1 and "exists" in again.err
    missing = run_cli("evaluate", color_png, tmp_path / "nope.png")
    assert missing.code == 1 and "no such file" in missing.err


def test_portilla_simoncelli_distance_is_zero_for_the_source_and_one_for_noise():
    from texsynth.evaluation.metrics import ps_distance
    from texsynth.image.io import load_image, resize_and_crop

    brick = resize_and_crop(load_image("builtin:brick").pixels, 128)
    assert ps_distance(brick, brick) == 0
    gen = torch.Generator().manual_seed(1)
    noise = (torch.randn(1, 96, 160, generator=gen) * brick.std() + brick.mean()).clamp(0, 1)
    assert 0.8 < ps_distance(brick, noise) < 1.25  # any size; 1 is noise's, by design
    crop = brick[:, 8:120, 16:112]  # the same texture, another crop
    grass = resize_and_crop(load_image("builtin:grass").pixels, 128)
    assert ps_distance(brick, crop) < 0.5 * ps_distance(brick, grass)
    colour = resize_and_crop(load_image("builtin:ihc").pixels, 64)
    assert ps_distance(colour, colour.flip(-1)) < ps_distance(colour, torch.rand(3, 64, 64))
