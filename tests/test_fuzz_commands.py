"""Bad input and faults in the newer commands (issue 35): fill, extend, tile, train, sample,
metamer, control, equalize, morphs, batch, report, figure readout, .gen files and sidecars.

The same checks as tests/test_fuzz.py: the real entry point, the exit status, exactly one
``texsynth: error:`` line, no traceback, and a whole-tree diff showing that no file was
created, changed or removed but what was asked. Sizes are 32-64 px, runs a few iterations.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.synthesis.train import train_generator

from conftest import tree
from test_fuzz import QUICK

TRAIN = {"train_size": 32, "batch": 1, "layers": "conv1_1,pool1", "structure": "off"}


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """A small colour texture: blobs of several sizes, with noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([np.sin(x / (3 + c) + y / (5 - c)) + np.cos(y / (4 + c)) for c in range(3)], -1)
    pixels = 0.5 + 0.2 * base + 0.08 * rng.standard_normal((height, width, 3))
    return (np.clip(pixels, 0, 1) * 255).astype(np.uint8)


@pytest.fixture()
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working folder, where ``refused`` runs: ``src.png`` (64 px), ``wide.png``
    (64x48), a hole mask ``mask.png`` and a folder ``set/`` of two images."""
    folder = tmp_path / "work"
    (folder / "set").mkdir(parents=True)
    Image.fromarray(texture(64, 64)).save(folder / "src.png")
    Image.fromarray(texture(64, 48, 1)).save(folder / "wide.png")
    mask = np.zeros((64, 64), np.uint8)
    mask[20:40, 20:40] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    for i in range(2):
        Image.fromarray(texture(32, 32, 2 + i)).save(folder / "set" / f"im{i}.png")
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture(scope="module")
def generator_file(tmp_path_factory) -> Path:
    """A generator trained for two steps: enough to sample from."""
    folder = tmp_path_factory.mktemp("gen")
    Image.fromarray(texture(48, 48)).save(folder / "tex.png")
    out = folder / "tex.gen"
    train_generator(folder / "tex.png", output=out, steps=2, **TRAIN)
    return out


def _gen_in(work: Path, generator_file: Path, name: str = "a.gen", change=None) -> Path:
    """A copy of the generator in ``work``, its payload changed by ``change`` first."""
    payload = torch.load(generator_file, weights_only=True)
    if change is not None:
        change(payload)
    torch.save(payload, work / name)
    return work / name


def _seams(path: Path) -> tuple[float, float]:
    """A tile's mean jump across its wrap-around, and its median neighbour difference."""
    x = np.asarray(Image.open(path).convert("RGB")).astype(float)
    across = np.concatenate([np.abs(x[:, 0] - x[:, -1]).mean(1), np.abs(x[0] - x[-1]).mean(1)])
    steps = np.concatenate(
        [np.abs(np.diff(x, axis=1)).mean(2).ravel(), np.abs(np.diff(x, axis=0)).mean(2).ravel()]
    )
    return float(across.mean()), float(np.median(steps))


# ------------------------------------------------- 1-2: files lost or replaced -------------
def test_1_equalize_overwrite_replaces_its_own_files_only(run_cli, work: Path) -> None:
    out = work / "out"
    (out / "keep").mkdir(parents=True)
    (out / "keep" / "x.txt").write_text("mine")
    (out / "notes.txt").write_text("my notes")
    (out / "photo.jpg").write_bytes(b"my photo")
    (out / "im0.png").write_bytes(b"an old output")
    mine = {k: v for k, v in tree(out).items() if k != "im0.png"}
    assert run_cli("equalize", "set", "-o", "out", "--luminance", "-q").code != 0
    result = run_cli("equalize", "set", "-o", "out", "--luminance", "--overwrite", "-q")
    assert result.code == 0, result.err
    after = tree(out)
    assert all(after[k] == v for k, v in mine.items())  # the user's files, all kept
    assert Image.open(out / "im0.png").size == (32, 32)
    assert {"im1.png", "equalize.csv", "equalize.png", "equalize.json"} <= set(after)


