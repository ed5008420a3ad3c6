"""Hole filling measured: texsynth's ``fill`` beside OpenCV's Telea inpainting and a
patch-based exemplar fill (Criminisi et al. 2004, ``benchmarks/criminisi.py``).

Textures (with and without a lattice) are resized and centre-cropped to ``--size``; each
gets four holes: a centred square of 1/16 and of 1/4 of the area, a 16-px horizontal stripe
across the whole width, and an irregular blob (about 1/10 of the area). Per texture, hole
and method:

- ``quality``: evaluate's swd between the hole's bounding box in the result and in the
  intact image, over the same distance between two real crops of that size (opposite
  corners of the intact image): 1 is as different as two pieces of the real texture;
- ``seam``: the mean gradient magnitude (luminance) in a 4-px ring around the hole's
  boundary, over the same ring in the intact image (1 invisible, above an edge, below a blur);
- ``known``: the largest change of a kept pixel, in 8-bit levels (must be 0);
- ``wall_s``.

Methods: ``telea``, ``criminisi``, ``copy`` (texsynth's first fill from shifted copies,
before stitching), ``texsynth`` (``texsynth fill`` as it is: the stitched copy) and
``refined`` (the same with ``--refine 50``). ``--tile`` also runs ``tile`` on each texture:
the wrap-around seam ratio before and after, and the largest change in the middle half.

``--times`` also times a fill of the 1/16 square at 256², 512² and 1024² beside a plain
256² synthesis (the issue's budget: a 256² fill at most 1.5x a 256² synthesis);
``--against REVISION`` then times ``texsynth fill`` as a whole process at each size beside
the same command at REVISION (a git worktree of it), in turn, and checks the pixels agree.

    .venv/bin/python benchmarks/edit.py [--size 256] [--methods telea,criminisi,copy,texsynth]
        [--only NAME ...] [--holes square16,...] [--times 256,512,1024 [--against REV]] [--tile]
        [--json FILE] [--sheet FILE.png] [--tile-sheet FILE.png]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch
from scipy import ndimage

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import feature_swd, wrap_seam_ratio
from texsynth.image.canvas import Canvas
from texsynth.image.io import load_image, resize_and_crop, to_pil
from texsynth.image.patterns import bricks, hex_dots
from texsynth.image.shifts import copied_fill, stitched_fill
from texsynth.synthesis.edit import edit

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "peer-textures" / "sources"
IRREGULAR = ("pebbles", "bumpy_0121", "porous_0137", "trees")
LATTICE = ("grid_0053", "scaly_0127")
HOLES = ("square16", "square4", "stripe", "blob")
REFINE = 50  # iterations of the texture loss after the patch fill, for "refined"
CAPTIONED = ("pebbles", "trees")  # a caption along the bottom: cut off
SMALL_SHEET = ("pebbles", "porous_0137", "trees", "scaly_0127", "bricks", "grid_0053")


def peer(name: str, size: int) -> torch.Tensor:
    pixels = load_image(PEER / f"{name}.jpg").pixels
    if name in CAPTIONED:
        pixels = pixels[:, : pixels.shape[1] * 7 // 8, : pixels.shape[2] * 7 // 8]
    return resize_and_crop(pixels, size)


def textures(size: int) -> dict[str, torch.Tensor]:
    found = {n: peer(n, size) for n in (*IRREGULAR, *LATTICE)}
    dark, light = torch.tensor([0.35, 0.22, 0.12]), torch.tensor([0.92, 0.86, 0.72])
    for name, grey in (("bricks", bricks(size, size, (12, 28))), ("dots", hex_dots(size, size))):
        found[name] = dark.view(3, 1, 1) + (light - dark).view(3, 1, 1) * grey[:1]
    return {k: (v * 255).round() / 255 for k, v in found.items()}  # 8-bit, as from a file


def hole(kind: str, size: int, seed: int = 0) -> torch.Tensor:
    mask = np.zeros((size, size), bool)
    if kind == "square16":
        mask[3 * size // 8 : 5 * size // 8, 3 * size // 8 : 5 * size // 8] = True
    elif kind == "square4":
        mask[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = True
    elif kind == "stripe":
        mask[size // 2 - 8 : size // 2 + 8] = True
    else:  # a smooth random blob about the centre
        noise = ndimage.gaussian_filter(np.random.default_rng(seed).normal(size=(size, size)), 6)
        yy, xx = np.mgrid[:size, :size] / size - 0.5
        field = noise / noise.std() * 0.35 - np.hypot(yy, xx) * 8
        mask = field > np.quantile(field, 0.9)
        labels, _ = ndimage.label(mask)
        mask = labels == labels[np.unravel_index(field.argmax(), field.shape)]
    return torch.from_numpy(mask)


def fill(method: str, image: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    if method == "telea":
        import cv2

        img = (image.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        out = cv2.inpaint(img, hole.numpy().astype(np.uint8) * 255, 3, cv2.INPAINT_TELEA)
        return torch.from_numpy(out).permute(2, 0, 1).float() / 255
    if method == "criminisi":
        from criminisi import inpaint

        out = inpaint(image.permute(1, 2, 0).numpy(), hole.numpy())
        return torch.from_numpy(out).permute(2, 0, 1).clamp(0, 1)
    kept = torch.where(hole, 0.0, image)
    if method == "copy":  # the first fill alone: one shift, or strips
        return copied_fill(kept, hole)[0]
    canvas = Canvas(kept, hole, "bench", stitched_fill(kept, hole))
    return edit(canvas, seed=0, refine=REFINE if method == "refined" else 0).image


def quantised(image: torch.Tensor) -> torch.Tensor:
    return (image.clamp(0, 1) * 255).round() / 255


def bbox(mask: torch.Tensor) -> tuple[slice, slice]:
    ys, xs = torch.nonzero(mask, as_tuple=True)
    return slice(int(ys.min()), int(ys.max()) + 1), slice(int(xs.min()), int(xs.max()) + 1)


def swd(model: TextureModel, a: torch.Tensor, b: torch.Tensor) -> float:
    per_layer = feature_swd(model, a, b)
    return sum(per_layer.values()) / len(per_layer)


def natural_variation(model: TextureModel, image: torch.Tensor, box: tuple[slice, slice]) -> float:
    h, w = box[0].stop - box[0].start, box[1].stop - box[1].start
    return swd(model, image[:, :h, :w], image[:, -h:, -w:])


def gradient_magnitude(image: torch.Tensor) -> np.ndarray:
    grey = image.mean(0).numpy()
    return np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1)) / 8


def seam_ratio(result: torch.Tensor, intact: torch.Tensor, mask: torch.Tensor) -> float:
    m = mask.numpy()
    ring = ndimage.binary_dilation(m, iterations=2) & ~ndimage.binary_erosion(m, iterations=2)
    return float(gradient_magnitude(result)[ring].mean() / gradient_magnitude(intact)[ring].mean())


def measure(model, method, image, mask) -> tuple[dict, torch.Tensor]:
    start = time.perf_counter()
    result = quantised(fill(method, torch.where(mask, 0.0, image), mask))
    wall = time.perf_counter() - start
    box = bbox(mask)
    return {
        "quality": swd(model, result[(slice(None), *box)], image[(slice(None), *box)])
        / natural_variation(model, image, box),
        "seam": seam_ratio(result, image, mask),
        "known": float((result - image)[:, ~mask].abs().max() * 255),
        "wall_s": wall,
    }, result


def rolled_fill(image: torch.Tensor, band: int) -> torch.Tensor:
    """The tile fill before issue 35, the baseline: the canvas rolled by half so that the
    frame is a cross, the cross filled by :func:`stitched_fill` from the kept corners."""
    hole = torch.ones(image.shape[1:], dtype=torch.bool)
    hole[band:-band, band:-band] = False
    half = (image.shape[1] // 2, image.shape[2] // 2)
    kept = torch.where(hole, 0.0, image)
    rolled = stitched_fill(kept.roll(half, (1, 2)), hole.roll(half, (0, 1)))
    return torch.where(hole, rolled.roll((-half[0], -half[1]), (1, 2)), image)


def joins_ratio(tile: torch.Tensor, band: int) -> float:
    """Mean squared step between neighbours (wrap-around included) inside the band, over
    the same in the kept middle: about 1 when the band shows no seams."""
    steps = sum(((tile - tile.roll(1, axis)) ** 2).sum(0) for axis in (1, 2))
    middle = torch.zeros(tile.shape[1:], dtype=torch.bool)
    middle[band + 1 : -band, band + 1 : -band] = True
    return float(steps[~middle].mean() / steps[middle].mean())


def tiles(sources: dict[str, torch.Tensor], sheet: Path | None) -> None:
    """``tile`` on each texture, at 256², 64x48 and 50x50 (crops): the wrap-around seam
    before and after, the band's joins, and the largest change in the middle; the baseline
    is the rolled-cross fill ``tile`` used before."""
    from texsynth.core.edits import Edit
    from texsynth.image.canvas import default_band
    from texsynth.synthesis.edit import edit_image

    made, small = [], {}
    for name, full in sources.items():
        for crop in ((full.shape[2], full.shape[1]), (64, 48), (50, 50)):
            image = full[:, : crop[1], : crop[0]]
            band = default_band(*crop)
            for method in ("before", "texsynth"):
                start = time.perf_counter()
                if method == "before":
                    result = quantised(rolled_fill(image, band))
                else:
                    result = quantised(edit_image(Edit("tile", image)).image)
                inner = (slice(None), slice(band, -band), slice(band, -band))
                row = {
                    "tile": name, "size": f"{crop[0]}x{crop[1]}", "method": method,
                    "wrap_before": wrap_seam_ratio(image), "wrap_after": wrap_seam_ratio(result),
                    "joins": joins_ratio(result, band),
                    "middle_change": float((result - image)[inner].abs().max() * 255),
                    "wall_s": time.perf_counter() - start,
                }  # fmt: skip
                print(json.dumps(row), flush=True)
                if crop[0] == full.shape[2] and method == "texsynth":
                    made.append(torch.cat([image.repeat(1, 2, 2), result.repeat(1, 2, 2)], 2))
                if crop[0] != full.shape[2] and name in SMALL_SHEET:
                    small.setdefault(name, [image]).append(result)
    if sheet and made:  # per texture: the photograph tiled 2x2, then the tile tiled 2x2
        to_pil(torch.cat(made[:4], 1)).convert("RGB").resize((640, 320 * len(made[:4]))).save(sheet)
        small_sheet(small, sheet.with_name(f"{sheet.stem}_small{sheet.suffix}"))


def small_sheet(rows: dict[str, list[torch.Tensor]], path: Path) -> None:
    """Per texture, for 64x48 and then 50x50: the crop, the baseline's tile and texsynth's,
    each tiled 2x2 and shown at twice the size."""
    from PIL import Image

    lines = []
    for images in rows.values():
        crops = [images[0][:, :48, :64], images[0][:, :50, :50]]
        cells = [crops[0], *images[1:3], crops[1], *images[3:5]]
        shown = [to_pil(c.repeat(1, 2, 2)).convert("RGB") for c in cells]
        shown = [c.resize((c.width * 2, c.height * 2), Image.NEAREST) for c in shown]
        line = Image.new("RGB", (sum(c.width + 10 for c in shown), max(c.height for c in shown)),
                         "white")  # fmt: skip
        for i, cell in enumerate(shown):
            line.paste(cell, (sum(c.width + 10 for c in shown[:i]), 0))
        lines.append(line)
    page = Image.new("RGB", (lines[0].width, sum(x.height + 10 for x in lines)), "white")
    for i, line in enumerate(lines):
        page.paste(line, (0, sum(x.height + 10 for x in lines[:i])))
    page.save(path)


def timings(sizes: list[int]) -> None:
    source = resize_and_crop(load_image(PEER / "pebbles.jpg").pixels, 256)
    start = time.perf_counter()
    synthesize(source, 256, seed=0)
    print(json.dumps({"timing": "synthesize", "size": 256, "wall_s": time.perf_counter() - start}))
    for size in sizes:
        image = quantised(
            torch.nn.functional.interpolate(source[None], size=size, mode="bicubic")[0]
        )
        mask = hole("square16", size)
        start = time.perf_counter()
        fill("texsynth", torch.where(mask, 0.0, image), mask)
        print(json.dumps({"timing": "fill", "size": size, "wall_s": time.perf_counter() - start}))


def command_times(revision: str, sizes: list[int], runs: int = 5) -> list[dict]:
    """``texsynth fill`` (1/16 square hole) as a whole process, this checkout beside
    ``revision`` (a git worktree of it, on this checkout's environment), the two in turn
    ``runs`` times after a warm-up of each: medians and the median of the pair ratios."""
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    git = ["git", "-C", str(root), "worktree"]
    source = resize_and_crop(load_image(PEER / "pebbles.jpg").pixels, 256)
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        subprocess.run([*git, "add", "--detach", str(folder / "old"), revision], check=True,
                       capture_output=True)  # fmt: skip
        try:
            for size in sizes:
                image = torch.nn.functional.interpolate(source[None], size=size, mode="bicubic")
                to_pil(quantised(image[0])).save(folder / "image.png")
                to_pil(hole("square16", size).float()[None]).save(folder / "mask.png")
                times: dict[str, list[float]] = {"new": [], "old": []}
                for run in range(runs + 1):  # the first round warms the disk cache
                    for label, src in (("new", root / "src"), ("old", folder / "old" / "src")):
                        seconds = _fill_process(src, folder, folder / f"{label}.png")
                        times[label] += [seconds] if run else []
                same = (folder / "new.png").read_bytes() == (folder / "old.png").read_bytes()
                ratios = [n / o for n, o in zip(times["new"], times["old"], strict=True)]
                rows.append({"timing": "fill command", "size": size, "revision": revision,
                             "new_s": statistics.median(times["new"]),
                             "old_s": statistics.median(times["old"]),
                             "ratio": statistics.median(ratios), "same_pixels": same})  # fmt: skip
                print(json.dumps(rows[-1]), flush=True)
        finally:
            subprocess.run([*git, "remove", "--force", str(folder / "old")], check=True)
    return rows


def _fill_process(src: Path, folder: Path, out: Path) -> float:
    """Seconds of one ``python -m texsynth.cli fill`` of ``folder``'s image and mask, with
    the package imported from ``src``."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "texsynth.cli", "fill", str(folder / "image.png"),
               "--mask", str(folder / "mask.png"), "-o", str(out), "-q", "--overwrite"]  # fmt: skip
    start = time.perf_counter()
    subprocess.run(command, check=True, env={**os.environ, "PYTHONPATH": str(src)})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--methods", default="telea,criminisi,copy,texsynth,refined")
    parser.add_argument("--tile", action="store_true", help="also measure tile on each texture")
    parser.add_argument("--tile-sheet", type=Path, default=None)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--holes", default=",".join(HOLES))
    parser.add_argument("--times", default="")
    parser.add_argument(
        "--against", default=None, metavar="REVISION",
        help="with --times: also time the fill command as a whole process beside REVISION's",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--sheet", type=Path, default=None)
    args = parser.parse_args()
    model = TextureModel.from_weights()
    sources = textures(args.size)
    if args.only:
        sources = {k: v for k, v in sources.items() if k in args.only}
    methods = [m for m in args.methods.split(",") if m]  # --methods "": only --tile/--times
    holes = [h for h in args.holes.split(",") if h]
    rows, results = [], {}
    for name, image in sources.items():
        for kind in holes:
            mask = hole(kind, args.size)
            for method in methods:
                row, results[name, kind, method] = measure(model, method, image, mask)
                rows.append(row := {"texture": name, "hole": kind, "method": method, **row})
                print(json.dumps(row), flush=True)
    if methods:
        summary(rows, methods)
    if args.tile:
        tiles(sources, args.tile_sheet)
    if args.times:
        timings([int(s) for s in args.times.split(",")])
    if args.times and args.against:
        command_times(args.against, [int(s) for s in args.times.split(",")])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.sheet:
        write_sheet(args.sheet, sources, results, methods, holes)


def summary(rows: list[dict], methods: list[str]) -> None:
    print(f"{'method':<10}{'quality':>9}{'seam':>7}{'seam lo-hi':>13}{'known':>7}{'wall_s':>8}")
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        seams = [r["seam"] for r in mine]
        print(
            f"{method:<10}{statistics.median(r['quality'] for r in mine):>9.2f}"
            f"{statistics.median(seams):>7.2f}{f'{min(seams):.2f}-{max(seams):.2f}':>13}"
            f"{max(r['known'] for r in mine):>7.0f}"
            f"{statistics.median(r['wall_s'] for r in mine):>8.1f}"
        )


def write_sheet(path: Path, sources: dict, results: dict, methods: list, holes: list) -> None:
    """Rows: texture × hole; columns: the image with its hole, then each method's fill."""
    from PIL import Image, ImageDraw

    side, rows = 160, [(n, h) for n in sources for h in holes if (n, h, methods[0]) in results]
    sheet = Image.new("RGB", (side * (len(methods) + 1), (side + 14) * len(rows) + 14), "white")
    draw = ImageDraw.Draw(sheet)
    for col, label in enumerate(["hole", *methods]):
        draw.text((col * side + 4, 1), label, fill="black")
    for row, (name, kind) in enumerate(rows):
        top = 14 + row * (side + 14)
        mask = hole(kind, sources[name].shape[-1])
        holed = torch.where(mask, torch.tensor([1.0, 0, 1.0]).view(3, 1, 1), sources[name])
        for col, tile in enumerate([holed, *(results[name, kind, m] for m in methods)]):
            sheet.paste(to_pil(tile).convert("RGB").resize((side, side)), (col * side, top))
        draw.text((4, top + side), f"{name}, {kind}", fill="black")
    sheet.save(path)


if __name__ == "__main__":
    main()
