"""Metamers (``texsynth metamer``): pooling windows and the fovea kept."""

from __future__ import annotations

import json

import pytest
import torch

from texsynth.image.io import load_image


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