def test_1_figure_overwrite_keeps_other_files(run_cli, work: Path) -> None:
    args = ["figure", "readout", "-o", "figs", "--size", "32", "--per-class", "2",
            "--imagenet-sample", "none-here", "-q"]  # fmt: skip
    assert run_cli(*args).code == 0
    (work / "figs" / "readout" / "notes.txt").write_text("mine")
    again = run_cli(*args, "--overwrite")
    assert again.code == 0, again.err
    assert (work / "figs" / "readout" / "notes.txt").read_text() == "mine"
    assert (work / "figs" / "readout" / "readout.png").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ["equalize", "set", "-o", "set", "--luminance", "--overwrite"],
        ["equalize", "set", "-o", "set/", "--histogram", "--overwrite"],
    ],
    ids=["same-folder", "same-folder-slash"],
)
def test_1_equalize_never_writes_into_its_input_folder(refused, args) -> None:
    refused(args, "is the input folder")


@pytest.mark.parametrize(
    "args",
    [
        ["fill", "src.png", "--mask", "mask.png", "-o", "src.png"],
        ["fill", "src.png", "--mask", "mask.png", "-o", "mask.png"],
        ["tile", "src.png", "-o", "./src.png"],
        ["extend", "src.png", "--size", "80x64", "-o", "src.png"],
        ["control", "src.png", "-o", "src.png"],
        ["metamer", "src.png", "--scaling", "0.8", "-o", "src.png", "--iters", "1"],
        ["synth", "src.png", "-o", "src.png", "--size", "32", *QUICK],
    ],
    ids=["fill-image", "fill-mask", "tile", "extend", "control", "metamer", "synth"],
)
@pytest.mark.parametrize("overwrite", [False, True], ids=["", "overwrite"])
def test_2_an_output_that_is_an_input_is_refused(refused, args, overwrite) -> None:
    message = "is one of this run's inputs" if overwrite else "exists"
    refused([*args, *(["--overwrite"] if overwrite else [])], message)


def test_2_a_replay_never_writes_over_its_own_sidecar(run_cli, refused, work: Path) -> None:
    assert run_cli("control", "src.png", "-o", "c.png", "-q").code == 0
    refused(["control", "--recipe", "c.json", "-o", "c.png", "--overwrite"], "c.json")
    assert run_cli("synth", "src.png", "-o", "s.png", "--size", "32", *QUICK).code == 0
    refused(["synth", "--recipe", "s.json", "-o", "s.png", "--overwrite"], "this run's inputs")


# ------------------------------------------------- 3-5: silently wrong ----------------------
@pytest.mark.parametrize("name, size", [("wide.png", (64, 48)), ("odd.png", (50, 50))])
def test_3_tile_wraps_at_any_size_and_keeps_the_middle(run_cli, work, name, size) -> None:
    if name == "odd.png":
        Image.fromarray(texture(*size, seed=5)).save(work / name)
    result = run_cli("tile", name, "-o", "t.png", "-q")
    assert result.code == 0, result.err
    tile = np.asarray(Image.open(work / "t.png"))
    original = np.asarray(Image.open(work / name))
    assert tile.shape == original.shape
    band = min(size) // 8
    assert (tile[band:-band, band:-band] == original[band:-band, band:-band]).all()
    across, typical = _seams(work / "t.png")
    original_across, _ = _seams(work / name)
    assert across < 1.5 * typical < original_across, (across, typical, original_across)


def test_3_a_wide_band_is_real_texture_not_flat_blocks(run_cli, work: Path) -> None:
    result = run_cli("tile", "src.png", "-o", "t.png", "--band", "31", "-q")
    assert result.code == 0, result.err
    tile = np.asarray(Image.open(work / "t.png")).astype(float)
    original = np.asarray(Image.open(work / "src.png")).astype(float)
    assert tile.std() > 0.7 * original.std()
    assert np.abs(np.diff(tile, axis=1)).mean() > 0.5 * np.abs(np.diff(original, axis=1)).mean()


