"""Bad input and faults, as fuzzing the command line found them (issue 22).

Every case runs the real entry point and checks what a user sees and keeps: the exit
status, exactly one line on stderr that starts ``texsynth: error:``, no traceback, and no
file created or changed in the working folder except what the command was asked to write.
The bad files are made here, small; syntheses are 32-64 px and a few iterations.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.image.io import load_image
from texsynth.statistics.gram import TextureStatistics

from conftest import assert_one_error, changes, tree

QUICK = ["--iters", "2", "--layers", "conv1_1,pool1", "--scales", "1", "-q"]


@pytest.fixture()
def work(tmp_path: Path, small_color: torch.Tensor) -> Path:
    """A folder with a 64 px source image, ``src.png``."""
    folder = tmp_path / "work"
    folder.mkdir()
    arr = (small_color.numpy().transpose(1, 2, 0) * 255).round().astype(np.uint8)
    Image.fromarray(arr).save(folder / "src.png")
    return folder


def _statistics(run_cli, work: Path, *extra: str) -> Path:
    out = work / f"stats{len(list(work.glob('*.pt')))}.pt"
    result = run_cli("analyze", work / "src.png", "-o", out, "--layers", "conv1_1,pool1", *extra)
    assert result.code == 0, result.err
    return out


# ------------------------------------------------------- users' files are kept (1-3) ----
def test_1_batch_keeps_a_foreign_index_csv(run_cli, refused, work):
    (work / "m.csv").write_text("source,size,seed,iters,layers,scales\nsrc.png,32,0,2,conv1_1,1\n")
    (work / "o").mkdir()
    (work / "o" / "index.csv").write_text("my own notes\n")
    refused(["batch", "m.csv", "-o", "o", "-q"], "index.csv exists and was not written by texsynth")
    result = run_cli("batch", "m.csv", "-o", "o", "-q", "--overwrite")
    assert result.code == 0, result.err
    assert (work / "o" / "index.csv").read_text().startswith("job_id,status,")


def test_2_snapshots_never_replace_files(refused, work):
    (work / "out_snapshots").mkdir()
    (work / "out_snapshots" / "iter_00001.png").write_bytes(b"mine")
    args = ["synth", "src.png", "-o", "out.png", "--size", "32", "--snapshot-every", "1", *QUICK]
    refused(args, "already holds snapshots (iter_00001.png")


@pytest.mark.parametrize("taken", ["out.png", "out.json"])
def test_3_an_output_made_during_the_run_is_left_and_the_result_kept(
    run_cli, work, monkeypatch, taken
):
    import texsynth.synthesis.run as synthesis

    real = synthesis.synthesize

    def racing(*args, **kwargs):  # another process takes the name while this one works
        result = real(*args, **kwargs)
        if taken.endswith(".json"):
            (work / taken).mkdir()
        else:
            (work / taken).write_bytes(b"theirs")
        return result

    monkeypatch.setattr(synthesis, "synthesize", racing)
    monkeypatch.chdir(work)
    before = tree(work)
    result = run_cli("synth", "src.png", "-o", "out.png", "--size", "32", *QUICK)
    assert_one_error(result, f"{taken} appeared while texsynth ran")
    assert "kept as out-1.png, out-1.json" in result.err
    assert changes(before, tree(work)) == {taken, "out-1.png", "out-1.json"}
    if taken == "out.png":
        assert (work / "out.png").read_bytes() == b"theirs"
    assert Image.open(work / "out-1.png").size == (32, 32)
    assert json.loads((work / "out-1.json").read_text())["task"]["size"] == [32, 32]


# ------------------------------------------------------------------ tracebacks (4-10) ----
def _limited(args: list[str], cwd: Path, limit: int) -> subprocess.CompletedProcess:
    """The console entry point with files limited to ``limit`` bytes (a full disk)."""

    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", "texsynth.cli", *args],
        cwd=cwd, capture_output=True, text=True, preexec_fn=set_limit, timeout=300,
    )  # fmt: skip


class _Completed:
    def __init__(self, proc: subprocess.CompletedProcess) -> None:
        self.code, self.err = proc.returncode, proc.stderr


@pytest.mark.parametrize(
    "command, limit",
    [
        (["synth", "src.png", "-o", "out.png", "--size", "64", *QUICK], 6000),
        (["analyze", "src.png", "-o", "stats.pt"], 6000),
        (["report", "done"], 1000),
    ],
    ids=["synth", "analyze", "report"],
)
def test_4_a_full_disk_ends_in_one_line_and_no_partial_file(run_cli, work, command, limit):
    done = work / "done"
    done.mkdir()
    made = run_cli("synth", work / "src.png", "-o", done / "a.png", "--size", "64", *QUICK)
    assert made.code == 0, made.err
    before = tree(work)
    result = _Completed(_limited(command, work, limit))
    assert_one_error(result, "cannot write")
    assert "file too large" in result.err
    # Nothing but the report's complete thumbnails, its cache; no page, no partial file.
    assert all(path.startswith("done/thumbs") for path in changes(before, tree(work)))
    assert not list(work.rglob("*.tmp")) and not (done / "index.html").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", str(2**70)], "is above 9,223,372,036,854,775,807"),
        (["--device", "mps"], "does not run on device 'mps'"),
        (["--device", "meta"], "does not run on device 'meta'"),
        (["--device", "cuda:7"], "device cuda"),
        (["--device", "nonsense"], "unknown device"),
        (["--weights-per-layer", "0,0"], "the layer weights are all 0"),
        (["--source-scale", "1000"], "analysis of source"),
        (["--source-scale", "100"], "choose a smaller size or pass --force"),
    ],
    ids=["seed-2**70", "mps", "meta", "missing-gpu", "no-device", "zero-weights",
         "source-scale-1000", "source-scale-100"],
)  # fmt: skip
def test_5_6_10_13_bad_options_are_refused_before_any_work(refused, args, message):
    refused(["synth", "src.png", "-o", "out.png", "--size", "32", *QUICK, *args], message)


def test_10_an_allocation_that_fails_ends_in_one_line(refused):
    args = ["synth", "src.png", "-o", "out.png", *QUICK, "--size", "60000x60000", "--force"]
    refused(args, "out of memory")


def test_7_14_statistics_that_do_not_fit_the_model_are_refused(run_cli, refused, work):
    good = _statistics(run_cli, work)
    stats = TextureStatistics.load(good)
    stats.grams["conv1_1"] = torch.eye(10)
    stats.save(work / "shape.pt")
    synth = ["synth", "-o", "out.png", "--size", "32", *QUICK]
    refused([*synth[:1], "shape.pt", *synth[1:]], "the Gram matrix of conv1_1 is 10x10")
    maxed = _statistics(run_cli, work, "--pool", "max")
    refused([*synth[:1], maxed.name, *synth[1:]], "computed with pooling 'max'")
    other = TextureStatistics.load(good)
    other.meta["weights"]["arch"] = "vgg16-hed"
    other.save(work / "other.pt")
    refused([*synth[:1], "other.pt", *synth[1:]], "computed with network 'vgg16-hed'")


def test_8_a_manifest_that_is_not_utf8(refused, work):
    (work / "b.yaml").write_bytes(b"\xff\xfe\x00")
    refused(["batch", "b.yaml", "-o", "o"], "b.yaml:1: not UTF-8 text (byte 0xff)")


def test_9_weights_of_another_shape_are_refused(refused, work):
    from texsynth.features.weights import random_weights, to_gatys_layout

    layout = to_gatys_layout(random_weights(0).state_dict)
    layout["2.weight"] = torch.zeros(32, 3, 3, 3)  # conv1_1 with 32 filters, not 64
    torch.save(layout, work / "w.pth")
    args = ["synth", "src.png", "-o", "out.png", "--weights", "w.pth", "--trust-weights", *QUICK]
    refused(args, "do not fit vgg19: size mismatch for conv1_1.weight")


# ------------------------------------------------------------ silently wrong (11-15) ----
def test_11_exif_orientation_is_honoured(tmp_path):
    # Stored 48 wide and 32 high with orientation 6: shown rotated, 32 wide and 48 high.
    stored = np.zeros((32, 48, 3), dtype=np.uint8)
    stored[:, :8] = 255  # a white band along the stored left edge …
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "portrait.jpg"
    Image.fromarray(stored).save(path, exif=exif, quality=95)
    image = load_image(path)
    assert (image.width, image.height) == (32, 48)
    assert image.pixels[:, :8].mean() > 0.9 and image.pixels[:, -8:].mean() < 0.1  # … on top


def test_12_replaying_a_changed_source_warns_or_refuses(run_cli, refused, work):
    made = run_cli("synth", work / "src.png", "-o", work / "a.png", "--size", "32", *QUICK)
    assert made.code == 0, made.err
    record = json.loads((work / "a.json").read_text())
    (source,) = record["inputs"]
    assert source["role"] == "source" and source["pixels"] == [64, 64]
    assert source["sha256"] == hashlib.sha256((work / "src.png").read_bytes()).hexdigest()
    Image.fromarray(np.full((64, 64, 3), 90, np.uint8)).save(work / "src.png")
    replay = ["synth", "--recipe", "a.json", "-o", "b.png", "-q"]
    refused([*replay, "--strict"], "src.png has changed (sha256")
    result = run_cli(*replay)
    assert result.code == 0 and "texsynth: warning:" in result.err
    assert "the replay will not give the recorded image" in result.err


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("q.csv", 'source,seed,size\n"src.png,0,64\n', "malformed CSV: unexpected end of data"),
        ("q2.csv", 'source,seed\n"src.png,0\nsrc.png",1\n', "a cell spans lines"),
        ("c.csv", "source,seed,seed\nsrc.png,0,1\n", "column 'seed' appears twice"),
        ("d.yaml", "jobs:\n- source: src.png\n  seed: 1\n  seed: 2\n", "key 'seed' appears twice"),
        ("g.yaml", "grid:\n  seeds: 2\n  seeds: 3\n", "g.yaml:3: key 'seeds' appears twice"),
    ],
    ids=["csv-unclosed-quote", "csv-quote-across-lines", "csv-twice", "yaml-twice", "grid"],
)
def test_15_manifests_are_checked_before_any_job(refused, work, name, text, message):
    (work / name).write_text(text)
    refused(["batch", name, "-o", "o", "-q"], message)


# ---------------------------------------------------------------- misleading (16-18) ----
def test_16_batch_has_the_options_its_errors_advise(run_cli, refused, work):
    (work / "m.csv").write_text("source,size,iters,layers,scales\nsrc.png,32,2,conv1_1,1\n")
    (work / "o").mkdir()
    (work / "o" / "index.html").write_text("<p>my page</p>")
    refused(["batch", "m.csv", "-o", "o", "-q"], "pass --overwrite")
    assert run_cli("batch", "m.csv", "-o", "o", "-q", "--overwrite").code == 0
    assert "texsynth" in (work / "o" / "index.html").read_text()
    (work / "big.csv").write_text("source,size\nsrc.png,60000\n")
    result = run_cli("batch", "big.csv", "-o", "big", "-q")
    assert result.code == 1 and "or pass --force" in result.err
    assert "--force" in run_cli("batch", "--help").out


def test_17_misleading_messages_say_what_is_wrong(run_cli, refused, work, monkeypatch):
    synth = ["-o", "out.png", *QUICK]
    os.symlink("loop2.png", work / "loop1.png")
    os.symlink("loop1.png", work / "loop2.png")
    refused(["synth", "loop1.png", *synth], "loop1.png is a loop of symbolic links", ())
    os.symlink("gone.png", work / "dangling.png")
    refused(["synth", "dangling.png", *synth], "broken symbolic link (to gone.png)")
    good = _statistics(run_cli, work)
    (work / "cut.pt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    refused(["synth", "cut.pt", *synth], "cut.pt is not a texsynth statistics file")
    monkeypatch.setenv("TEXSYNTH_WEIGHTS", str(work))
    refused(["synth", "src.png", *synth], "TEXSYNTH_WEIGHTS points to a folder")


def test_17_report_with_a_file_for_thumbs(run_cli, refused, work):
    (work / "r").mkdir()
    made = run_cli("synth", work / "src.png", "-o", work / "r" / "a.png", "--size", "32", *QUICK)
    assert made.code == 0, made.err
    (work / "r" / "thumbs").write_text("not a folder")
    refused(["report", "r", "-q"], "thumbs is not a folder")


def test_17_report_shows_an_image_with_a_broken_sidecar_as_damaged(run_cli, work):
    folder = work / "r"
    folder.mkdir()
    for name in ("a", "b"):
        args = ("synth", work / "src.png", "-o", folder / f"{name}.png", "--size", "32", *QUICK)
        assert run_cli(*args).code == 0
    sidecar = folder / "b.json"
    sidecar.write_text(sidecar.read_text()[:100])
    result = run_cli("report", folder, "-q")
    assert result.code == 0, result.err
    assert "1 done, 1 damaged" in result.err
    page = (folder / "index.html").read_text()
    assert "its sidecar is unreadable" in page


@pytest.mark.parametrize("target", ["newdir/", "./", "."])
def test_18_an_output_ending_in_a_slash_names_a_folder(refused, target):
    refused(["synth", "src.png", "-o", target, *QUICK], "names a folder")
    refused(["analyze", "src.png", "-o", target], "names a folder")


# ----------------------------------------------------------- already handled, kept so ----
@pytest.mark.parametrize(
    "args, message",
    [
        (["synth", "nope.png", "-o", "out.png"], "no such file: nope.png"),
        (["synth", "src.png", "-o", "out.png", "--preset", "fast"], "'fast' is not one of"),
        (["synth", "src.png", "-o", "out.png", "--size", "0"], "is not WIDTHxHEIGHT"),
        (["synth", "src.png", "-o", "missing/out.png"], "output directory does not exist"),
        (["synth", "src.png", "-o", "src.png"], "output file exists"),
        (["synth", "--recipe", "nope.json", "-o", "out.png"], "recipe file not found"),
        (["batch", "nope.csv", "-o", "o"], "manifest not found"),
        (["analyze", "src.png", "-o", "s.txt"], "statistics files end in .pt"),
        (["report", "nowhere"], "not a folder"),
        (["evaluate", "src.png", "nope.png"], "no such file"),
    ],
    ids=["missing", "preset", "size", "no-dir", "exists", "recipe", "manifest", "suffix",
         "report", "evaluate"],
)  # fmt: skip
def test_other_bad_input_gets_one_line(refused, args, message):
    refused(args, message)
