"""Matched controls (``texsynth control``): phase-scrambled noise and shuffled pixels."""

from __future__ import annotations

import json

import pytest
import torch

from texsynth.stimuli.controls import (
    amplitude_error,
    phase_correlation,
    phase_scrambled,
    shuffled_pixels,
)


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