def test_3_tile_refinement_says_which_sizes_it_needs(refused, work: Path) -> None:
    Image.fromarray(texture(50, 40)).save(work / "odd.png")
    refused(["tile", "odd.png", "-o", "t.png", "--refine", "2", *QUICK[2:]],
            "multiples of 16 px, not 50x40; without --refine any size tiles")  # fmt: skip


@pytest.mark.parametrize("suffix", [".jpg", ".jpeg", ".webp", ".gif"])
def test_4_an_edit_refuses_a_format_that_changes_kept_pixels(refused, suffix) -> None:
    refused(["fill", "src.png", "--mask", "mask.png", "-o", f"f{suffix}"], "cannot hold")


def test_4_an_edit_to_tiff_keeps_every_pixel(run_cli, work: Path) -> None:
    result = run_cli("fill", "src.png", "--mask", "mask.png", "-o", "f.tif", "-q")
    assert result.code == 0, result.err
    kept = np.asarray(Image.open(work / "mask.png")) < 128
    filled, original = np.asarray(Image.open(work / "f.tif")), np.asarray(Image.open("src.png"))
    assert (filled[kept] == original[kept]).all()


def test_5_the_size_message_says_width_x_height(refused, work: Path) -> None:
    Image.fromarray(texture(64, 40)).save(work / "w.png")
    refused(["synth", "w.png", "-o", "o.png", "--tileable", "--iters", "1", "--scales", "1"],
            "not 64x40")  # fmt: skip
    args = ["synth", "src.png", "-o", "o.png", "--size", "80x48", "--tileable", "--iters", "1"]
    refused([*args, "--scales", "2", "-q"], "multiples of 32 px")


# ------------------------------------------------- 6-7: memory and hangs --------------------
def test_6_extend_estimates_memory_before_it_allocates(refused) -> None:
    refused(["extend", "src.png", "-o", "e.png", "--size", "30000x30000"], "patch fill needs")


def test_6_out_of_memory_names_force_only_when_given(refused, monkeypatch) -> None:
    import texsynth.image.canvas as canvas

    def exhausted(*args, **kwargs):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried 9 GB")

    monkeypatch.setattr(canvas, "stitched_fill", exhausted)
    args = ["fill", "src.png", "--mask", "mask.png", "-o", "f.png"]
    refused(args, "out of memory; choose a smaller size or source")
    with pytest.raises(AssertionError, match="drop --force"):
        refused(args, "drop --force")
    refused([*args, "--force"], "(or drop --force)")


def test_6_a_batch_job_too_large_fails_alone_with_the_estimate(run_cli, work: Path) -> None:
    (work / "jobs.yaml").write_text(
        "jobs:\n  - {edit: extend, image: src.png, size: 30000x30000}\n"
        "  - {edit: tile, image: src.png}\n"
    )
    result = run_cli("batch", "jobs.yaml", "-o", "out", "-q")
    assert result.code == 1 and "Traceback" not in result.err
    index = (work / "out" / "index.csv").read_text()
    assert "patch fill needs about" in index and "allocat" not in index
    assert index.count(",done,") == 1


@pytest.mark.parametrize(
    "size, message",
    [("100000x100000", "above 65,536 px"), ("99999999999999999999x64", "above 65,536 px")],
)
def test_6_8_absurd_sizes_are_refused_by_the_parser(refused, size, message) -> None:
    refused(["extend", "src.png", "-o", "e.png", "--size", size], message)
    with pytest.raises(AssertionError):
        refused(["extend", "src.png", "-o", "e.png", "--size", size], "--force")


