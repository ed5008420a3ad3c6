"""Presets are recipes: what each one sets, how overrides win, what the result records."""

import json

import pytest

from texsynth.core.errors import TexsynthError
from texsynth.core.recipe import PRESETS, Recipe, make_recipe
from texsynth.statistics.model import TextureModel
from texsynth.synthesis.run import synthesize

SMALL = ["conv1_1", "pool1", "pool2"]


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights, layers=SMALL)


def test_presets_are_recipes_and_differ_only_where_they_mean_to():
    assert all(isinstance(p, Recipe) for p in PRESETS.values())
    assert PRESETS["default"] == Recipe()
    paper = PRESETS["paper"]
    assert (paper.optimizer, paper.precision, paper.scales, paper.tol) == (
        "scipy-lbfgsb",
        "float32",
        1,
        0.0,
    )
    assert PRESETS["draft"] == make_recipe("default", iters=100, coarse_iters=40)


def test_quality_adds_the_papers_spectrum_swd_and_histograms_to_the_default():
    quality = PRESETS["quality"]
    assert quality == make_recipe(
        "default", loss="gram+swd", spectrum_weight=32.5,
        histogram_weight=0.1,
    )  # fmt: skip


def test_quality_brings_the_spectrum_and_histogram_closer(small_color, model):
    from texsynth.evaluation.metrics import color_distance, spectrum_distance

    source = small_color
    runs = {
        name: synthesize(source, 64, name, model=model, iters=30, coarse_iters=15, seed=1)
        for name in ("default", "quality")
    }
    spectra = {k: spectrum_distance(source, r.image) for k, r in runs.items()}
    colors = {k: color_distance(source, r.image) for k, r in runs.items()}
    assert spectra["quality"] < spectra["default"]
    assert colors["quality"] < colors["default"]
    assert runs["quality"].preset == "quality"


def test_quality_with_two_sources_or_a_guide_ends_in_one_line(run_cli, color_png, tmp_path):
    out = tmp_path / "o.png"
    for extra in ([color_png], ["--guide", color_png, color_png]):
        result = run_cli(
            "synth", color_png, *extra, "-o", out, "--size", "32", "--iters", "1",
            "--preset", "quality", "-q",
        )  # fmt: skip
        assert result.code != 0 and not out.exists()
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("texsynth: error:"), result.err


def test_explicit_fields_win_over_the_preset(small_color, model):
    paper = synthesize(small_color, 32, "paper", model=model, iters=3)
    assert (paper.recipe.tol, len(paper.scales), paper.preset) == (0.0, 1, "paper")
    assert paper.model.optimizer == "scipy-lbfgsb"
    fast = synthesize(small_color, 64, model=model, iters=3, scales=1)
    assert fast.model.optimizer == "torch-lbfgs" and len(fast.scales) == 1
    forced = synthesize(small_color, 32, model=model, iters=3, precision="float32")
    assert forced.model.precision == "float32"
    assert forced.preset == "default" and forced.recipe.iters == 3
    with pytest.raises(TexsynthError, match="unknown preset"):
        synthesize(small_color, 32, "fastest", model=model)
    with pytest.raises(TexsynthError, match="precision: unknown value 'float16'"):
        synthesize(small_color, 32, model=model, precision="float16")
    with pytest.raises(TexsynthError, match="unknown recipe option 'iterations'"):
        synthesize(small_color, 32, model=model, iterations=3)


def test_a_prebuilt_model_fixes_the_network_fields(small_color, model):
    with pytest.raises(TexsynthError, match="model= fixes network, layers"):
        synthesize(small_color, 32, model=model, layers=["conv1_1"])


def test_cli_records_the_preset_and_precision(run_cli, color_png, tmp_path):
    out = tmp_path / "o.png"
    res = run_cli(
        "synth", color_png, "-o", out, "--size", "32", "--iters", "3", "--preset", "paper",
        "--layers", "conv1_1,pool1", "-q",
    )  # fmt: skip
    assert res.code == 0, res.err
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["preset"] == "paper" and record["recipe"]["iters"] == 3
    assert (record["facts"]["optimizer"], record["facts"]["precision"]) == (
        "scipy-lbfgsb",
        "float32",
    )
    for bad in (["--scales", "0"], ["--precision", "half"], ["--preset", "x"], ["--iters", "-1"]):
        res = run_cli("synth", color_png, "-o", tmp_path / "p.png", *bad)
        assert res.code == 2 and len(res.err.strip().splitlines()) == 1, res.err
        assert not (tmp_path / "p.png").exists()
