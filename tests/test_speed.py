"""The speed work: presets, the torch L-BFGS, bfloat16 models, automatic scales.

The faithful ``paper`` preset is pinned against an array stored before any speed work.
"""

import json

import numpy as np
import pytest
import scipy.optimize
import torch

from texsynth.errors import TexsynthError
from texsynth.network import MultiScaleNet, fast_bfloat16
from texsynth.optimize import ScipyLBFGSB, TorchLBFGS
from texsynth.synthesis import PRESETS, auto_scales, resolve_precision, synthesize
from texsynth.texture_model import TextureModel

SMALL = ["conv1_1", "pool1", "pool2"]


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights, layers=SMALL)


def test_presets_differ_only_in_defaults_and_explicit_arguments_win(small_color, model):
    paper = synthesize(small_color, 32, model=model, iters=3, preset="paper")
    assert (paper.parameters["tol"], paper.parameters["scales"]) == (0.0, 1)
    fast = synthesize(small_color, 64, model=model, iters=3, preset="default", scales=1)
    assert fast.parameters["optimizer"] == "torch-lbfgs" and fast.parameters["scales"] == 1
    forced = synthesize(
        small_color, 32, model=model, iters=3, preset="default", precision="float32"
    )
    assert forced.parameters["precision"] == "float32"
    with pytest.raises(TexsynthError, match="unknown preset"):
        synthesize(small_color, 32, model=model, preset="fastest")
    with pytest.raises(TexsynthError, match="unknown precision"):
        synthesize(small_color, 32, model=model, precision="float16")


def test_cli_preset_names_match_the_library():
    from texsynth.cli import PRESET_NAMES

    assert tuple(PRESETS) == PRESET_NAMES


def bounded_quadratic(n: int = 30, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, n, generator=gen, dtype=torch.float64)
    a = q @ q.T / n + 0.1 * torch.eye(n, dtype=torch.float64)
    b = torch.randn(n, generator=gen, dtype=torch.float64)
    return a, b


def test_torch_lbfgs_solves_a_bound_constrained_quadratic_like_scipy():
    a, b = bounded_quadratic()
    lower = torch.full((30,), -0.3, dtype=torch.float64)
    upper = torch.full((30,), 0.5, dtype=torch.float64)

    def f(x):
        return 0.5 * x @ a @ x - b @ x

    x0 = torch.zeros(30, dtype=torch.float64)
    ours = TorchLBFGS().minimize(f, x0, lower, upper, max_iter=200)
    ref = scipy.optimize.minimize(
        lambda v: (0.5 * v @ a.numpy() @ v - b.numpy() @ v, a.numpy() @ v - b.numpy()),
        np.zeros(30),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-0.3, 0.5)] * 30,
        options={"ftol": 0, "gtol": 1e-12, "maxiter": 1000},
    )
    assert ((ours.x >= lower) & (ours.x <= upper)).all()
    assert np.abs(ours.x.numpy() - ref.x).max() < 1e-5
    assert ((ours.x == lower) | (ours.x == upper)).any()  # some bounds are active
    assert ours.loss_history == sorted(ours.loss_history, reverse=True)