def test_7_sample_checks_a_million_names_by_one_listing(refused, work, generator_file) -> None:
    gen = _gen_in(work, generator_file)
    (work / "d").mkdir()
    (work / "d" / "a_seed999999.json").write_text("{}")
    (work / "d" / "a_seed1000000.png").write_text("beyond the range")
    refused(["sample", gen.name, "-o", "d", "--n", "1000000"], "a_seed999999.json")


# ------------------------------------------------- 8-13: tracebacks -------------------------
@pytest.mark.parametrize("size", ["16", "1x1", "17x5"])
def test_9_samples_of_any_small_size(run_cli, work, generator_file, size) -> None:
    gen = _gen_in(work, generator_file)
    result = run_cli("sample", gen.name, "-o", "d", "--size", size, "-q")
    assert result.code == 0, result.err
    (made,) = (work / "d").glob("*.png")
    width, _, height = size.partition("x")
    assert Image.open(made).size == (int(width), int(height or width))


def test_9_a_tiny_generator_start_refines(run_cli, work, generator_file) -> None:
    gen = _gen_in(work, generator_file)
    args = ["synth", gen.name, "-o", "g.png", "--start", "generator", "--iters", "0"]
    result = run_cli(*args, "--size", "16", "--layers", "conv1_1,pool1", "--scales", "1", "-q")
    assert result.code == 0, result.err
    assert Image.open(work / "g.png").size == (16, 16)


def test_9_a_tiny_tileable_sample_is_refused(refused, work, generator_file) -> None:
    gen = _gen_in(work, generator_file)
    refused(["sample", gen.name, "-o", "d", "--size", "16", "--tileable"], "at least 32 px")


@pytest.mark.parametrize(
    "output, message",
    [("afile/x", "not writable"), ("ro/x", "not writable"), ("afile", "is a file")],
)
def test_10_sample_checks_its_folder_before_any_work(
    refused, work, generator_file, monkeypatch, output, message
) -> None:
    gen = _gen_in(work, generator_file)
    (work / "afile").write_text("a file")
    (work / "ro").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p).name == "ro" else real(p, m))
    import texsynth.synthesis.samples as samples

    monkeypatch.setattr(samples, "generator_samples", lambda *a: pytest.fail("work began"))
    refused(["sample", gen.name, "-o", output], message)


def test_10_equalize_checks_its_folder_before_any_work(refused, work, monkeypatch) -> None:
    (work / "ro").mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, m: False if Path(p).name == "ro" else real(p, m))
    refused(["equalize", "set", "-o", "ro/eq", "--luminance"], "not writable: ")


def test_11_a_huge_scaling_is_refused(run_cli, refused, work: Path) -> None:
    refused(["metamer", "src.png", "-o", "m.png", "--scaling", "1e9"], "widest pooling windows")
    (work / "m.yaml").write_text("jobs:\n  - {image: src.png, scaling: 1e9, iters: 1}\n")
    result = run_cli("batch", "m.yaml", "-o", "out", "-q")
    assert result.code != 0 and "widest pooling windows" in result.err + _index(work)
    assert "math range error" not in result.err + _index(work)


def _index(work: Path) -> str:
    index = work / "out" / "index.csv"
    return index.read_text() if index.exists() else ""


def test_12_figure_readout_runs_on_an_imagenet_sample(run_cli, work, monkeypatch) -> None:
    from texsynth.experiments import readout

    folder = work / "inet"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1000):
        pixels = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"n{i:08d}_class.jpg")
    real = readout.imagenet_sample_dataset
    monkeypatch.setattr(readout, "imagenet_sample_dataset", lambda f, s: real(f, s, cap=3))
    result = run_cli("figure", "readout", "-o", "f", "--size", "32", "--imagenet-sample", "inet",
                     "-q")  # fmt: skip
    assert result.code == 0, result.err
    record = json.loads((work / "f" / "readout" / "readout.json").read_text())
    assert "imagenet-sample" in json.dumps(record)


