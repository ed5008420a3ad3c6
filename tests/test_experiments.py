"""The paper's experiments, run end to end at a tiny size: structure of outputs and basic truths."""

from __future__ import annotations

import csv
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from texsynth.core.errors import TexsynthError
from texsynth.core.recipe import make_recipe
from texsynth.experiments import EXPERIMENTS, Settings, run_all, run_experiment
from texsynth.experiments.other_networks import selected_networks
from texsynth.experiments.readout import (
    READOUT_LAYERS,
    SUPERCLASSES,
    builtin_dataset,
    imagenet_sample_dataset,
)

# The shared sample beside the checkout (as CI lays it out), wherever pytest runs from.
IMAGENET_SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "imagenet-sample"
TINY = Settings(
    size=32,
    iters=8,
    sources=("builtin:ihc", "builtin:brick"),
    progress=False,
    per_class=3,
    budgets=(1_000, 176_640),
)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("figures")
    # The built-in stand-in, whatever is shared.
    run_all(dataclasses.replace(TINY, imagenet_sample=str(out / "no-sample")), out)
    return out


def rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name / f"{name}.csv") as f:
        return list(csv.DictReader(f))


def record(folder: Path, name: str) -> dict:
    return json.loads((folder / name / f"{name}.json").read_text())


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_experiment_writes_figure_and_data(figures: Path, name: str) -> None:
    folder = figures / name
    for suffix in ("png", "pdf", "csv", "json"):
        assert (folder / f"{name}.{suffix}").stat().st_size > 0
    with Image.open(folder / f"{name}.png") as img:
        assert img.width > 300 and img.height > 300
    assert (folder / f"{name}.pdf").read_bytes().startswith(b"%PDF")
    data = record(figures, name)
    assert data["settings"]["size"] == 32 and data["caption"]
    # The figures' syntheses: the authors' loss from white noise at the figure's
    # iterations, by the fast optimiser unless --faithful; the caption says which.
    assert data["recipe"]["optimizer"] == "torch-lbfgs" and data["recipe"]["scales"] == 1
    assert data["recipe"]["stop_change"] == 0 and data["recipe"]["tol"] == 0
    if name not in ("readout", "portilla_simoncelli"):
        assert "same loss as the authors' SciPy L-BFGS-B" in data["caption"]
    assert data["recipe"]["iters"] == data["settings"]["iters"]
    assert data["rows"] and len(data["rows"]) == len(rows(figures, name))
    # Every synthesis named in the table exists as a full-size image.
    for row in rows(figures, name):
        if row.get("image"):
            with Image.open(folder / row["image"]) as img:
                assert img.size == (32, 32)
    assert not list(figures.glob(".*.tmp")), "scratch folders must not be left behind"


def test_faithful_figures_use_the_authors_optimiser() -> None:
    from texsynth.experiments.common import figure_recipe, optimiser_caption

    faithful = Settings(iters=7, faithful=True)
    assert figure_recipe(faithful) == make_recipe("paper", iters=7)
    assert "--faithful" in optimiser_caption(faithful)


def test_index_page_shows_every_figure_with_caption(figures: Path) -> None:
    from texsynth.report.page import is_generated

    assert is_generated(figures / "index.html")  # the page machinery of `texsynth report`
    page = (figures / "index.html").read_text()
    for name in EXPERIMENTS:
        assert f'src="{name}/{name}.png"' in page
        assert f'href="{name}/{name}.csv"' in page
        caption = record(figures, name)["caption"]
        assert caption[:40].replace("'", "&#x27;") in page


def test_layer_progression_rows_and_counts(figures: Path) -> None:
    table = rows(figures, "layers")
    models = [r["model"] for r in table]
    assert models.count("conv1_1") == 2 and models.count("portilla_simoncelli") == 2
    counts = {r["model"]: int(r["parameters"]) for r in table if r["parameters"]}
    assert counts == {
        "conv1_1": 2_080,
        "pool1": 4_160,
        "pool2": 12_416,
        "pool3": 45_312,
        "pool4": 176_640,
    }
    # Every synthesis, Portilla–Simoncelli's included, lowered its loss.
    for r in table:
        assert float(r["final_loss"]) < float(r["initial_loss"])
    # plenoptic's PS is grey: its images are single-channel.
    ps = next(r for r in table if r["model"] == "portilla_simoncelli")
    with Image.open(figures / "layers" / ps["image"]) as img:
        assert img.mode == "L"
    assert "grey" in record(figures, "layers")["caption"]


def test_reduced_models_have_the_stated_counts(figures: Path) -> None:
    table = rows(figures, "parameters")
    by_budget = {int(r["budget"]): r for r in table}
    assert int(by_budget[1_000]["components"]) == 19
    assert int(by_budget[1_000]["parameters"]) == 950
    assert int(by_budget[176_640]["parameters"]) == 176_640
    progression = record(figures, "parameters")["progression_parameters"]
    assert [p["parameters"] for p in progression] == [2_080, 4_160, 12_416, 45_312, 176_640]


def test_random_vgg_is_worse_than_trained_on_the_held_out_metric(figures: Path) -> None:
    """The paper's Fig. 3C finding, at equal iterations, judged by the trained VGG-19."""
    table = rows(figures, "networks")
    assert {r["model"] for r in table} == {
        "vgg19",
        "vgg19-original",
        "efficientnet-lite0",
        "vgg16-hed",
        "vgg19-random",
        "multiscale",
    }
    assert all(float(r["gram_error_vgg19"]) > 0 for r in table)  # every row held out
    for source in ("ihc", "brick"):
        err = {r["model"]: float(r["gram_error_vgg19"]) for r in table if r["source"] == source}
        assert err["vgg19-random"] > err["vgg19"]
    # Every network's synthesis made progress on its own loss (grey sources included).
    for r in table:
        assert float(r["final_loss"]) < float(r["initial_loss"]), r
    assert "cannot be obtained offline" in record(figures, "networks")["caption"]


