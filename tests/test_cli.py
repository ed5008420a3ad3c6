import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from texsynth.core.errors import TexsynthError

QUICK = ["--iters", "3", "--layers", "conv1_1,pool1,pool2", "-q"]


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def assert_clean_failure(result, folder: Path, before: list[str], message: str) -> None:
    """Non-zero exit, exactly one line on stderr, no traceback, nothing new on disk."""
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("texsynth: error:") and message in lines[0], lines[0]
    assert "Traceback" not in result.err
    assert listing(folder) == before


def test_synth_writes_png_and_sidecar(run_cli, color_png, tmp_path):
    out = tmp_path / "out.png"
    result = run_cli("synth", color_png, "-o", out, "--size", "48x32", "--seed", "3", *QUICK)
    assert result.code == 0, result.err
    assert Image.open(out).size == (48, 32)  # WIDTHxHEIGHT
    record = json.loads((tmp_path / "out.json").read_text())
    assert record["task"]["seed"] == 3 and record["task"]["size"] == [48, 32]
    assert record["task"]["sources"] == [str(color_png.resolve())]
    assert record["recipe"]["layers"] == ["conv1_1", "pool1", "pool2"]
    facts = record["facts"]
    assert facts["layers"] == ["conv1_1", "pool1", "pool2"]
    assert facts["weights"]["sha256"].startswith("804ca283")
    assert len(facts["loss_history"]) == 4 and facts["final_loss"] < facts["initial_loss"]
    assert "texsynth_version" in record and "versions" in record and "wall_time_s" in facts


def test_existing_output_is_refused_unless_overwrite(run_cli, color_png, tmp_path):
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    before = listing(tmp_path)
    result = run_cli("synth", color_png, "-o", out, "--size", "32", *QUICK)
    assert_clean_failure(result, tmp_path, before, "output file exists")
    assert out.read_bytes() == b"precious"
    assert run_cli("synth", color_png, "-o", out, "--size", "32", "--overwrite", *QUICK).code == 0
    assert Image.open(out).size == (32, 32)


def _truncated_png(folder: Path) -> Path:
    path = folder / "cut.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
        path
    )
    path.write_bytes(path.read_bytes()[:2000])
    return path


