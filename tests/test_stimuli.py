"""Vision-science stimuli: matched controls, equalised sets (SHINE) and texture morphs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.core.stimuli import Equalization
from texsynth.image.io import load_image
from texsynth.statistics.gram import pool_statistics
from texsynth.stimuli.controls import (
    amplitude_error,
    phase_correlation,
    phase_scrambled,
    shuffled_pixels,
)
from texsynth.stimuli.equalize import equalize_set, histograms


# ------------------------------------------------------------------------- controls ----
def test_phase_control_keeps_the_spectrum_and_forgets_the_phases(small_color):
    made = phase_scrambled(small_color, seed=3)
    assert made.shape == small_color.shape
    assert amplitude_error(made, small_color) < 1e-12
    assert abs(phase_correlation(made, small_color)) < 0.05
    assert phase_correlation(small_color, small_color) == pytest.approx(1.0)
    assert torch.equal(made, phase_scrambled(small_color, seed=3))
    assert not torch.allclose(made, phase_scrambled(small_color, seed=4))
    # The same random phases in every channel: the cross-spectra between channels stay.
    a, b = torch.fft.fft2(made), torch.fft.fft2(small_color.double())
    assert torch.allclose(a[0] * a[1].conj(), b[0] * b[1].conj(), atol=1e-6)


def test_phase_control_wraps_around(small_color):
    made = phase_scrambled(small_color, seed=0)
    across = (made[:, :, 0] - made[:, :, -1]).abs().mean()
    within = (made[:, :, 1:] - made[:, :, :-1]).abs().mean()
    assert across < 1.5 * within


def test_pixel_control_shuffles_whole_pixels(small_color):
    made = shuffled_pixels(small_color, seed=1)
    assert not torch.equal(made, small_color)
    as_rows = lambda x: {tuple(p) for p in x.flatten(1).T.tolist()}  # noqa: E731
    assert as_rows(made) == as_rows(small_color)
    assert abs(phase_correlation(made, small_color)) < 0.05


def test_control_command_writes_replays_and_refuses(run_cli, color_png, tmp_path):
    out = tmp_path / "c.png"
    assert run_cli("control", color_png, "-o", out, "--seed", "5", "-q").code == 0
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["control"] == {"kind": "phase", "image": str(color_png), "seed": 5}
    assert record["facts"]["amplitude_error"] < 1e-12
    assert record["inputs"][0]["sha256"]
    again = tmp_path / "again.png"
    assert run_cli("control", "--recipe", out.with_suffix(".json"), "-o", again, "-q").code == 0
    assert again.read_bytes() == out.read_bytes()
    before = out.read_bytes()
    refused = run_cli("control", color_png, "-o", out, "--kind", "pixels")
    assert refused.code != 0 and "exists" in refused.err and out.read_bytes() == before
    bad = run_cli("control", color_png, "-o", tmp_path / "b.png", "--kind", "swirl")
    assert bad.code != 0 and len(bad.err.strip().splitlines()) == 1
    assert not (tmp_path / "b.png").exists()


# ------------------------------------------------------------------------ equalize ----
def _grey_set(folder: Path, count: int = 20, side: int = 48) -> list[Path]:
    """Smooth random grey textures of different means and contrasts."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        noise = rng.standard_normal((side, side))
        smooth = np.real(
            np.fft.ifft2(
                np.fft.fft2(noise)
                / (
                    1
                    + np.hypot(*np.meshgrid(np.fft.fftfreq(side), np.fft.fftfreq(side)))
                    * (20 + 4 * i)
                )
            )
        )
        image = 0.2 + 0.6 * i / count + smooth / smooth.std() * (0.03 + 0.005 * i)
        path = folder / f"im{i:02d}.png"
        Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8)).save(path)
        paths.append(path)
    return paths  # fmt: skip


def _luminance_stack(folder: Path, names: list[str]) -> torch.Tensor:
    return torch.stack([load_image(folder / n, grayscale=True).pixels[0].double() for n in names])


def test_equalized_luminance_and_exact_histograms(tmp_path):
    paths = _grey_set(tmp_path / "in")
    lum = equalize_set(paths, Equalization(luminance=True))
    assert lum.spread("mean", "before") > 0.5 and lum.spread("contrast", "before") > 0.5
    assert lum.spread("mean") < 0.005 and lum.spread("contrast") < 0.005
    hist = equalize_set(paths, Equalization(histogram=True))
    region = torch.ones(48, 48, dtype=torch.bool)
    stack = torch.stack([im[0].double() for im in hist.images])
    h = histograms(stack, region)
    assert torch.equal(h, h[:1].expand_as(h))  # identical, level by level
    assert all(0 < s < 1 for s in hist.ssim)


def test_equalized_spectra_and_the_alternation(tmp_path):
    paths = _grey_set(tmp_path / "in")
    spectrum = equalize_set(paths, Equalization(spectrum=True))
    before = max(row["spectrum_distance"] for row in spectrum.before)
    assert max(row["spectrum_distance"] for row in spectrum.after) < 0.2 * before
    both = equalize_set(paths, Equalization(spectrum=True, histogram=True, iterations=3))
    assert both.settings.steps == ["spectrum", "histogram"] * 3
    assert max(row["histogram_distance"] for row in both.after) < 1e-12
    assert max(row["spectrum_distance"] for row in both.after) < 0.5 * before


