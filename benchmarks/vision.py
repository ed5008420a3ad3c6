"""Stimuli for vision science, measured (issue 27): metamers, morphs, controls, equalised sets.

Parts (``--parts``, all by default), each on images read from ``../shared``:

- ``metamer``: metamers of natural photographs (imagenet-sample) at 256² for several
  scalings S: every window's relative Gram error at the end (median), beside the same
  windows' errors of a plain ``synth`` of the whole image; the pixel difference from the
  original per ring of eccentricity, pixel for pixel and averaged over 9×9 px (it should
  grow outwards and with S); the fovea's largest pixel error; time.
- ``cost``: time per iteration and peak memory of a metamer (S = 0.5) at 256², 512² and
  1024² (``--cost-iters`` iterations each), and one whole 512² metamer at S = 0.5.
- ``morph``: 5-step series (mix 0, 0.25, … 1) between 4 pairs of peer textures at 128², with
  the default loss (interpolated Gram matrices) and with ``swd`` (the barycentre of the
  feature distributions): the relative Gram error and the SWD to A and to B along each
  series, and whether they are monotone.
- ``control``: phase and pixel controls of the peer textures: amplitude-spectrum error,
  phase correlation with the source.
- ``equalize``: 20 photographs at 192², each mode: spread (max − min over mean) of mean
  luminance and RMS contrast before and after, whether the histograms are identical (on
  grey copies, which an 8-bit file holds exactly), spectrum distance, SSIM to the originals.

    .venv/bin/python benchmarks/vision.py [--parts metamer,cost,morph,control,equalize]
        [--iters 150] [--json FILE] [--folder DIR] [--sheets DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from texsynth import TextureModel, synthesize
from texsynth.core.stimuli import Equalization, Metamer
from texsynth.evaluation.metrics import feature_swd, relative_gram_error
from texsynth.image.io import list_images, load_image, resize_and_crop, save_image
from texsynth.image.windows import PoolingWindows
from texsynth.losses.pooled import window_errors, window_grams
from texsynth.stimuli.controls import (
    amplitude_error,
    phase_correlation,
    phase_scrambled,
    shuffled_pixels,
)
from texsynth.stimuli.equalize import equalize_set
from texsynth.stimuli.metamer import make_metamer

sys.path.insert(0, str(Path(__file__).parent))
import itertools

from sota import PEER

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PHOTOS = SHARED / "imagenet-sample"
METAMER_PHOTOS = ("n01531178_goldfinch",)
SCALINGS = (0.3, 0.5, 0.7)
PAIRS = (("pebbles", "bubbly_0067"), ("brick_wall", "scaly_0127"),
         ("lacelike_0004", "radish"), ("trees", "grid_0053"))  # fmt: skip
MIXES = (0.0, 0.25, 0.5, 0.75, 1.0)
MORPH_LOSSES = ("tiled-gram", "swd")  # the default's (interpolated Gram), SWD's barycentre
EQUALIZE_MODES = {
    "luminance": Equalization(luminance=True),
    "histogram": Equalization(histogram=True),
    "spectrum": Equalization(spectrum=True),
    "histogram+spectrum": Equalization(histogram=True, spectrum=True),
}


def photo(name: str, side: int, folder: Path) -> Path:
    """The photograph cropped to side² and saved (metamers read a file)."""
    path = folder / f"{name}_{side}.png"
    if not path.exists():
        save_image(resize_and_crop(load_image(PHOTOS / f"{name}.jpg").pixels, side), path)
    return path


# Rings of eccentricity (px from the fixation) in which the metamers' differences from the
# original are measured: the same for every S, so the rings compare across scalings.
RING_EDGES = (0, 16, 32, 48, 64, 96, 128, 182)


def ring_differences(image, source, geometry: PoolingWindows, blur: int = 1) -> list[float]:
    """RMS pixel difference from the original in each ring of eccentricity; ``blur`` > 1
    compares the two images averaged over blur² px blocks (their coarse layout)."""
    x0, y0 = geometry.fixation
    ys = torch.arange(geometry.height) + 0.5 - y0
    xs = torch.arange(geometry.width) + 0.5 - x0
    ecc = torch.hypot(*torch.meshgrid(ys, xs, indexing="ij"))
    pool = torch.nn.AvgPool2d(blur, 1, blur // 2, count_include_pad=False)
    diff = pool(image[None].float())[0] - pool(source[None].float())[0]
    diff = diff[:, : geometry.height, : geometry.width]
    out = []
    for lo, hi in itertools.pairwise(RING_EDGES):
        ring = (ecc >= lo) & (ecc < hi)
        out.append(float(diff[:, ring].pow(2).mean().sqrt()))
    return out


def metamers(args, model: TextureModel, folder: Path) -> list[dict]:
    rows = []
    for name in METAMER_PHOTOS:
        path = photo(name, 256, folder)
        source = load_image(path).pixels
        plain = synthesize(str(path), iters=args.iters, seed=0, model=model).image
        for s in SCALINGS:
            began = time.perf_counter()
            made = make_metamer(Metamer(str(path), s), iters=args.iters, seed=0, model=model)
            seconds = time.perf_counter() - began
            geometry = PoolingWindows(256, 256, s, (128.0, 128.0))
            windows = {n: geometry.at(model.network.downsampling(n)) for n in model.layers}
            with torch.no_grad():
                feats = model.features(source[None])
                targets = {n: window_grams(feats[n].float(), windows[n])[0] for n in model.layers}
                plain_errors = window_errors(model.features(plain[None]), targets, windows)
            m = made.section
            rows.append({
                "image": name, "scaling": s, "windows": m["windows"], "seconds": seconds,
                "iterations": made.iterations,
                "median_window_error": m["median_window_gram_error"],
                "plain_synth_median_window_error": float(plain_errors.nanmedian()),
                "fovea_max_pixel_error": m["fovea_max_pixel_error"],
                "fovea_radius": geometry.fovea_radius,
                "ring_rms_difference": ring_differences(made.image, source, geometry),
                "ring_rms_difference_blur8": ring_differences(made.image, source, geometry, 9),
            })  # fmt: skip
            save_image(made.image, folder / f"metamer_{name}_{s}.png")
            print(json.dumps(rows[-1]), flush=True)
    return rows


def costs(args, model: TextureModel, folder: Path) -> list[dict]:
    """Sizes in rising order, the whole 512² run before 1024²: the peak RSS of the process
    so far is then each one's own."""
    rows = [cost(args, model, folder, 256), cost(args, model, folder, 512)]
    path = photo(METAMER_PHOTOS[0], 512, folder)
    began = time.perf_counter()
    made = make_metamer(Metamer(str(path), 0.5), iters=args.iters, model=model)
    rows.append({
        "side": 512, "whole_run": True, "iterations": made.iterations,
        "seconds_in_all": time.perf_counter() - began,
        "median_window_error": made.section["median_window_gram_error"],
        "peak_rss_gib_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    })  # fmt: skip
    save_image(made.image, folder / "metamer_512.png")
    print(json.dumps(rows[-1]), flush=True)
    rows.append(cost(args, model, folder, 1024))
    return rows


def cost(args, model: TextureModel, folder: Path, side: int) -> dict:
    path = photo(METAMER_PHOTOS[0], side, folder)
    began = time.perf_counter()
    made = make_metamer(Metamer(str(path), 0.5), iters=args.cost_iters, stop_change=0.0,
                        model=model)  # fmt: skip
    row = {
        "side": side, "windows": made.section["windows"], "iterations": made.iterations,
        "seconds_per_iteration": made.wall_time / max(1, made.iterations),
        "seconds_in_all": time.perf_counter() - began,
        "peak_rss_gib_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
    }  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


def monotone(values: list[float], rising: bool) -> bool:
    pairs = list(itertools.pairwise(values))
    return all(b > a if rising else b < a for a, b in pairs)


def morphs(args, model: TextureModel, folder: Path) -> list[dict]:
    rows = []
    for loss in MORPH_LOSSES:
        for a_name, b_name in PAIRS:
            a, b = (
                resize_and_crop(load_image(PEER / f"{n}.jpg").pixels, 128) for n in (a_name, b_name)
            )
            sa, sb = model.statistics(a), model.statistics(b)
            to_a, to_b, swd_a, swd_b = [], [], [], []
            for t in MIXES:
                made = synthesize([a, b], 128, mix=t, iters=args.iters, seed=0, model=model,
                                  loss=loss)  # fmt: skip
                to_a.append(relative_gram_error(model, made.image, sa))
                to_b.append(relative_gram_error(model, made.image, sb))
                swd_a.append(sum(feature_swd(model, a, made.image).values()))
                swd_b.append(sum(feature_swd(model, b, made.image).values()))
                save_image(made.image, folder / f"morph_{loss}_{a_name}_{b_name}_{t}.png")
            rows.append({
                "loss": loss, "pair": f"{a_name}-{b_name}", "to_a": to_a, "to_b": to_b,
                "swd_to_a": swd_a, "swd_to_b": swd_b,
                "monotone": monotone(to_a, True) and monotone(to_b, False),
                "swd_monotone": monotone(swd_a, True) and monotone(swd_b, False),
            })  # fmt: skip
            print(json.dumps(rows[-1]), flush=True)
    return rows


def controls(args, model: TextureModel, folder: Path) -> list[dict]:
    rows = []
    for path in sorted(PEER.glob("*.jpg")):
        source = resize_and_crop(load_image(path).pixels, 256).double()
        for kind, make in (("phase", phase_scrambled), ("pixels", shuffled_pixels)):
            made = make(source, 0)
            rows.append({"texture": path.stem, "kind": kind,
                         "amplitude_error": amplitude_error(made, source),
                         "phase_correlation": phase_correlation(made, source)})  # fmt: skip
            if path.stem == "pebbles":
                save_image(made.clamp(0, 1).float(), folder / f"control_{kind}.png")
    return rows


def equalized(args, model: TextureModel, folder: Path) -> list[dict]:
    names = [p.stem for p in list_images(PHOTOS)[:20]]
    colour, grey = folder / "eq_colour", folder / "eq_grey"
    for sub, is_grey in ((colour, False), (grey, True)):
        sub.mkdir(exist_ok=True)
        for n in names:
            pixels = resize_and_crop(load_image(PHOTOS / f"{n}.jpg", grayscale=is_grey).pixels, 192)
            save_image(pixels, sub / f"{n}.png")
    rows = []
    for mode, settings in EQUALIZE_MODES.items():
        for label, sub in (("colour", colour), ("grey", grey)):
            began = time.perf_counter()
            done = equalize_set(list_images(sub), settings)
            hists = [tuple(r["histogram_distance"] for r in done.after)]
            rows.append({
                "mode": mode, "images": label, "seconds": time.perf_counter() - began,
                "mean_spread_before": done.spread("mean", "before"),
                "mean_spread_after": done.spread("mean"),
                "contrast_spread_before": done.spread("contrast", "before"),
                "contrast_spread_after": done.spread("contrast"),
                "max_histogram_distance_after": max(hists[0]),
                "max_spectrum_distance_before": max(r["spectrum_distance"] for r in done.before),
                "max_spectrum_distance_after": max(r["spectrum_distance"] for r in done.after),
                "ssim_median": statistics.median(done.ssim), "ssim_min": min(done.ssim),
            })  # fmt: skip
            if label == "colour" and mode == "histogram+spectrum":
                for n, image in zip(done.names, done.images, strict=True):
                    save_image(image, folder / f"equalized_{Path(n).stem}.png")
            print(json.dumps(rows[-1]), flush=True)
    return rows


def sheet(rows: list[list[Path]], path: Path, tile: int = 192) -> None:
    """A picture sheet: one row per list of image files, each resized to ``tile``²."""
    from PIL import Image

    width = max(len(r) for r in rows)
    out = Image.new("RGB", (width * tile, len(rows) * tile), "white")
    for r, row in enumerate(rows):
        for c, file in enumerate(row):
            with Image.open(file) as im:
                out.paste(im.convert("RGB").resize((tile, tile)), (c * tile, r * tile))
    out.save(path, quality=90)


def sheets(parts: list[str], folder: Path, to: Path) -> None:
    """The docs' pictures of what the parts made."""
    to.mkdir(parents=True, exist_ok=True)
    if "metamer" in parts:
        rows = [[photo(n, 256, folder)] + [folder / f"metamer_{n}_{s}.png" for s in SCALINGS]
                for n in METAMER_PHOTOS]  # fmt: skip
        sheet(rows, to / "stimuli_metamers.jpg", 256)
    if "morph" in parts:
        for loss in MORPH_LOSSES:
            rows = [[folder / f"morph_{loss}_{a}_{b}_{t}.png" for t in MIXES] for a, b in PAIRS]
            sheet(rows, to / f"stimuli_morphs_{loss}.jpg", 160)
    if "control" in parts:
        controls_row = [folder / f"control_{k}.png" for k in ("phase", "pixels")]
        sheet([[PEER / "pebbles.jpg", *controls_row]], to / "stimuli_controls.jpg", 256)
    if "equalize" in parts:
        names = [p.stem for p in list_images(PHOTOS)[:20]][::4]
        rows = [[folder / "eq_colour" / f"{n}.png" for n in names],
                [folder / f"equalized_{n}.png" for n in names]]  # fmt: skip
        sheet(rows, to / "stimuli_equalized.jpg", 160)


PARTS = {"metamer": metamers, "cost": costs, "morph": morphs, "control": controls,
         "equalize": equalized}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--parts", default=",".join(PARTS))
    parser.add_argument("--iters", type=int, default=150)
    parser.add_argument("--cost-iters", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--sheets", type=Path, default=None, help="folder for picture sheets")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="texsynth-vision-"))
    folder.mkdir(parents=True, exist_ok=True)
    model = TextureModel.from_weights().with_precision("bfloat16")
    found = {}
    for part in args.parts.split(","):
        found[part] = PARTS[part](args, model, folder)
        if args.json:
            args.json.write_text(json.dumps(found, indent=1))
    if args.sheets:
        sheets(args.parts.split(","), folder, args.sheets)
    print(f"pictures in {folder}")


if __name__ == "__main__":
    main()
