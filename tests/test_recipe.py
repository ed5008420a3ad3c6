"""The recipe: declared once, it reaches the command line, manifests, the sidecar and back."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from texsynth.core.errors import TexsynthError
from texsynth.core.options import declared, flag_of
from texsynth.core.recipe import PRESETS, Recipe, fields_from, make_recipe
from texsynth.core.registry import LOSSES
from texsynth.core.sidecar import load_recipe, load_run
from texsynth.synthesis.run import synthesize

# A value for every recipe field, each unlike the default preset's, and all compatible.
EVERY_FIELD = {
    "network": "vgg16-hed",
    "layers": "conv1_1,pool1",
    "layer_weights": [1, 2],
    "pool": "max",
    "source_scale": 0.5,
    "loss": "swd",
    "structure": "on",
    "structure_loss": "spectrum",
    "structure_weight": 2,
    "structure_weighting": "fixed",
    "spectrum_weight": 2,
    "histogram_weight": 0.5,
    "histogram_scales": "all",
    "structure_scales": "all",
    "optimizer": "scipy-lbfgsb",
    "iters": 3,
    "coarse_iters": 2,
    "iters_side": 40,
    "scales": 2,
    "redraw_every": 7,
    "stop_change": 0.25,
    "tol": 0.5,
    "precision": "float32",
    "tileable": True,
    "hist_match": True,
    "preserve_colors": True,
}
# Fields that need another kind of source, each covered where that source is made.
ELSEWHERE = {"start": "tests/test_generator.py: start generator needs a .gen source"}


def test_values_are_parsed_wherever_a_recipe_is_made():
    recipe = Recipe(layers=["conv1_1", "pool1"], iters="5", tileable="yes", scales="auto")
    assert recipe.layers == ("conv1_1", "pool1") and recipe.iters == 5 and recipe.tileable
    assert hash(recipe) == hash(dataclasses.replace(recipe))  # frozen and hashable
    for bad, message in (
        ({"iters": -1}, "recipe: iters: -1 is below 0"),
        ({"network": "alexnet"}, "network: unknown value 'alexnet'; choose one of: vgg19"),
        ({"scales": 0}, "scales: 0 is not a whole number >= 1 or 'auto'"),
        ({"layer_weights": "1,x"}, "layer_weights: '1,x' is not a comma-separated list"),
    ):
        with pytest.raises(TexsynthError, match=message):
            Recipe(**bad)
    assert make_recipe("paper", iters=None, tol=None) == PRESETS["paper"]  # None: keep


def test_every_preset_survives_being_written_and_read_back():
    for recipe in PRESETS.values():
        assert Recipe(**fields_from(Recipe, recipe.as_dict(), "test")) == recipe


def test_a_registered_loss_becomes_a_recipe_choice(monkeypatch):
    monkeypatch.setattr(LOSSES, "_entries", dict(LOSSES._entries))
    with pytest.raises(TexsynthError, match="unknown value 'mine'"):
        Recipe(loss="mine")
    LOSSES.register("mine", "texsynth.losses.objective:gram", "the Gram loss under another name")
    assert Recipe(loss="mine").loss == "mine"


@pytest.mark.parametrize("command", ["synth", "batch"])
def test_help_lists_every_recipe_field_with_every_presets_value(run_cli, command):
    result = run_cli(command, "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    for name, spec in declared(Recipe):
        assert flag_of(name, spec) in text, name
    assert "presets: default 300, paper 500, draft 100, quality 300" in text
    assert "[default|paper|draft|quality]" in text


def test_a_manifest_with_every_recipe_field_reaches_the_synthesis(tmp_path, monkeypatch):
    import texsynth.batch as batch
    import texsynth.synthesis.run as run

    assert {*EVERY_FIELD, *ELSEWHERE} == {name for name, _ in declared(Recipe)}, "cover each"
    made = []

    def recording(*args, **kwargs):
        result = synthesize(*args, **kwargs)
        made.append(result)
        return result

    monkeypatch.setattr(run, "synthesize", recording)  # what a batch job of a synthesis calls
    job = {"source": "builtin:ihc", "size": 64, "seed": 3} | EVERY_FIELD
    manifest = tmp_path / "every.yaml"
    manifest.write_text(json.dumps({"jobs": [job]}))  # JSON is YAML
    summary = batch.run_batch(batch.read_manifest(manifest), tmp_path / "out", progress=False)
    assert summary.ok, summary.failed
    (result,) = made
    assert result.recipe == Recipe(**EVERY_FIELD)
    facts = json.loads(next((tmp_path / "out" / "images").glob("*.json")).read_text())["facts"]
    assert facts["weights"]["arch"] == "vgg16" and facts["weights"]["pool"] == "max"
    assert facts["layers"] == ["conv1_1", "pool1"] and facts["layer_weights"] == [1.0, 2.0]
    assert (facts["loss"], facts["optimizer"]) == ("CalibratedSum", "scipy-lbfgsb")
    assert [s["loss"] for s in facts["scales"]] == ["CalibratedSum"] * 2  # SWD + spectrum
    assert (facts["precision"], facts["padding"]) == ("float32", "circular")
    assert [s["size"] for s in facts["scales"]] == [[32, 32], [64, 64]]
    # 64² is over iters_side² = 40²: 3 × 40²/64² rounds to 1, raised to coarse_iters.
    assert [s["iterations"] for s in facts["scales"]] == [2, 2]
    assert result.image.shape == (3, 64, 64)  # coloured again after a luminance synthesis


def test_the_command_line_overrides_every_job_of_a_batch(tmp_path, run_cli):
    manifest = tmp_path / "m.csv"
    manifest.write_text("source,seed,size,iters\nbuiltin:brick,0,32,5\nbuiltin:ihc,1,32,5\n")
    out = tmp_path / "out"
    result = run_cli("batch", manifest, "-o", out, "--iters", "2", "--layers", "conv1_1", "-q")
    assert result.code == 0, result.err
    records = [json.loads(p.read_text()) for p in (out / "images").glob("*.json")]
    assert len(records) == 2
    assert all(r["recipe"]["iters"] == 2 and r["recipe"]["layers"] == ["conv1_1"] for r in records)
    assert "layers" in (out / "index.csv").read_text().splitlines()[0]


def test_a_sidecar_replays_to_the_same_image(color_png, tmp_path):
    result = synthesize(str(color_png), 48, "draft", iters=6, seed=4, loss="gram+swd")
    sidecar = tmp_path / "run.json"
    sidecar.write_text(json.dumps(result.record()))
    run = load_run(sidecar)
    assert run.recipe == result.recipe == load_recipe(sidecar)
    assert run.task.sources == (str(color_png.resolve()),) and run.task.seed == 4
    again = synthesize(list(run.task.sources), run.task.size, run.recipe, seed=run.task.seed)
    assert torch.equal(again.image, result.image)


def test_synth_recipe_replays_a_run_byte_for_byte(run_cli, color_png, tmp_path):
    first = tmp_path / "first.png"
    args = ["--size", "48x32", "--seed", "4", "--preset", "draft", "--iters", "6", "-q"]
    assert run_cli("synth", color_png, "-o", first, *args).code == 0
    again = tmp_path / "again.png"
    result = run_cli("synth", "--recipe", first.with_suffix(".json"), "-o", again, "-q")
    assert result.code == 0, result.err
    assert again.read_bytes() == first.read_bytes()
    # Whatever the command line gives wins over the sidecar.
    other = tmp_path / "other.png"
    sidecar = first.with_suffix(".json")
    assert (
        run_cli("synth", "--recipe", sidecar, "-o", other, "--seed", "5", "--iters", "3").code == 0
    )
    record = json.loads(other.with_suffix(".json").read_text())
    assert record["task"]["seed"] == 5 and record["recipe"]["iters"] == 3
    assert record["recipe"]["coarse_iters"] == 40  # the rest as recorded (draft)
    assert other.read_bytes() != first.read_bytes()


def test_a_hand_written_recipe_file_starts_from_its_preset(run_cli, color_png, tmp_path):
    recipe = tmp_path / "fast.json"
    recipe.write_text(json.dumps({"preset": "paper", "recipe": {"iters": 2, "layers": "conv1_1"}}))
    out = tmp_path / "o.png"
    assert (
        run_cli("synth", color_png, "--recipe", recipe, "-o", out, "--size", "32", "-q").code == 0
    )
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["recipe"] == PRESETS["paper"].as_dict() | {"iters": 2, "layers": ["conv1_1"]}


@pytest.mark.parametrize(
    ("content", "extra", "code", "message"),
    [
        (None, [], 1, "recipe file not found"),
        ("{not json", [], 1, "cannot read recipe file"),
        ('{"recipe": {"iters": -2}}', [], 1, "recipe: iters: -2 is below 0"),
        ('{"recipe": {"colour": 1}}', [], 1, "unknown field 'colour'"),
        ('{"parameters": {}, "seed": 0}', [], 1, "before recipes; it cannot be replayed"),
        ('{"task": {"sources": ["<Tensor>"]}}', [], 1, "records no source file to replay"),
        ('{"recipe": {}}', ["--preset", "paper"], 2, "--recipe replaces --preset"),
    ],
)
def test_bad_recipe_files_are_one_line(run_cli, tmp_path, content, extra, code, message):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    result = run_cli("synth", "--recipe", path, "-o", tmp_path / "o.png", *extra)
    assert result.code == code and message in result.err, result.err
    assert len(result.err.strip().splitlines()) == 1
    assert not (tmp_path / "o.png").exists()


def test_synth_without_sources_says_how_to_give_them(run_cli, tmp_path):
    result = run_cli("synth", "-o", tmp_path / "o.png")
    assert result.code == 2 and "give SOURCES, or --recipe" in result.err


def test_manifest_field_names_match_the_command_line(tmp_path):
    from texsynth.batch import read_manifest

    manifest = Path(tmp_path / "m.yaml")
    manifest.write_text(
        "jobs:\n  - {source: builtin:brick, coarse_iters: 5, weights_per_layer: '1,2',"
        " preserve_colors: true}\n"
    )
    (job,) = read_manifest(manifest)
    recipe = job.recipe()
    assert (recipe.coarse_iters, recipe.layer_weights, recipe.preserve_colors) == (
        5,
        (1.0, 2.0),
        True,
    )


def test_recipes_and_the_command_lines_help_need_no_torch():
    import subprocess
    import sys

    code = (
        "import sys, texsynth.cli, texsynth.core.recipe, texsynth.core.registry;"
        "texsynth.core.recipe.make_recipe('paper', iters='7');"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