def _bomb_png(folder: Path) -> Path:
    """69 bytes whose header claims 40000×40000 px (a decompression bomb)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    path = folder / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize(
    "make_source, extra, message",
    [
        (lambda d: d / "missing.png", [], "no such file"),
        (lambda d: d, [], "is a directory"),
        (_truncated_png, [], "truncated or corrupt"),
        (
            lambda d: (d / "notes.png").write_text("hello") and d / "notes.png",
            [],
            "not an image file",
        ),
        (
            lambda d: (Image.new("RGB", (10, 12)).save(d / "tiny.png"), d / "tiny.png")[1],
            [],
            "need at least 16x16 px",
        ),
        (lambda d: "builtin:nope", [], "unknown built-in image"),
        (_bomb_png, [], "is too large: its header claims more than"),
    ],
    ids=[
        "missing",
        "directory",
        "truncated",
        "not-an-image",
        "too-small",
        "unknown-builtin",
        "decompression-bomb",
    ],
)
def test_bad_sources(run_cli, tmp_path, make_source, extra, message):
    work = tmp_path / "work"
    work.mkdir()
    source = make_source(work)
    before = listing(work)
    result = run_cli("synth", source, "-o", work / "out.png", "--iters", "2", "-q", *extra)
    assert_clean_failure(result, work, before, message)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--size", "60000x60000"], "GiB"),
        (["--size", "8x40"], "need at least 16x16"),
        (["--size", "12by"], "is not WIDTHxHEIGHT"),
        (["--layers", "conv1_1,conv9_9"], "unknown layer"),
        (["--weights-per-layer", "1,2"], "2 layer weights for 5 layers"),
        (["--pool", "median"], "median"),
        (["--device", "tpu"], "unknown device"),
    ],
    ids=[
        "absurd-size",
        "small-size",
        "bad-size",
        "bad-layer",
        "weights-mismatch",
        "bad-pool",
        "bad-device",
    ],
)
def test_bad_options(run_cli, color_png, tmp_path, args, message):
    before = listing(tmp_path)
    result = run_cli("synth", color_png, "-o", tmp_path / "out.png", "--iters", "2", "-q", *args)
    assert_clean_failure(result, tmp_path, before, message)


def test_bad_output_locations(run_cli, color_png, tmp_path):
    before = listing(tmp_path)
    r = run_cli("synth", color_png, "-o", tmp_path / "nowhere" / "out.png", *QUICK)
    assert_clean_failure(r, tmp_path, before, "output directory does not exist")
    r = run_cli("synth", color_png, "-o", tmp_path / "out.xyz", *QUICK)
    assert_clean_failure(r, tmp_path, before, "unknown image format")


def test_bad_weights_file(run_cli, color_png, tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"\x00" * 100)
    before = listing(tmp_path)
    r = run_cli("synth", color_png, "-o", tmp_path / "out.png", "--weights", bad, *QUICK)
    assert_clean_failure(r, tmp_path, before, "cannot read weights file")


@pytest.mark.parametrize("mode", ["RGBA", "P", "I;16", "LA", "CMYK"])
def test_unusual_image_modes_are_converted(run_cli, tmp_path, small_color, mode):
    rgb = Image.fromarray((small_color.numpy().transpose(1, 2, 0) * 255).astype(np.uint8))
    if mode == "I;16":
        img = Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
        assert img.mode.startswith("I")
        path = tmp_path / "src16.png"
    elif mode == "RGBA":
        img = rgb.convert("RGBA")
        img.putalpha(128)
        path = tmp_path / "src.png"
    elif mode == "CMYK":
        img, path = rgb.convert("CMYK"), tmp_path / "src.jpg"
    else:
        img, path = rgb.convert(mode), tmp_path / "src.png"
    img.save(path)
    out = tmp_path / "out.png"
    result = run_cli("synth", path, "-o", out, "--size", "32", *QUICK)
    assert result.code == 0, result.err
    # Alpha and 16 bits are kept (docs/materials.md); palette and CMYK become RGB.
    expected = {"RGBA": "RGBA", "I;16": "I;16", "LA": "LA"}.get(mode, "RGB")
    assert Image.open(out).mode == expected


def test_analyze_then_synth_from_statistics(run_cli, color_png, tmp_path):
    stats = tmp_path / "tex.pt"
    r = run_cli("analyze", color_png, "-o", stats, "--layers", "conv1_1,pool1,pool2")
    assert r.code == 0, r.err
    assert "12,416 parameters" in r.err  # 2080 + 2080 + 8256
    out = tmp_path / "from_stats.png"
    assert run_cli("synth", stats, "-o", out, *QUICK).code == 0
    assert Image.open(out).size == (64, 64)  # default: the source size recorded in the file
    r = run_cli("synth", stats, "-o", tmp_path / "x.png", "--layers", "pool3", "-q")
    assert r.code != 0 and "no layer pool3" in r.err


def test_info_reports_weights_and_parameter_count(run_cli):
    result = run_cli("info")
    assert result.code == 0
    assert "OK (normalised VGG-19)" in result.out
    assert "176,640 parameters" in result.out


def test_console_entry_point_has_no_traceback(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "texsynth.cli",
            "synth",
            str(tmp_path / "nope.jpg"),
            "-o",
            str(tmp_path / "o.png"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"texsynth: error: no such file: {tmp_path / 'nope.jpg'}"
    assert listing(tmp_path) == []


def test_outputs_get_ordinary_file_permissions(run_cli, color_png, tmp_path):
    import os

    out = tmp_path / "perm.png"
    assert run_cli("synth", color_png, "-o", out, "--size", "32", *QUICK).code == 0
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_figure_command_writes_its_folder(run_cli, tmp_path):
    result = run_cli(
        "figure",
        "fig3a",
        "-o",
        tmp_path / "figs",
        "--size",
        "32",
        "--iters",
        "2",
        "--budgets",
        "1000",
        "--source",
        "builtin:brick",
        "--quiet",
    )
    assert result.code == 0, result.err
    folder = tmp_path / "figs" / "parameters"
    assert sorted(p.name for p in folder.iterdir()) == [
        "images",
        "parameters.csv",
        "parameters.json",
        "parameters.pdf",
        "parameters.png",
    ]
    # A second run refuses to replace the folder, and leaves it as it was.
    before = sorted(p.name for p in folder.rglob("*"))
    again = run_cli("figure", "parameters", "-o", tmp_path / "figs", "--size", "32", "--quiet")
    assert again.code == 1 and "--overwrite" in again.err
    assert len(again.err.strip().splitlines()) == 1
    assert sorted(p.name for p in folder.rglob("*")) == before


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("figure", "fig5"), 1, "unknown figure 'fig5'"),
        (("figure", "layers", "--data", "x"), 2, "--data applies to figure readout"),
        (("figure", "networks", "--budgets", "10,0"), 2, "numbers >= 1"),
        (("figure", "networks", "--networks", "vgg19,vgg20"), 2, "unknown value 'vgg20'"),
        (("figure", "layers", "--networks", "vgg19"), 2, "--networks applies to figure networks"),
        (("figure", "layers", "--size", "8"), 2, "--size"),
        (("figure", "layers", "--source", "/no/such.png"), 1, "no such file"),
        (("figure", "readout", "--size", "16"), 1, "need at least 32x32"),
        (("figure", "layers", "--device", "cuda:0"), 1, "cuda"),
    ],
)
def test_figure_bad_input(run_cli, tmp_path, args, code, message):
    if torch.cuda.is_available() and "cuda:0" in args:
        pytest.skip("a GPU is present")
    out = tmp_path / "figs"
    result = run_cli(*args, "-o", out, "--quiet")
    assert result.code == code
    assert message in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not out.exists(), "a failed figure run leaves no folder behind"


def test_figure_paper_preset(run_cli, tmp_path, monkeypatch):
    import texsynth.experiments as experiments

    seen = {}

    def fake_run(name, settings, out, overwrite=False):
        seen.update(name=name, size=settings.size, iters=settings.iters)
        seen["sources"] = settings.sources + settings.non_textures
        raise TexsynthError("stop here")

    monkeypatch.setattr(experiments, "run_experiment", fake_run)
    run_cli("figure", "layers", "--paper", "-o", tmp_path)
    assert seen == {
        "name": "layers",
        "size": 256,
        "iters": 1000,
        "sources": ("builtin:ihc", "builtin:brick", "builtin:chelsea"),
    }
    run_cli("figure", "layers", "--source", "a.png", "--non-texture", "b.png", "-o", tmp_path)
    assert seen["sources"] == ("a.png", "b.png") and seen["size"] == 128
    run_cli("figure", "layers", "--paper", "--iters", "50", "-o", tmp_path)
    assert seen["iters"] == 50 and seen["size"] == 256