# ------------------------------------------------- 13: a .gen file is untrusted -------------
def _set(path: str, value):
    def change(payload: dict) -> None:
        *parents, last = path.split("/")
        node = payload
        for key in parents:
            node = node[key]
        node[last] = value(node[last]) if callable(value) else value

    return change


def _drop(path: str):
    def change(payload: dict) -> None:
        *parents, last = path.split("/")
        node = payload
        for key in parents:
            node = node[key]
        del node[last]

    return change


BAD_GENERATORS = {
    "channels-text": (_set("shape/channels", "3"), "shape.channels"),
    "scales": (_set("shape/scales", 6), "shape.scales"),
    "width-huge": (_set("shape/width", 10**9), "shape.width"),
    "extra-field": (_set("extra", 1), "unknown or missing fields: extra"),
    "no-recipe": (_drop("recipe"), "missing fields: recipe"),
    "weight-shape": (_set("weights/to_pixels.weight", lambda w: w[:, :1]), "has shape"),
    "weight-nan": (_set("weights/to_pixels.bias", lambda b: b * float("nan")), "not finite"),
    "weight-int": (_set("weights/to_pixels.bias", lambda b: b.long()), "real numbers"),
    "weight-missing": (_drop("weights/to_pixels.bias"), "weights has unknown or missing"),
    "bounds": (_set("weights/lower", lambda b: b + 2), "pixel bounds"),
    "recipe-type": (_set("recipe/iters", "many"), "recipe"),
    "recipe-unknown": (_set("recipe/colour", 1), "unknown field 'colour'"),
    "recipe-list": (_set("recipe", [1, 2]), "recipe is not a mapping"),
    "pixels-float": (_set("source/pixels", lambda p: p.float()), "8-bit pixels"),
    "pixels-channels": (_set("source/pixels", lambda p: p[:2]), "want 3 channels"),
    "sha256": (_set("source/sha256", "abc"), "sha256"),
    "name": (_set("source/name", 7), "source.name"),
    "step-text": (_set("training/step", "10"), "training.step"),
    "seconds-inf": (_set("training/seconds", float("inf")), "training.seconds"),
    "losses-nan": (_set("training/losses", [float("nan")]), "training.losses"),
    "settings": (_set("training/settings/batch", 10**6), "training"),
    "optimizer": (_set("training/optimizer", {"state": {}, "param_groups": "x"}), "one group"),
}


@pytest.mark.parametrize("case", list(BAD_GENERATORS), ids=list(BAD_GENERATORS))
def test_13_every_field_of_a_generator_file_is_checked(refused, work, generator_file, case):
    change, message = BAD_GENERATORS[case]
    gen = _gen_in(work, generator_file, change=change)
    refused(["sample", gen.name, "-o", "d"], message)
    refused(["synth", gen.name, "-o", "o.png", "--start", "generator", "--size", "32",
             *QUICK], message)  # fmt: skip


def test_13_a_bad_generator_fails_its_batch_job_only(run_cli, work, generator_file) -> None:
    _gen_in(work, generator_file, "bad.gen", _set("training/step", "10"))
    (work / "jobs.yaml").write_text(
        "defaults: {size: 32, iters: 1, layers: 'conv1_1,pool1', scales: 1}\n"
        "jobs:\n  - {source: bad.gen, start: generator}\n  - {source: src.png}\n"
    )
    result = run_cli("batch", "jobs.yaml", "-o", "out", "-q")
    assert result.code == 1 and "Traceback" not in result.err
    index = _index(work)
    assert index.count(",done,") == 1 and "training.step" in index


# ------------------------------------------------- sidecars are untrusted -------------------
def _sidecar(run_cli, work: Path, command: list[str], name: str) -> dict:
    result = run_cli(*command)
    assert result.code == 0, result.err
    return json.loads((work / name).read_text())


