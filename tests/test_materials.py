"""Materials (issue 39): 16-bit and alpha through every command that writes an image, and
the other maps of a surface (normal, height …) through the edits and synthesis, each
made from the same places as the image. Every command runs as typed, through the entry
point."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from texsynth.image import material
from texsynth.image.formats import encode
from texsynth.image.io import load_image
from texsynth.image.material import normal_error, resampled_map

from conftest import assert_one_error

SIDE = 64


def _height(seed: int = 0) -> np.ndarray:
    """A smooth height field in [0, 1] (a procedural material's)."""
    noise = np.random.default_rng(seed).standard_normal((SIDE, SIDE))
    field = ndimage.gaussian_filter(noise, 3, mode="wrap")
    return (field - field.min()) / (field.max() - field.min())


def _normals(height: np.ndarray) -> np.ndarray:
    gy, gx = np.gradient(height * 8)
    vectors = np.stack([-gx, -gy, np.ones_like(height)], -1)
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _write(path: Path, values: np.ndarray, depth: int) -> Path:
    """(H, W) or (H, W, planes) floats in [0, 1] as a ``depth``-bit PNG or TIFF."""
    samples = values if values.ndim == 3 else values[..., None]
    dtype = np.uint16 if depth == 16 else np.uint8
    ints = (samples * (2**depth - 1) + 0.5).astype(dtype)
    encode(ints, path, "TIFF" if path.suffix == ".tif" else "PNG")
    return path


@pytest.fixture()
def surface(tmp_path: Path) -> dict[str, Path]:
    """A material: colour (a function of height), a 16-bit height map, a normal map, a
    mask; and a marker map, the colour inverted, so that a map read at the image's own
    places is known pixel for pixel."""
    height = _height()
    colour = np.stack([0.3 + 0.5 * height, 0.25 + 0.4 * height, 0.2 + 0.2 * height], -1)
    colour = np.floor(colour * 255 + 0.5) / 255  # as written, so its inverse is exact
    mask = np.zeros((SIDE, SIDE))
    mask[20:40, 14:46] = 1
    return {
        "colour": _write(tmp_path / "colour.png", colour, 8),
        "marker": _write(tmp_path / "marker.png", 1 - colour, 8),
        "height": _write(tmp_path / "height.png", height, 16),
        "normal": _write(tmp_path / "normal.png", (_normals(height) + 1) / 2, 8),
        "mask": _write(tmp_path / "mask.png", mask, 8),
    }


def _values(path: Path) -> np.ndarray:
    loaded = load_image(path)
    colour = loaded.unblended if loaded.unblended is not None else loaded.pixels
    planes = colour if loaded.alpha is None else torch.cat([colour, loaded.alpha[None]])
    return planes.numpy()


EDITS = {
    "fill": ["--mask", "{mask}"],
    "extend": ["--size", "96x80", "--anchor", "nw"],
    "tile": ["--band", "8"],
}


def _kept(kind: str, shape: tuple[int, ...], mask: Path) -> np.ndarray:
    """(H, W) of the output: True where the image is kept."""
    if kind == "fill":
        return np.asarray(Image.open(mask)) < 128
    kept = np.zeros(shape, bool)
    if kind == "extend":
        kept[:SIDE, :SIDE] = True
    else:
        kept[8:-8, 8:-8] = True
    return kept


@pytest.mark.parametrize("kind", list(EDITS))
def test_edit_carries_every_map_from_the_same_places(run_cli, tmp_path, surface, kind):
    out = tmp_path / f"{kind}.png"
    extra = [a.format(**surface) for a in EDITS[kind]]
    maps = ",".join(str(surface[m]) for m in ("marker", "height", "normal"))
    result = run_cli(kind, str(surface["colour"]), "-o", str(out), "--maps", maps, *extra, "-q")
    assert result.code == 0, result.err
    image = _values(out)
    marker, height = (
        _values(tmp_path / f"{kind}_marker.png"),
        _values(tmp_path / f"{kind}_height.png"),
    )
    # The marker map is the inverted image: read at the image's places, it stays exactly so.
    assert np.array_equal(np.round((1 - image) * 255), np.round(marker * 255))
    kept = _kept(kind, image.shape[1:], surface["mask"])
    source_height = _values(surface["height"])
    rows, cols = np.nonzero(kept[:SIDE, :SIDE]) if kind != "extend" else np.nonzero(kept)
    assert np.array_equal(height[:, rows, cols], source_height[:, rows, cols])
    assert load_image(tmp_path / f"{kind}_height.png").depth == 16
    assert len(np.unique(height)) > 256  # all its levels, not cut to 8 bits
    normal = load_image(tmp_path / f"{kind}_normal.png").pixels
    assert normal_error(normal) < 0.01
    record = json.loads(out.with_suffix(".json").read_text())
    assert [m["name"] for m in record["material"]["maps"]] == ["marker", "height", "normal"]
    assert [m["normal"] for m in record["material"]["maps"]] == [False, False, True]
    assert sum(i["role"] == "map" for i in record["inputs"]) == 3


def test_sixteen_bit_ramp_keeps_its_levels_through_fill_and_replay(run_cli, tmp_path):
    ramp = np.linspace(0, 1, SIDE * SIDE).reshape(SIDE, SIDE)
    source = _write(tmp_path / "ramp.png", ramp, 16)
    mask = np.zeros((SIDE, SIDE))
    mask[24:40, 24:40] = 1
    _write(tmp_path / "m.png", mask, 8)
    out, again = tmp_path / "out.png", tmp_path / "again.png"
    assert run_cli("fill", str(source), "--mask", str(tmp_path / "m.png"), "-o", str(out)).code == 0
    assert run_cli("fill", "--recipe", str(out.with_suffix(".json")), "-o", str(again)).code == 0
    first, second = load_image(out), load_image(again)
    assert first.depth == second.depth == 16
    kept = torch.from_numpy(mask == 0)
    original = load_image(source).pixels
    assert torch.equal(first.pixels[:, kept], original[:, kept])
    assert torch.equal(first.pixels, second.pixels)
    assert len(torch.unique(first.pixels[:, kept])) == int(kept.sum())  # every level kept
    assert json.loads(out.with_suffix(".json").read_text())["material"]["depth"] == 16


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_rgba_sixteen_bit_round_trip_through_edits(run_cli, tmp_path, surface, suffix):
    colour = _values(surface["colour"]).transpose(1, 2, 0)
    alpha = np.clip(_height(1) * 1.6, 0, 1)
    alpha[:, :8] = 0.0  # a transparent strip: the hole of a fill without --mask
    rgba = _write(tmp_path / f"rgba{suffix}", np.dstack([colour, alpha]), 16)
    for kind, extra in (("fill", []), ("tile", ["--band", "8"]), ("extend", ["--size", "80x64"])):
        out = tmp_path / f"{kind}{suffix}"
        assert run_cli(kind, str(rgba), "-o", str(out), *extra, "-q").code == 0, kind
        written = load_image(out)
        assert written.depth == 16 and written.alpha is not None, kind
        source = _values(rgba)
        kept = source[3] >= 128 / 255 if kind == "fill" else np.zeros(source.shape[1:], bool)
        if kind == "tile":
            kept[8:-8, 8:-8] = True
        if kind == "extend":
            kept[:] = True  # the image sits in the middle: compare that part
            left = (80 - SIDE) // 2
            got = _values(out)[:, :, left : left + SIDE]
        else:
            got = _values(out)
        assert np.array_equal(got[:, kept], source[:, kept]), kind
    filled = load_image(tmp_path / f"fill{suffix}")
    assert float(filled.alpha[:, :8].min()) >= 0.5  # the hole came from opaque places


def test_synthesis_keeps_depth_and_alpha(run_cli, tmp_path, surface):
    colour = _values(surface["colour"]).transpose(1, 2, 0)
    alpha = np.clip(_height(2) * 1.5, 0, 1)
    rgba = _write(tmp_path / "rgba.png", np.dstack([colour, alpha]), 16)
    out = tmp_path / "syn.png"
    args = ["--size", "64", "--iters", "20", "--scales", "1", "-q"]
    assert run_cli("synth", str(rgba), "-o", str(out), *args).code == 0
    written = load_image(out)
    assert written.depth == 16 and written.alpha is not None
    assert len(torch.unique(written.alpha)) > 256
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["material"] == {"depth": 16, "alpha": True, "maps": []}


def test_synthesis_carries_maps_from_the_nearest_source_patches(run_cli, tmp_path, surface):
    out, again = tmp_path / "syn.png", tmp_path / "again.png"
    maps = f"{surface['marker']},{surface['normal']}"
    args = ["--size", "64", "--iters", "20", "--scales", "1", "--maps", maps, "-q"]
    assert run_cli("synth", str(surface["colour"]), "-o", str(out), *args).code == 0
    marker = _values(tmp_path / "syn_marker.png")
    levels = set(np.unique(np.round(_values(surface["marker"]) * 255)))
    assert set(np.unique(np.round(marker * 255))) <= levels  # copies, never blends
    shown = load_image(out).pixels.numpy()

    def correlation(a: np.ndarray) -> float:
        return float(np.corrcoef(a.mean(0).ravel(), shown.mean(0).ravel())[0, 1])

    assert correlation(1 - marker) > 0.5  # measured 0.7 (20 iterations)
    assert abs(correlation(1 - marker[:, ::-1])) < 0.3  # the same values, not aligned
    assert normal_error(load_image(tmp_path / "syn_normal.png").pixels) < 0.01
    replay = ["synth", "--recipe", str(out.with_suffix(".json")), "-o", str(again), "-q"]
    assert run_cli(*replay).code == 0
    assert torch.equal(load_image(again).pixels, load_image(out).pixels)
    assert torch.equal(
        load_image(tmp_path / "again_marker.png").pixels,
        load_image(tmp_path / "syn_marker.png").pixels,
    )


def test_depth_eight_is_asked_for(run_cli, tmp_path, surface):
    out = tmp_path / "out.png"
    args = ["fill", str(surface["height"]), "--mask", str(surface["mask"]), "-o", str(out)]
    assert run_cli(*args, "--depth", "8", "-q").code == 0
    assert load_image(out).depth == 8


def test_resampled_normal_map_is_unit_length(surface):
    found = material.as_map(load_image(surface["normal"]), str(surface["normal"]))
    half = resampled_map(found, SIDE // 2 + 3, SIDE // 2 - 5)
    vectors = half.pixels() * 2 - 1
    assert torch.allclose(vectors.norm(dim=0), torch.ones(1), atol=1e-5)


def _fill(surface: dict[str, Path], image: str, output: Path) -> list[str]:
    """``texsynth fill`` of one of the surface's images with its mask."""
    return ["fill", str(surface[image]), "--mask", str(surface["mask"]), "-o", str(output)]


def test_bad_maps_get_one_line(run_cli, tmp_path, surface):
    big = _write(tmp_path / "big.png", np.zeros((SIDE + 8, SIDE)), 8)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    flat = _write(tmp_path / "flat_normal.png", np.full((SIDE, SIDE, 3), 0.5), 8)
    base = _fill(surface, "colour", tmp_path / "o.png")
    cases = [
        (str(big), "the same size"),
        (str(text), "not an image file"),
        (str(flat), "is named a normal map, but its vectors are"),
        (f"{surface['height']},{surface['height']}", "two maps are named"),
    ]
    for maps, message in cases:
        assert_one_error(run_cli(*base, "--maps", maps), message)
    assert_one_error(run_cli(*base, "--maps", str(surface["height"]), "--refine", "5"), "--refine")
    assert_one_error(
        run_cli(
            "synth",
            str(surface["colour"]),
            str(surface["colour"]),
            "-o",
            str(tmp_path / "s.png"),
            "--maps",
            str(surface["height"]),
        ),
        "one source",
    )
    jpeg = _fill(surface, "height", tmp_path / "o.bmp")
    assert_one_error(run_cli(*jpeg, "--depth", "16"), "holds 8 bits")
    assert_one_error(run_cli(*jpeg), "holds 8 bits")  # the image's own 16 bits, before work
    assert not list(tmp_path.glob("o*")) and not list(tmp_path.glob("s*"))


def test_more_maps_than_memory_allows(run_cli, tmp_path, surface, monkeypatch):
    monkeypatch.setattr(material, "MAP_BYTES", 2**50)
    out = tmp_path / "o.png"
    result = run_cli(
        "fill",
        str(surface["colour"]),
        "--mask",
        str(surface["mask"]),
        "-o",
        str(out),
        "--maps",
        str(surface["height"]),
    )
    assert_one_error(result, "material maps needs about")
    assert not out.exists()


def test_a_batch_job_takes_maps_and_the_report_shows_them(run_cli, tmp_path, surface):
    manifest = tmp_path / "jobs.yaml"
    maps = f"{surface['height']},{surface['normal']}"
    manifest.write_text(
        "jobs:\n"
        f"  - {{edit: fill, image: {surface['colour']}, mask: {surface['mask']}, maps: '{maps}'}}\n"
        f"  - {{edit: tile, image: {surface['colour']}, band: 8, maps: '{maps}'}}\n"
    )
    result = run_cli("batch", manifest, "-o", tmp_path / "out", "-q")
    assert result.code == 0, result.err
    images = tmp_path / "out" / "images"
    for sidecar in images.glob("*.json"):
        stem = sidecar.with_suffix("")
        height = load_image(stem.with_name(stem.name + "_height.png"))
        assert height.depth == 16
        normal = load_image(stem.with_name(stem.name + "_normal.png")).pixels
        assert normal_error(normal) < 0.01
    assert len(list(images.glob("*_height.png"))) == 2
    page = run_cli("report", tmp_path / "out")
    assert page.code == 0, page.err
    html = (tmp_path / "out" / "index.html").read_text()
    assert html.count('class="maps"') == 2
    assert 'alt="height map"' in html and 'alt="normal map"' in html
    _maps_show_in_chromium(tmp_path / "out" / "index.html")


def _maps_show_in_chromium(report: Path) -> None:
    """Each card's maps decode and sit under its image in a real browser (where one is)."""
    from test_report import CHROMIUM_ARGS, chromium, playwright_installed

    if not (chromium() and playwright_installed()):
        if os.environ.get("TEXSYNTH_REQUIRE_BROWSER"):
            pytest.fail("Chromium or playwright is missing")
        return
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(report.as_uri(), wait_until="load")
        page.wait_for_function("[...document.querySelectorAll('.maps img')].every(i => i.complete)")
        widths = page.eval_on_selector_all(".maps img", "is => is.map(i => i.naturalWidth)")
        below = page.evaluate(
            "[...document.querySelectorAll('.card')].every(c => c.querySelector('.maps')"
            ".getBoundingClientRect().top >= c.querySelector('.picture').getBoundingClientRect()"
            ".bottom)"
        )
        browser.close()
    assert len(widths) == 4 and all(w > 0 for w in widths), widths
    assert below and not problems, problems


def test_a_control_and_a_metamer_of_a_sixteen_bit_image_are_sixteen_bit(run_cli, tmp_path):
    ramp = np.linspace(0, 1, SIDE * SIDE).reshape(SIDE, SIDE)
    source = _write(tmp_path / "ramp.png", np.dstack([ramp, ramp[::-1], ramp.T]), 16)
    control, metamer = tmp_path / "control.png", tmp_path / "metamer.png"
    assert run_cli("control", str(source), "-o", str(control), "-q").code == 0
    made = load_image(control)
    assert made.depth == 16 and len(torch.unique(made.pixels)) > 256
    facts = json.loads(control.with_suffix(".json").read_text())["facts"]
    assert "amplitude_error_16bit" in facts  # measured on what the 16-bit file holds
    args = ["metamer", str(source), "--scaling", "1", "-o", str(metamer), "--iters", "2", "-q"]
    assert run_cli(*args).code == 0
    written, original = load_image(metamer), load_image(source)
    assert written.depth == 16
    # The fovea (the middle) is the image's own 16-bit values.
    middle = slice(SIDE // 2 - 2, SIDE // 2 + 2)
    assert torch.equal(written.pixels[:, middle, middle], original.pixels[:, middle, middle])


def test_a_tiff_tifffile_cannot_decode_is_read_by_pillow(tmp_path):
    colour = np.random.default_rng(3).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    Image.fromarray(colour).save(tmp_path / "lzw.tif", compression="tiff_lzw")
    loaded = load_image(tmp_path / "lzw.tif")
    assert loaded.depth == 8
    assert np.array_equal(np.round(loaded.pixels.numpy().transpose(1, 2, 0) * 255), colour)


@pytest.mark.parametrize(
    ("material", "message"),
    [
        ({"depth": 12, "alpha": False, "maps": []}, "depth is not 8 or 16"),
        ({"depth": 8, "alpha": "yes", "maps": []}, "alpha and normal must be"),
        ({"depth": 8, "alpha": False, "maps": [{"name": "../x"}]}, "name is not a file name"),
        ({"depth": 8, "alpha": False, "maps": "height"}, "maps must be a list"),
        ({"depth": 8, "colour": 1}, "unknown field 'colour'"),
    ],
)
def test_a_sidecars_material_is_checked(run_cli, tmp_path, surface, material, message):
    out = tmp_path / "o.png"
    assert run_cli(*_fill(surface, "colour", out), "--maps", str(surface["height"])).code == 0
    sidecar = out.with_suffix(".json")
    record = json.loads(sidecar.read_text())
    record["material"] = material
    sidecar.write_text(json.dumps(record))
    assert_one_error(
        run_cli("fill", "--recipe", str(sidecar), "-o", str(tmp_path / "r.png")), message
    )


def test_a_morph_of_sixteen_bit_sources_and_scaled_maps(run_cli, tmp_path, surface):
    out, scaled = tmp_path / "morph.png", tmp_path / "scaled.png"
    quick = ["--size", "32", "--iters", "5", "--scales", "1", "-q"]
    sources = [str(surface["height"]), str(surface["height"])]
    assert run_cli("synth", *sources, "--mix", "0.5", "-o", str(out), *quick).code == 0
    assert load_image(out).depth == 16
    maps = ["--maps", str(surface["normal"]), "--source-scale", "0.5"]
    assert run_cli("synth", str(surface["colour"]), "-o", str(scaled), *maps, *quick).code == 0
    normal = load_image(tmp_path / "scaled_normal.png").pixels
    assert normal.shape[1:] == (32, 32) and normal_error(normal) < 0.01


def test_the_api_saves_a_material_whole(tmp_path, surface):
    from texsynth import synthesize

    made = synthesize(str(surface["height"]), 32, iters=3, scales=1, maps=[str(surface["normal"])])
    assert made.material is not None and made.material.main.depth == 16
    made.save(tmp_path / "api.png")
    assert load_image(tmp_path / "api.png").depth == 16
    assert normal_error(load_image(tmp_path / "api_normal.png").pixels) < 0.01


def test_a_float_tiff_keeps_its_values(tmp_path):
    ramp = np.linspace(0, 1, SIDE * SIDE, dtype=np.float32).reshape(SIDE, SIDE)
    Image.fromarray(ramp, mode="F").save(tmp_path / "float.tif")
    loaded = load_image(tmp_path / "float.tif")
    assert torch.equal(loaded.pixels[0], torch.from_numpy(ramp))  # not cut to 8 bits
    assert loaded.depth == 16