def test_equalize_keeps_what_the_mask_leaves_out(tmp_path):
    paths = _grey_set(tmp_path / "in", count=4)
    mask = np.zeros((48, 48), np.uint8)
    mask[8:40, 8:40] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    done = equalize_set(paths, Equalization(luminance=True, mask=str(tmp_path / "mask.png")))
    for path, image in zip(paths, done.images, strict=True):
        original = load_image(path).pixels[0]
        outside = torch.from_numpy(mask == 0)
        assert torch.equal(image[0][outside], original[outside])
        assert not torch.equal(image[0][~outside], original[~outside])


def test_equalize_keeps_colour(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, colour in enumerate([(200, 60, 40), (40, 90, 160), (90, 140, 60)]):
        rng = np.random.default_rng(i)
        base = np.array(colour) * (0.6 + 0.4 * rng.random((32, 32, 1)))
        Image.fromarray(base.astype(np.uint8)).save(folder / f"c{i}.png")
    done = equalize_set(sorted(folder.iterdir()), Equalization(luminance=True))
    for path, image in zip(sorted(folder.iterdir()), done.images, strict=True):
        source = load_image(path).pixels.flatten(1).mean(1)
        made = image.flatten(1).mean(1)
        assert int(made.argmax()) == int(source.argmax())  # red stays red, blue blue
    assert done.spread("mean") < 0.005


def test_equalize_command(run_cli, tmp_path):
    _grey_set(tmp_path / "in", count=5)
    out = tmp_path / "out"
    result = run_cli("equalize", tmp_path / "in", "-o", out, "--histogram", "--luminance")
    assert result.code == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"im{i:02d}.png" for i in range(5)] + ["equalize.csv", "equalize.json", "equalize.png"]
    )
    rows = list(csv.DictReader((out / "equalize.csv").open()))
    assert len(rows) == 5 and {"mean_before", "mean_after", "ssim"} <= set(rows[0])
    sidecar = json.loads((out / "equalize.json").read_text())
    assert sidecar["equalize"]["steps"] == ["histogram", "luminance"]
    assert len(sidecar["inputs"]) == 5
    again = run_cli("equalize", tmp_path / "in", "-o", out, "--histogram")
    assert again.code != 0 and "exists" in again.err


def test_equalize_refuses_bad_sets_in_one_line(run_cli, tmp_path):
    paths = _grey_set(tmp_path / "in", count=3)
    Image.new("L", (30, 20), 128).save(tmp_path / "in" / "odd.png")
    cases = [
        ("equalize", tmp_path / "in", "-o", tmp_path / "o1", "--luminance"),
        ("equalize", tmp_path / "in", "-o", tmp_path / "o2"),
        ("equalize", tmp_path / "nowhere", "-o", tmp_path / "o3", "--luminance"),
    ]
    for args in cases:
        result = run_cli(*args)
        assert result.code != 0 and len(result.err.strip().splitlines()) == 1, result.err
        assert "Traceback" not in result.err
    assert "--resize" in run_cli(*cases[0]).err
    resized = run_cli("equalize", tmp_path / "in", "-o", tmp_path / "o4", "--luminance",
                      "--resize", "-q")  # fmt: skip
    assert resized.code == 0 and Image.open(tmp_path / "o4" / "odd.png").size == (48, 48)
    assert len(paths) == 3


# -------------------------------------------------------------------------- morphs ----
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


# ------------------------------------------------------------------------- metamers ----
def test_windows_tile_the_periphery_and_spare_the_fovea():
    from texsynth.image.windows import MIN_WINDOW_PX, PoolingWindows

    windows = PoolingWindows(200, 160, 0.5, (80.0, 90.0))
    total = sum(windows.dense(k) for k in range(windows.count))
    fovea = windows.fovea()
    assert torch.allclose(total[~fovea], torch.ones(()).double(), atol=1e-9)
    assert float(total[fovea].abs().max()) == 0
    assert windows.fovea_radius == MIN_WINDOW_PX / 0.5 and windows.sectors == 13
    ecc = windows.eccentricities()
    assert ecc == sorted(ecc) and ecc[0] == windows.fovea_radius
    wider = PoolingWindows(200, 160, 0.8, (80.0, 90.0))
    assert wider.count < windows.count


def test_sparse_windows_are_the_dense_ones_pooled():
    import torch.nn.functional as F

    from texsynth.image.windows import PoolingWindows
    from texsynth.losses.pooled import window_grams

    windows = PoolingWindows(96, 128, 0.6, (40.0, 70.0))
    sparse = windows.at(4)
    features = torch.randn(1, 5, 32, 24, dtype=torch.float64)
    grams = window_grams(features, sparse)[0]
    used = (sparse.start.diff() > 0).nonzero().flatten().tolist()
    assert 0 < len(used) < windows.count  # some windows lie outside the image
    for k in used:
        w = F.avg_pool2d(windows.dense(k)[None, None], 4)[0, 0]
        f = features[0].flatten(1)
        dense = (f * w.flatten()) @ f.T / w.sum()
        assert torch.allclose(grams[k], dense, atol=1e-6)