def test_networks_figure_runs_the_chosen_rows_judged_by_the_trained_vgg(tmp_path: Path) -> None:
    """``--networks``: only the chosen rows, in the figure's order, still judged by the
    trained VGG-19 (built for that though not a row), and a caption of those rows alone."""
    settings = Settings(
        size=32, iters=4, sources=("builtin:brick",), progress=False,
        networks=selected_networks(["multiscale", "vgg19-random"]),
    )  # fmt: skip
    assert settings.networks == ("vgg19-random", "multiscale")
    run_experiment("networks", settings, tmp_path)
    table = rows(tmp_path, "networks")
    assert [r["model"] for r in table] == ["vgg19-random", "multiscale"]
    assert all(float(r["gram_error_vgg19"]) > 0 for r in table)
    caption = record(tmp_path, "networks")["caption"]
    assert "on 2 networks (of the figure's 6)" in caption
    assert "Multi-scale:" in caption and "Random VGG-19:" in caption
    assert "HED" not in caption and "EfficientNet-Lite0 (" not in caption
    assert record(tmp_path, "networks")["settings"]["networks"] == list(settings.networks)


def test_networks_figure_refuses_an_unknown_row() -> None:
    with pytest.raises(TexsynthError, match=r"unknown network 'vgg20'.*multiscale"):
        selected_networks(["vgg19", "vgg20"])


def test_readout_builtin_set_says_it_is_not_imagenet(figures: Path) -> None:
    table = rows(figures, "readout")
    assert [r["layer"] for r in table] == list(READOUT_LAYERS)
    for r in table:
        assert 0.0 <= float(r["accuracy_mean"]) <= 1.0
        assert int(r["classes"]) == 16 and int(r["images"]) == 48
    assert "NOT the paper's ImageNet experiment" in record(figures, "readout")["caption"]


def test_builtin_readout_set_is_seeded() -> None:
    a, la = builtin_dataset(2, 32, seed=1)
    b, lb = builtin_dataset(2, 32, seed=1)
    assert la == lb and all((x == y).all() for x, y in zip(a, b, strict=True))


def test_readout_on_a_labelled_folder_separates_classes(tmp_path: Path) -> None:
    """Stripes vs. checkerboards: any layer's Gram features tell them apart."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:48, :48]
    for cls in ("stripes", "checks"):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for i in range(6):
            period = rng.integers(4, 9)
            phase = rng.integers(0, period)
            if cls == "stripes":
                img = ((xx + phase) // period) % 2
            else:
                img = (((xx + phase) // period) + (yy // period)) % 2
            noisy = img * 200 + rng.integers(0, 40, img.shape)
            Image.fromarray(noisy.astype(np.uint8)).save(tmp_path / "data" / cls / f"{i}.png")
    settings = Settings(size=32, progress=False, data=str(tmp_path / "data"))
    rec = run_experiment("readout", settings, tmp_path / "out")
    assert rec.data["dataset"].startswith("folder")
    accuracies = [r["accuracy_mean"] for r in rec.data["rows"]]
    assert accuracies[0] == pytest.approx(1.0)
    assert "NOT the paper's" not in rec.caption


def test_imagenet_sample_superclasses_are_balanced_and_disjoint(tmp_path: Path) -> None:
    indices = [
        i for ranges in SUPERCLASSES.values() for lo, hi in ranges for i in range(lo, hi + 1)
    ]
    assert len(indices) == len(set(indices)) and max(indices) < 1000  # no class in two
    if not IMAGENET_SAMPLE.is_dir():
        pytest.skip("../shared/imagenet-sample is not here")
    paths, labels = imagenet_sample_dataset(IMAGENET_SAMPLE, seed=0)
    counts = {name: labels.count(name) for name in SUPERCLASSES}
    assert min(counts.values()) >= 25 and max(counts.values()) <= 48, counts
    assert paths[labels.index("dogs")].name.startswith("n02")  # dogs: n02085620 … n02113978
    assert imagenet_sample_dataset(IMAGENET_SAMPLE, seed=0) == (paths, labels)
    with pytest.raises(TexsynthError, match="1,000 photographs"):
        imagenet_sample_dataset(tmp_path)


def test_sources_non_textures_and_unique_labels() -> None:
    from texsynth.core.errors import TexsynthError
    from texsynth.experiments.common import load_sources

    sources = load_sources(["builtin:brick", "builtin:chelsea"], 32, ["builtin:grass"])
    assert [(s.label, s.texture) for s in sources] == [
        ("brick", True),
        ("chelsea", False),
        ("grass", False),
    ]
    assert all(s.pixels.shape[1:] == (32, 32) for s in sources)
    with pytest.raises(TexsynthError, match="must differ"):
        load_sources(["builtin:brick", "builtin:brick"], 32)


def test_figure_networks_take_registry_names_and_old_names_with_a_note() -> None:
    from texsynth.core.registry import NETWORKS
    from texsynth.experiments.settings import network_names

    assert network_names("vgg19,multiscale") == ("vgg19", "multiscale")
    with pytest.warns(UserWarning, match="registry's names"):
        assert network_names("hed_vgg16,vgg19_random") == ("vgg16-hed", "vgg19-random")
    assert set(network_names(",".join(NETWORKS.names()))) == set(NETWORKS.names())
