"""Structure benchmark: how much of a texture's lattice each method keeps, and at what cost.

Three groups of textures, each source resized and centre-cropped to ``--size`` px:

- ``lattice``: the six peer textures with a lattice (grid_0053, meshed_0164, brick_wall,
  lacelike_0073, scaly_0127, bubbly_0111), from ``../shared/peer-textures``;
- ``synthetic``: periodic textures made here (``texsynth.image.patterns``);
- ``irregular``: the other peer textures, the no-harm check.

Methods are recipes (the default preset with the fields given), plus ``published`` (the
peer VGG-19 syntheses, 200 px, where they exist). Every synthesis is scored by
``texsynth.evaluation.metrics.evaluate`` against its source (lattice, gram, swd, color,
spectrum, copy) and timed. The table gives each texture, then medians per group and method, and each
method's median ratio to ``before`` (the default preset without structure terms) on gram,
swd and time: the no-harm targets.

    .venv/bin/python benchmarks/structure.py [--size 200] [--methods default,spectrum]
        [--groups lattice,irregular] [--out structure-out/] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from texsynth import TextureModel, synthesize
from texsynth.core.errors import TexsynthError
from texsynth.evaluation.metrics import METRICS, evaluate
from texsynth.image.io import load_image, resize_and_crop, save_image
from texsynth.image.patterns import bricks, checkerboard, hex_dots

PEER = Path(__file__).resolve().parent.parent.parent / "shared" / "peer-textures"
LATTICE = ["grid_0053", "meshed_0164", "brick_wall", "lacelike_0073", "scaly_0127", "bubbly_0111"]
SYNTHETIC = {"bricks": bricks, "checkerboard": checkerboard, "hex_dots": hex_dots}
# Recipe fields on top of the default preset. "before" is the default preset as it was
# before structure terms; each structure term is also measured on its own.
METHODS: dict[str, dict[str, object]] = {
    "before": {"structure": "off"},
    "default": {},
    "spectrum": {"structure": "on", "structure_loss": "spectrum"},
    "shifted-gram": {"structure": "on", "structure_loss": "shifted-gram"},
    "autocorrelation": {"structure": "on", "structure_loss": "autocorrelation"},
    "spectrum-all-scales": {
        "structure": "on",
        "structure_loss": "spectrum",
        "structure_scales": "all",
    },
}
SHEET_COLUMNS = ("source", "published", "before", "default", "spectrum")


def sources(groups: list[str], size: int) -> list[tuple[str, str, torch.Tensor]]:
    out = []
    if "lattice" in groups:
        out += [("lattice", n, _peer(n, size)) for n in LATTICE]
    if "synthetic" in groups:
        out += [("synthetic", n, make(size, size)) for n, make in SYNTHETIC.items()]
    if "irregular" in groups:
        names = sorted(p.stem for p in (PEER / "sources").glob("*.jpg"))
        out += [("irregular", n, _peer(n, size)) for n in names if n not in LATTICE]
    return out


def _peer(name: str, size: int) -> torch.Tensor:
    return resize_and_crop(load_image(PEER / "sources" / f"{name}.jpg").pixels, size)


def run(method: str, source: torch.Tensor, size: int, fields: dict) -> tuple[torch.Tensor, float]:
    if method == "published":
        return None, 0.0  # type: ignore[return-value]
    start = time.perf_counter()
    result = synthesize(source, size, seed=0, **fields)
    return result.image, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--methods", default="before,default,spectrum,shifted-gram,published")
    parser.add_argument("--sheet", type=Path, default=None, help="side-by-side picture (JPEG)")
    parser.add_argument("--groups", default="lattice,synthetic,irregular")
    parser.add_argument("--only", default=None, help="comma-separated texture names")
    parser.add_argument("--set", action="append", default=[], help="NAME=field:value,…")
    parser.add_argument("--out", type=Path, default=Path("structure-out"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    methods = dict(METHODS)
    for spec in args.set:
        name, _, fields = spec.partition("=")
        methods[name] = dict(item.split(":", 1) for item in fields.split(",") if item)
    chosen = args.methods.split(",")
    judge = TextureModel.from_weights()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    header = f"{'group':<10}{'texture':<16}{'method':<22}" + "".join(f"{m:>9}" for m in METRICS)
    print(header + f"{'s':>7}", flush=True)
    for group, name, source in sources(args.groups.split(","), args.size):
        if args.only and name not in args.only.split(","):
            continue
        save_image(source, args.out / f"{name}__source.png")
        for method in chosen:
            if method == "published":
                path = PEER / "published-vgg19" / f"{name}.jpg"
                if not path.exists():
                    continue
                image, seconds = load_image(path).pixels, float("nan")
            else:
                try:
                    image, seconds = run(method, source, args.size, methods[method])
                except TexsynthError as exc:  # e.g. shifted Gram matrices without a lattice
                    print(f"{group:<10}{name:<16}{method:<22}n/a: {exc}", flush=True)
                    continue
            save_image(image, args.out / f"{name}__{method}.png")
            scores = evaluate(source, image, judge)
            row = {"group": group, "texture": name, "method": method, "seconds": seconds}
            row |= {m: scores[m] for m in METRICS}
            rows.append(row)
            cells = "".join("        -" if row[m] is None else f"{row[m]:9.4f}" for m in METRICS)
            print(f"{group:<10}{name:<16}{method:<22}{cells}{seconds:7.1f}", flush=True)
    summarise(rows, chosen)
    if args.sheet:
        names = list(dict.fromkeys(r["texture"] for r in rows if r["group"] != "irregular"))
        contact_sheet(args.out, names, args.sheet)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def summarise(rows: list[dict], methods: list[str]) -> None:
    print("\nmedians (lattice: higher is better; the rest lower)")
    for group in dict.fromkeys(r["group"] for r in rows):
        for method in methods:
            sel = [r for r in rows if r["group"] == group and r["method"] == method]
            if not sel:
                continue
            cells = ""
            for m in [*METRICS, "seconds"]:
                values = [r[m] for r in sel if r[m] is not None and r[m] == r[m]]
                cells += f"{statistics.median(values):9.4f}" if values else "        -"
            print(f"{group:<10}{method:<22}{cells}")
        base = {r["texture"]: r for r in rows if r["group"] == group and r["method"] == "before"}
        for method in methods:
            ratios = {
                m: [r[m] / base[r["texture"]][m] for r in rows if r["group"] == group
                    and r["method"] == method and r["texture"] in base and base[r["texture"]][m]]
                for m in ("gram", "swd", "seconds")
            }  # fmt: skip
            if method != "before" and all(ratios.values()):
                text = ", ".join(f"{m} {statistics.median(v):.2f}x" for m, v in ratios.items())
                print(f"{group:<10}{method:<22}vs before (median ratio): {text}")


def contact_sheet(folder: Path, names: list[str], path: Path, cell: int = 160) -> None:
    """A grid of images: one row per texture, SHEET_COLUMNS across, labelled."""
    from PIL import Image, ImageDraw

    label_h = 18
    sheet = Image.new("RGB", (cell * len(SHEET_COLUMNS), label_h + cell * len(names)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, column in enumerate(SHEET_COLUMNS):
        draw.text((j * cell + 4, 3), column, fill="black")
        for i, name in enumerate(names):
            file = folder / f"{name}__{column}.png"
            if file.exists():
                with Image.open(file) as img:
                    tile = img.convert("RGB").resize((cell - 4, cell - 4))
                sheet.paste(tile, (j * cell + 2, label_h + i * cell + 2))
    sheet.save(path, quality=88)


if __name__ == "__main__":
    raise SystemExit(main())
