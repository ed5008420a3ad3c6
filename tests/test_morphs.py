"""Texture morphs (``synth A B --mix``): interpolated statistics and distributions."""

from __future__ import annotations

import pytest
import torch

from texsynth.image.io import load_image
from texsynth.statistics.gram import pool_statistics


def test_pooled_statistics_interpolate_by_weight(vgg_weights, small_color):
    from texsynth import TextureModel

    model = TextureModel.from_weights(vgg_weights)
    a = model.statistics(small_color)
    b = model.statistics(small_color.flip(1).roll(7, 2) ** 2)
    for t in (0.0, 0.3, 1.0):
        mixed = pool_statistics([a, b], (1 - t, t))
        for k in a.layers:
            assert torch.allclose(mixed.grams[k], (1 - t) * a.grams[k] + t * b.grams[k])
    halves, pooled = pool_statistics([a, b], (0.5, 0.5)), pool_statistics([a, b])
    assert all(torch.allclose(halves.grams[k], pooled.grams[k]) for k in a.layers)


def test_morph_moves_from_one_texture_to_the_other(vgg_weights, small_color):
    from texsynth import TextureModel, synthesize
    from texsynth.evaluation.metrics import relative_gram_error

    other = load_image("builtin:brick").pixels
    model = TextureModel.from_weights(vgg_weights)
    made = {t: synthesize([small_color, other], 64, mix=t, iters=40, model=model) for t in (0, 1)}
    assert made[0].task.mix == 0 and made[1].record()["task"]["mix"] == 1
    a, b = model.statistics(small_color), model.statistics(other)
    to_a = {t: relative_gram_error(model, r.image, a) for t, r in made.items()}
    to_b = {t: relative_gram_error(model, r.image, b) for t, r in made.items()}
    assert to_a[0] < to_a[1] and to_b[1] < to_b[0]


def test_a_morph_of_distributions_is_their_barycentre():
    """Along every direction the 1-D Wasserstein barycentre of a distribution and its
    translate by c is the translate by c/2: the half-way morph's loss is zero there."""
    from texsynth.losses.terms import IMAGE, PixelHistogramLoss, SlicedWassersteinLoss

    gen = torch.Generator().manual_seed(0)
    a = torch.rand(4, 40, generator=gen, dtype=torch.float64)
    shift = torch.tensor([0.5, -1.0, 2.0, 0.3], dtype=torch.float64)[:, None]
    b = a + shift
    half = SlicedWassersteinLoss([{"l": a}, {"l": b}], directions=8, weights=(0.5, 0.5))
    middle = (a + shift / 2).view(1, 4, 5, 8)
    assert float(half.double()({"l": middle})) == pytest.approx(0.0, abs=1e-12)
    assert float(half.double()({"l": a.view(1, 4, 5, 8)})) > 0.05
    only_a = SlicedWassersteinLoss([{"l": a}, {"l": b}], directions=8, weights=(1.0, 0.0))
    half.resample()  # still the barycentre with new directions
    assert float(half.double()({"l": middle})) == pytest.approx(0.0, abs=1e-12)
    assert float(only_a.double()({"l": a.view(1, 4, 5, 8)})) == pytest.approx(0.0, abs=1e-12)
    pixels = torch.rand(3, 8, 8, generator=gen)
    histogram = PixelHistogramLoss([pixels, pixels + 0.2], (0.75, 0.25))
    assert float(histogram({IMAGE: (pixels + 0.05)[None]})) < 1e-12
    assert float(histogram({IMAGE: (pixels + 0.1)[None]})) > 1e-3


def test_a_morph_interpolates_swd_and_the_histogram_term(vgg_weights, small_color):
    from texsynth import TextureModel, synthesize
    from texsynth.evaluation.metrics import feature_swd

    other = load_image("builtin:brick").pixels
    model = TextureModel.from_weights(vgg_weights)
    made = {
        t: synthesize([small_color, other], 48, mix=t, iters=30, model=model, loss="swd",
                      histogram_weight=1.0).image
        for t in (0.0, 1.0)
    }  # fmt: skip

    def swd(source, image):
        return sum(feature_swd(model, source, image).values())

    to_a = {t: swd(small_color, image) for t, image in made.items()}
    to_b = {t: swd(other, image) for t, image in made.items()}
    assert to_a[0.0] < to_a[1.0] and to_b[1.0] < to_b[0.0]


def test_mix_refusals_are_one_line(run_cli, color_png, tmp_path):
    out, saved = tmp_path / "m.png", tmp_path / "a.pt"
    assert run_cli("analyze", color_png, "-o", saved).code == 0
    cases = [
        ("synth", saved, color_png, "-o", out, "--mix", "0.5", "--loss", "swd"),
        ("synth", color_png, "-o", out, "--mix", "0.5"),
        ("synth", color_png, "builtin:brick", "-o", out, "--mix", "1.2"),
        ("synth", color_png, "builtin:brick", "-o", out, "--mix", "0.5", "--structure", "on"),
        ("synth", color_png, "builtin:brick", "-o", out, "--mix", "0.5,0.5"),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.code != 0 and len(result.err.strip().splitlines()) == 1, result.err
    assert not out.exists()


def test_a_morph_from_a_preset_is_the_swd_barycentre(run_cli, color_png, tmp_path):
    """``--mix`` without ``--loss`` matches the SWD barycentre; ``--loss gram`` the Gram
    interpolation. The sidecar records the loss, so a replay makes the same image."""
    import json

    quick = ("--size", "32", "--scales", "1", "--iters", "3", "-q")
    made = {}
    for loss in (None, "gram"):
        out = tmp_path / f"{loss}.png"
        given = () if loss is None else ("--loss", loss)
        result = run_cli("synth", color_png, "builtin:brick", "-o", out, "--mix", "0.5", *quick,
                         *given)  # fmt: skip
        assert result.code == 0, result.err
        made[loss] = json.loads(out.with_suffix(".json").read_text())["recipe"]["loss"]
    assert made == {None: "swd", "gram": "gram"}
    again = tmp_path / "again.png"
    replay = run_cli("synth", "--recipe", tmp_path / "None.json", "-o", again, "-q")
    assert replay.code == 0, replay.err
    assert again.read_bytes() == (tmp_path / "None.png").read_bytes()
