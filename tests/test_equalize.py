"""Equalised sets (``texsynth equalize``, SHINE): luminance, histograms and spectra."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from texsynth.core.stimuli import Equalization
from texsynth.image.io import load_image
from texsynth.stimuli.equalize import equalize_set, histograms


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