def test_bad_windows_are_refused():
    from texsynth.core.errors import SizeError
    from texsynth.image.windows import PoolingWindows

    with pytest.raises(SizeError, match="too small for a 128x128 image"):
        PoolingWindows(128, 128, 0.2, (64, 64))
    with pytest.raises(SizeError, match="outside the 128x128 image"):
        PoolingWindows(128, 128, 0.5, (-1, 64))


def test_metamer_keeps_the_fovea_and_matches_the_windows(run_cli, tmp_path):
    from texsynth.image.io import resample, save_image

    src = save_image(resample(load_image("builtin:brick").pixels, 128, 128), tmp_path / "s.png")
    out = tmp_path / "m.png"
    args = ("metamer", src, "-o", out, "--scaling", "0.6", "--iters", "15", "-q")
    result = run_cli(*args)
    assert result.code == 0, result.err
    section = json.loads(out.with_suffix(".json").read_text())["metamer"]
    assert section["fovea_max_pixel_error"] == 0
    assert section["periphery_rms_pixel_difference"] > 0.05
    assert len(section["window_gram_error"]) == section["windows"] == 2 * 10
    made = load_image(out).pixels
    fovea_px = made[:, 64, 64] - load_image(src).pixels[:, 64, 64]
    assert float(fovea_px.abs().max()) <= 1 / 255
    facts = json.loads(out.with_suffix(".json").read_text())["facts"]
    assert facts["final_loss"] < 0.2 * facts["initial_loss"]
    again = tmp_path / "again.png"
    assert run_cli("metamer", "--recipe", out.with_suffix(".json"), "-o", again, "-q").code == 0
    assert again.read_bytes() == out.read_bytes()


def test_metamer_refusals_are_one_line(run_cli, color_png, tmp_path):
    out = tmp_path / "m.png"
    for extra in (("--scaling", "0"), ("--scaling", "0.05"), ("--scaling", "0.5", "--fixation",
                  "500,2"), ("--scaling", "0.5", "--fixation", "a,b"), ()):  # fmt: skip
        result = run_cli("metamer", color_png, "-o", out, *extra)
        assert result.code != 0 and len(result.err.strip().splitlines()) == 1, result.err
        assert "Traceback" not in result.err
    assert not out.exists()


def test_batch_grids_of_metamers_and_morphs(run_cli, tmp_path):
    from texsynth.image.io import resample, save_image

    save_image(resample(load_image("builtin:brick").pixels, 128, 128), tmp_path / "b.png")
    save_image(resample(load_image("builtin:ihc").pixels, 64, 64), tmp_path / "c.png")
    (tmp_path / "m.yaml").write_text(
        "defaults: {iters: 3}\ngrid: {images: [b.png], scalings: [0.6, 0.8], seeds: 2}\n"
        "jobs:\n  - {source: [c.png, b.png], mix: 0.5, iters: 3, size: 32, loss: gram}\n"
    )
    result = run_cli("batch", tmp_path / "m.yaml", "-o", tmp_path / "out", "-q")
    assert result.code == 0, result.err
    rows = list(csv.DictReader((tmp_path / "out" / "index.csv").open()))
    assert [r["status"] for r in rows] == ["done"] * 5
    assert sorted(r["scaling"] for r in rows) == ["", "0.6", "0.6", "0.8", "0.8"]
    assert [r["mix"] for r in rows if r["mix"]] == ["0.5"]
    sidecars = [json.loads(p.read_text()) for p in (tmp_path / "out" / "images").glob("*.json")]
    assert sum("metamer" in s for s in sidecars) == 4
    assert [s["task"]["mix"] for s in sidecars if "metamer" not in s] == [0.5]
    stray = tmp_path / "bad.yaml"
    stray.write_text("jobs:\n  - {source: c.png, fixation: '3,4'}\n")
    bad = run_cli("batch", stray, "-o", tmp_path / "out2", "-q")
    assert bad.code != 0 and "applies only to a metamer" in bad.err


def test_the_report_shows_controls_metamers_and_morphs(run_cli, color_png, tmp_path):
    from texsynth.report.cards import collect

    assert run_cli("control", color_png, "-o", tmp_path / "c.png", "-q").code == 0
    morph = ("synth", color_png, "builtin:brick", "-o", tmp_path / "m.png", "--mix", "0.5")
    assert run_cli(*morph, "--size", "32", "--iters", "2", "-q").code == 0
    cards = {card.key: card for card in collect(tmp_path).cards}
    assert cards["c"].fields["control"] == "phase" and "phase correlation" in cards["c"].numbers
    assert cards["m"].fields["mix"] == "0.5"
    assert run_cli("report", tmp_path, "-q").code == 0
    assert "phase correlation" in (tmp_path / "index.html").read_text()
