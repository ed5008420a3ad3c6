"""texsynth's default beside its own implementations of the methods that came after 2015.

In one run, on the 17 peer textures (``../shared/peer-textures/sources``, read from there)
and a periodic set made here (checkerboards, bricks, hexagonal dots of several periods),
each source resized and centre-cropped to ``--size``:

- ``default`` and ``quality``: texsynth's presets of those names;
- ``heitz``: Heitz et al. 2021, the sliced Wasserstein loss on VGG-19's layers, one scale;
- ``liu``: Liu, Gousseau & Xia 2016, Gram matrices plus the spectrum constraint at the
  papers' weight (beta = 1e5), one scale, 500 iterations without an early stop;
- ``gonthier``: Gonthier, Gousseau & Ladjal 2022, the same at every scale of a
  multi-resolution (coarse-to-fine) scheme, 500 iterations per scale; ``liu-calibrated``
  and ``gonthier-calibrated`` are texsynth's first versions (the term's weight calibrated
  to the Gram term at the start, texsynth's budget);
- ``histogram``, ``histogram-light``: the default with the pixel-histogram term
  (``histogram_weight`` 1 and 0.1) at every scale; ``histogram-fine``: 0.1 at full size
  only; ``structure-all``: the shifted Gram term at every scale, and
  ``structure-all+histogram-fine`` both; not published methods (``--recipes default,histogram``).

Columns, medians over the textures (lower is better, but lattice): ``gram``, a VGG-19 Gram
error at layers no recipe optimises (conv2_1, conv3_1, conv4_1); ``swd``; ``hist`` (the
pixel-histogram distance, evaluate's ``color``); ``ps``, the Portilla–Simoncelli judge;
``lattice`` over all textures with a lattice and over the periodic set; ``copy``; and the
wall time per synthesis. A picture sheet of a few textures goes to ``--sheet``.

``--extra NAME=JSON`` adds a probe recipe (recipe fields as JSON). ``--dev`` runs on the
state-of-the-art development set instead (``../shared/sota-dev``:
16 sources at 256², 6 of them periodic, read from there), and scores the published 256²
syntheses of Heitz 2021, Liu 2016, Gonthier 2022 and Yin & Chua 2022 (K = 0, 1) in the
same run as texsynth's recipes (``--published none`` leaves them out).

    .venv/bin/python benchmarks/sota.py [--size 256] [--recipes default,heitz,liu,gonthier]
        [--only NAME ...] [--no-periodic] [--dev [--published all]] [--reuse RUN.json ...]
        [--json FILE] [--sheet FILE.jpg] [--save DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import evaluate, relative_gram_errors
from texsynth.image.io import load_image, resize_and_crop, to_pil
from texsynth.image.patterns import bricks, checkerboard, hex_dots

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "peer-textures" / "sources"
DEV = ROOT.parent / "shared" / "sota-dev"
DEV_PERIODIC = ("img_2", "img_7", "img_19", "img_26", "img_31", "img_35")  # its README's
PUBLISHED = ("heitz2021-swd", "liu2016-spectrum", "gonthier2022", "yin-chua2022-k0",
             "yin-chua2022-k1")  # fmt: skip
HELD_OUT_LAYERS = ("conv2_1", "conv3_1", "conv4_1")
SPECTRUM_EVERYWHERE = {"structure": "on", "structure_loss": "spectrum", "structure_scales": "all"}
# Liu's and Gonthier's own weighting: their loss is 1e9/L · (texsynth's Gram loss) +
# beta·255² · (texsynth's spectrum loss), pixels 0-255 in theirs, 0-1 here, so in the units
# of texsynth's Gram loss the spectrum's coefficient is beta·255²·L/1e9 = 32.5 for beta = 1e5
# and L = 5 layers (docs/sota.md derives it).
PAPERS_SPECTRUM = {"structure": "off", "spectrum_weight": 32.5}
# The papers ran L-BFGS to its budget (no early stop); 500 iterations per scale here, where
# Gonthier allows up to 2,000 (the 2 CPU cores' budget, docs/sota.md).
PAPERS_BUDGET = {"stop_change": 0.0, "iters": 500, "coarse_iters": 500, "iters_side": None}
RECIPES: dict[str, dict] = {
    "default": {},
    "quality": {"recipe": "quality"},
    "heitz": {"loss": "swd", "structure": "off", "scales": 1},
    # texsynth's first versions: the spectrum term calibrated (weight 1 at the start).
    "liu-calibrated": {"loss": "gram", "scales": 1, **SPECTRUM_EVERYWHERE},
    "gonthier-calibrated": {"loss": "gram", "scales": "auto", **SPECTRUM_EVERYWHERE},
    # The papers' settings: Gram on relu1_1, pool1-4 plus the spectrum penalty at beta = 1e5;
    # Liu at one scale, Gonthier at every scale of the pyramid (H/4, H/2, H).
    "liu": {"loss": "gram", "scales": 1, **PAPERS_SPECTRUM, **PAPERS_BUDGET},
    "gonthier": {"loss": "gram", "scales": "auto", **PAPERS_SPECTRUM, **PAPERS_BUDGET},
    # Yin & Chua 2022 with K = 0 (no long-range term): SWD on their 12 VGG-19 layers,
    # directions redrawn every 50 iterations (their L-BFGS "epoch"), coarse to fine; at
    # texsynth's budget per scale, not their 20 epochs.
    "yin-chua-k0": {
        "loss": "swd",
        "structure": "off",
        "redraw_every": 50,
        "layers": "conv1_1,conv1_2,conv2_1,conv2_2,conv3_1,conv3_2,conv3_3,conv3_4,"
        "conv4_1,conv4_2,conv5_1,conv5_2",
    },
    # Not a published method: the default with the pixel-histogram term (issue 24's lever).
    "histogram": {"histogram_weight": 1.0, "histogram_scales": "all"},
    "histogram-light": {"histogram_weight": 0.1, "histogram_scales": "all"},
    # The term at full size only, and the shifted Gram term at every scale.
    "histogram-fine": {"histogram_weight": 0.1},
    "structure-all": {"structure_scales": "all"},
    "structure-all+histogram-fine": {"structure_scales": "all", "histogram_weight": 0.1},
}
COLUMNS = ("gram", "swd", "hist", "ps", "lattice", "lattice_periodic", "copy", "wall_s")


def periodic_set(size: int) -> dict[str, torch.Tensor]:
    """Lattices of several periods, grey patterns made colour (brown on cream)."""
    made = {
        "checker16": checkerboard(size, size, 16), "checker24": checkerboard(size, size, 24),
        "bricks": bricks(size, size, (12, 28)), "bricks_large": bricks(size, size, (20, 44)),
        "dots14": hex_dots(size, size, 14, 4.0), "dots22": hex_dots(size, size, 22, 6.0),
    }  # fmt: skip
    dark, light = torch.tensor([0.35, 0.22, 0.12]), torch.tensor([0.92, 0.86, 0.72])
    return {k: dark.view(3, 1, 1) + (light - dark).view(3, 1, 1) * v[:1] for k, v in made.items()}


def scores(source: torch.Tensor, image: torch.Tensor, judge, held_out) -> dict[str, float]:
    found = evaluate(source, image, judge)
    gram = relative_gram_errors(held_out, image, held_out.statistics(source))
    return {
        "gram": sum(gram.values()) / len(gram), "swd": found["swd"], "hist": found["color"],
        "ps": found["ps"], "lattice": found["lattice"], "copy": found["copy"],
    }  # fmt: skip


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--recipes", default="default,heitz,liu,gonthier")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--no-periodic", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--sheet", type=Path, default=None)
    parser.add_argument("--dev", action="store_true", help="the sota-dev set, published beside")
    parser.add_argument("--published", default="all", help="all, none, or names of PUBLISHED")
    parser.add_argument(
        "--reuse", type=Path, action="append", default=[],
        help="an earlier --json (repeatable): its published rows reused, and its recipes' rows "
        "where --save holds their images (so runs split over textures merge into one table)",
    )  # fmt: skip
    parser.add_argument("--save", type=Path, default=None, help="write DIR/RECIPE/NAME.png")
    parser.add_argument(
        "--extra", action="append", default=[], metavar="NAME=JSON",
        help='a probe recipe beside RECIPES, e.g. spec10=\'{"structure_weight": 10}\'',
    )  # fmt: skip
    args = parser.parse_args()
    for extra in args.extra:
        name, _, fields = extra.partition("=")
        RECIPES[name] = json.loads(fields)
    sources, periodic = dev_set() if args.dev else peer_set(args.size, args.no_periodic)
    if args.only:
        sources = {k: v for k, v in sources.items() if k in args.only}
    judge = TextureModel.from_weights()
    held_out = TextureModel.from_weights(layers=HELD_OUT_LAYERS)
    rows, images = [], {}
    published = [] if not args.dev or args.published == "none" else (
        list(PUBLISHED) if args.published == "all" else args.published.split(","))  # fmt: skip
    earlier = [row for path in args.reuse for row in json.loads(path.read_text())]
    reused = {(r["recipe"], r["texture"]): r for r in earlier}
    for method in published:
        for name, source in sources.items():
            image = load_image(DEV / "published" / method / f"{name.replace('img', 'result')}.jpg"
                               ).pixels  # fmt: skip
            row = reused.get((method, name))
            if row is None:
                row = {"recipe": method, "texture": name, "wall_s": None}
                row |= scores(source, image, judge, held_out)
                row["lattice_periodic"] = row["lattice"] if name in periodic else None
            rows.append(row)
            images[method, name] = image
            print(json.dumps(row), flush=True)
    recipes = [r for r in args.recipes.split(",") if r]
    for recipe in recipes:
        for name, source in sources.items():
            saved = args.save / recipe / f"{name}.png" if args.save else None
            if (recipe, name) in reused and saved is not None and saved.exists():
                rows.append(reused[recipe, name])
                images[recipe, name] = load_image(saved).pixels
                continue
            start = time.perf_counter()
            result = synthesize(source, args.size, **RECIPES[recipe], seed=0)
            row = {"recipe": recipe, "texture": name, "wall_s": time.perf_counter() - start}
            row |= scores(source, result.image, judge, held_out)
            row["lattice_periodic"] = row["lattice"] if name in periodic else None
            rows.append(row)
            images[recipe, name] = result.image
            if saved is not None:
                saved.parent.mkdir(parents=True, exist_ok=True)
                to_pil(result.image).save(saved)
            print(json.dumps(row), flush=True)
    print(f"{'recipe':<18}" + "".join(f"{c:>17}" for c in COLUMNS))
    for recipe in [*published, *recipes]:
        mine = [r for r in rows if r["recipe"] == recipe]
        cells = [median(mine, c) for c in COLUMNS]
        print(f"{recipe:<18}" + "".join(f"{'-' if v is None else f'{v:.4f}':>17}" for v in cells))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if args.sheet:
        write_sheet(args.sheet, sources, images, [*published, *recipes])


def peer_set(size: int, no_periodic: bool) -> tuple[dict[str, torch.Tensor], set[str]]:
    """The 17 peer textures at ``size`` and (unless ``no_periodic``) the periodic set."""
    sources = {
        p.stem: resize_and_crop(load_image(p).pixels, size) for p in sorted(PEER.glob("*.jpg"))
    }
    periodic = {} if no_periodic else periodic_set(size)
    return sources | periodic, set(periodic)


def dev_set() -> tuple[dict[str, torch.Tensor], set[str]]:
    """The sota-dev sources as they are (256², each method was given them so), by number."""
    paths = sorted((DEV / "refs").glob("img_*.jpg"), key=lambda p: int(p.stem.split("_")[1]))
    return {p.stem: load_image(p).pixels for p in paths}, set(DEV_PERIODIC)


def write_sheet(path: Path, sources: dict, images: dict, recipes: list[str]) -> None:
    """Rows: textures; columns: the source, then each recipe's synthesis."""
    from PIL import Image, ImageDraw

    names = list(sources)[:8]
    side = 160
    sheet = Image.new("RGB", (side * (len(recipes) + 1), (side + 16) * len(names) + 16), "white")
    draw = ImageDraw.Draw(sheet)
    for col, label in enumerate(["source", *recipes]):
        draw.text((col * side + 4, 2), label, fill="black")
    for row, name in enumerate(names):
        top = 16 + row * (side + 16)
        tiles = [sources[name], *(images[r, name] for r in recipes)]
        for col, tile in enumerate(tiles):
            sheet.paste(to_pil(tile).convert("RGB").resize((side, side)), (col * side, top))
        draw.text((4, top + side + 1), name, fill="black")
    sheet.save(path, quality=88)


if __name__ == "__main__":
    main()