def test_torch_lbfgs_minimises_rosenbrock_and_stops_when_nothing_decreases():
    def rosenbrock(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    big = torch.full((2,), 10.0, dtype=torch.float64)
    x0 = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    result = TorchLBFGS().minimize(rosenbrock, x0, -big, big, max_iter=500)
    assert torch.allclose(result.x, torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert result.stop_reason != "max_iter" and result.iterations < 500
    # Started at a corner the gradient pushes against: nothing to do.
    at_bound = TorchLBFGS().minimize(lambda x: x.sum(), -big, -big, big, max_iter=5)
    assert at_bound.iterations == 0 and "no further decrease" in at_bound.stop_reason


def test_torch_lbfgs_keeps_pace_with_scipy_per_iteration(small_color, model):
    loss = model.loss(model.statistics(small_color))

    def objective(x):
        return loss(model.features(x)).sum()

    x0 = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    lo, hi = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
    ours = TorchLBFGS().minimize(objective, x0, lo, hi, max_iter=40)
    ref = ScipyLBFGSB().minimize(objective, x0, lo, hi, max_iter=40)
    assert ours.loss_history[-1] < ours.loss_history[0] / 100
    assert ours.loss_history[-1] < 2 * ref.loss_history[-1]
    assert ours.evaluations <= 1.3 * ours.iterations + 2  # no wasted evaluations


def test_bfloat16_model_gives_float32_features_close_to_float32(small_color, model):
    half = model.with_precision("bfloat16")
    assert half.dtype == torch.bfloat16 and model.dtype == torch.float32
    assert half.with_precision("bfloat16") is half
    x = small_color[None]
    f32, f16 = model.features(x), half.features(x)
    for name in SMALL:
        assert f16[name].dtype == torch.float32
        rel = (f16[name] - f32[name]).norm() / f32[name].norm()
        assert rel < 0.02, name
    assert half.with_padding("circular").dtype == torch.bfloat16
    assert 2 * half.estimate_memory_bytes(512, 256) == model.estimate_memory_bytes(512, 256)
    with pytest.raises(TexsynthError, match="unknown precision"):
        model.with_precision("float16")
    with pytest.raises(TexsynthError, match="only VGG"):
        TextureModel(MultiScaleNet(sizes=(3,), channels=4), ["multiscale"]).with_precision(
            "bfloat16"
        )


def test_bfloat16_synthesis_lowers_the_float32_loss_and_is_reproducible(small_color, model):
    runs = [
        synthesize(small_color, 48, model=model, iters=25, precision="bfloat16", scales=1)
        for _ in range(2)
    ]
    assert torch.equal(runs[0].image, runs[1].image)
    # Judged by the float32 model against float32 statistics.
    loss = model.loss(model.statistics(small_color))
    with torch.no_grad():
        start = float(loss(model.features(torch.rand(1, 3, 48, 48))))
        end = float(loss(model.features(runs[0].image[None])))
    assert end < start / 20


def test_auto_scales_keep_the_coarsest_image_and_source_at_64_px():
    assert auto_scales(256, 256, [512, 512]) == 3
    assert auto_scales(512, 384, [512, 512]) == 3
    assert auto_scales(1024, 1024, [1024, 1024]) == 4  # capped
    assert auto_scales(96, 96, [512, 512]) == 1
    assert auto_scales(256, 256, [100, 100]) == 1  # the source is the limit
    assert auto_scales(256, 256, None) == 1
    # Tileable: every scale must keep sides that are multiples of the model's 16 px.
    assert auto_scales(256, 256, [512, 512], multiple=16) == 3
    assert auto_scales(272, 272, [512, 512], multiple=16) == 1  # 136 is not a multiple
    assert auto_scales(288, 288, [512, 512], multiple=16) == 2  # 144 is, 72 is not


def test_auto_precision_needs_native_bfloat16_and_source_images(model):
    cpu = torch.device("cpu")
    expected = "bfloat16" if fast_bfloat16(cpu) else "float32"
    assert resolve_precision("auto", cpu, model, image_sources=True) == expected
    assert resolve_precision("auto", cpu, model, image_sources=False) == "float32"
    assert resolve_precision("float32", cpu, model, image_sources=True) == "float32"


def test_coarse_iterations_are_separate_from_the_full_scale_budget(small_color, model):
    result = synthesize(small_color, 64, model=model, iters=6, scales=2, coarse_iters=4)
    assert [c["iterations"] for c in result.parameters["coarse_scales"]] == [4]
    assert result.iterations == 6
    assert result.parameters["coarse_iters"] == 4


def test_cli_records_the_preset_and_precision(run_cli, color_png, tmp_path):
    out = tmp_path / "o.png"
    res = run_cli(
        "synth",
        color_png,
        "-o",
        out,
        "--size",
        "32",
        "--iters",
        "3",
        "--preset",
        "paper",
        "--layers",
        "conv1_1,pool1",
        "-q",
    )
    assert res.code == 0, res.err
    record = json.loads(out.with_suffix(".json").read_text())["parameters"]
    assert (record["preset"], record["optimizer"], record["precision"]) == (
        "paper",
        "scipy-lbfgsb",
        "float32",
    )
    for bad in (["--scales", "0"], ["--precision", "half"], ["--preset", "x"]):
        res = run_cli("synth", color_png, "-o", tmp_path / "p.png", *bad)
        assert res.code == 2 and len(res.err.strip().splitlines()) == 1, res.err
        assert not (tmp_path / "p.png").exists()