def test_every_sidecar_section_is_checked(run_cli, refused, work: Path) -> None:
    fill = _sidecar(run_cli, work, ["fill", "src.png", "--mask", "mask.png", "-o", "f.png"],
                    "f.json")  # fmt: skip
    cases = {
        "top": (fill | {"colour": 1}, "unknown section 'colour'"),
        "edit-key": (fill | {"edit": fill["edit"] | {"kept": 1}}, "edit: unknown field 'kept'"),
        "edit-kind": (fill | {"edit": fill["edit"] | {"kind": "smear"}}, "unknown value"),
        "edit-sha": (fill | {"edit": fill["edit"] | {"mask_sha256": 3}}, "mask_sha256"),
        "facts": (fill | {"facts": [1]}, "'facts' must be a JSON object"),
        "inputs": (fill | {"inputs": [{"path": 3}]}, "path and role must be text"),
        "inputs-key": (fill | {"inputs": [{"where": "x"}]}, "unknown field 'where'"),
    }
    for data, message in cases.values():
        (work / "bad.json").write_text(json.dumps(data))
        refused(["fill", "--recipe", "bad.json", "-o", "again.png"], message)


def test_metamer_and_control_sidecars_are_checked(run_cli, refused, work: Path) -> None:
    meta = _sidecar(run_cli, work, ["metamer", "src.png", "-o", "m.png", "--scaling", "0.8",
                                    "--iters", "1", "-q"], "m.json")  # fmt: skip
    control = _sidecar(run_cli, work, ["control", "src.png", "-o", "c.png", "-q"], "c.json")
    cases = [
        (meta | {"metamer": meta["metamer"] | {"scaling": "wide"}}, "metamer", "scaling"),
        (meta | {"metamer": meta["metamer"] | {"pooling": 1}}, "metamer", "'pooling'"),
        (meta | {"metamer": meta["metamer"] | {"windows": {"a": 1}}}, "metamer", "windows"),
        (control | {"control": control["control"] | {"kind": 3}}, "control", "unknown value"),
    ]
    for data, command, message in cases:
        (work / "bad.json").write_text(json.dumps(data))
        refused([command, "--recipe", "bad.json", "-o", "again.png"], message)


def test_a_replay_whose_input_cannot_be_read_says_so(run_cli, refused, work, monkeypatch):
    assert run_cli("control", "src.png", "-o", "c.png", "-q").code == 0
    import texsynth.core.provenance as provenance

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(provenance, "file_sha256", unreadable)
    refused(["control", "--recipe", "c.json", "-o", "again.png"], "Permission denied")


# ------------------------------------------------- options that do nothing ------------------
@pytest.mark.parametrize(
    "args, message",
    [
        (["fill", "src.png", "--mask", "mask.png", "-o", "f.png", "--iters", "9"], "--iters"),
        (["fill", "src.png", "--mask", "mask.png", "-o", "f.png", "--seed", "3"], "--seed"),
        (["tile", "src.png", "-o", "t.png", "--preset", "paper"], "--preset"),
        (["extend", "src.png", "--size", "80", "-o", "e.png", "--source", "src.png"],
         "--source"),
        (["synth", "src.png", "-o", "o.png", "--snapshot-dir", "snaps", *QUICK],
         "--snapshot-every"),
        (["synth", "src.png", "-o", "o.png", "--strict", *QUICK], "--strict applies"),
        (["equalize", "set", "-o", "eq", "--luminance", "--iterations", "3"], "--iterations"),
    ],
    ids=["fill-iters", "fill-seed", "tile-preset", "extend-source", "snapshot-dir", "strict",
         "equalize-iterations"],
)  # fmt: skip
def test_options_that_do_nothing_are_refused(refused, args, message) -> None:
    refused(args, message)


def test_a_morph_option_on_a_generator_sample_is_refused(refused, work, generator_file) -> None:
    gen = _gen_in(work, generator_file)
    refused(["sample", gen.name, "-o", "d", "--mix", "0.5"], "No such option")
