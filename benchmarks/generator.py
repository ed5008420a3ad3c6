"""Feed-forward generators beside optimisation, in one run (issue 26).

For each texture (irregular ones and lattices; sources resized and centre-cropped to 256²):

- optimisation: the default preset at 256², seeds 0, 1, 2 (time; evaluate's gram, swd,
  lattice and copy against the source; the pairwise pixel distance between the three);
- a generator trained with the default recipe and the default training (time);
- its samples: time per sample at 256², 1024² and 2048² (one at a time, after a warm-up),
  the same metrics over ``--samples`` samples at 256², and their pairwise distance;
- samples refined by the default recipe for ``--refine`` iterations (time and metrics);
- the break-even count: training time / (optimisation time - sample time).

Distances between images are RMS pixel differences (0-1 scale), as the mean over pairs.

    .venv/bin/python benchmarks/generator.py [--only NAME ...] [--minutes 10] [--samples 6]
        [--refine 30] [--json FILE] [--sheet FILE.jpg] [--device cpu]
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import evaluate
from texsynth.features.generator import Generator
from texsynth.image.io import load_image, resize_and_crop, save_image
from texsynth.synthesis.train import train_generator

sys.path.insert(0, str(Path(__file__).parent))
from sota import PEER, periodic_set

SIZE = 256
TEXTURES = ("pebbles", "bubbly_0067", "lacelike_0004", "scaly_0127",
            "brick_wall", "grid_0053", "checker24", "dots14")  # fmt: skip
SAMPLE_SIDES = (256, 1024, 2048)
METRICS = ("gram", "swd", "lattice", "copy")


def sources(only: list[str] | None) -> dict[str, torch.Tensor]:
    found = {
        p.stem: resize_and_crop(load_image(p).pixels, SIZE) for p in sorted(PEER.glob("*.jpg"))
    }
    found |= periodic_set(SIZE)
    return {name: found[name] for name in (only or TEXTURES)}


def spread(images: list[torch.Tensor]) -> float:
    """Mean RMS pixel difference over the pairs."""
    pairs = itertools.combinations(images, 2)
    return statistics.mean(float((a - b).pow(2).mean().sqrt()) for a, b in pairs)


def scored(source: torch.Tensor, images: list[torch.Tensor], judge: TextureModel) -> dict:
    found = [evaluate(source, image, judge) for image in images]
    medians = {}
    for key in METRICS:
        values = [f[key] for f in found if f[key] is not None]
        medians[key] = statistics.median(values) if values else None
    return medians


def sample_times(generator: Generator, device: str) -> dict[str, float]:
    times = {}
    for side in SAMPLE_SIDES:
        generator.sample(1, side, seed=99, device=device)  # warm-up
        began = time.perf_counter()
        generator.sample(1, side, seed=100, device=device)
        times[f"sample_{side}_s"] = time.perf_counter() - began
    return times


def one_texture(name: str, source: torch.Tensor, args, judge: TextureModel, folder: Path) -> dict:
    row: dict = {"texture": name}
    began = time.perf_counter()
    optimised = [synthesize(source, SIZE, seed=s, device=args.device).image for s in range(3)]
    row["optimise_s"] = (time.perf_counter() - began) / 3
    row |= {f"opt_{k}": v for k, v in scored(source, optimised, judge).items()}
    row["opt_diversity"] = spread(optimised)

    began = time.perf_counter()
    path = folder / f"{name}.gen"
    generator = train_generator(source, output=path, overwrite=True, minutes=args.minutes,
                                device=args.device)  # fmt: skip
    row["train_s"] = time.perf_counter() - began
    row["train_steps"] = generator.training["step"]
    row |= sample_times(generator, args.device)
    samples = list(generator.sample(args.samples, SIZE, seed=0, device=args.device))
    row |= {f"gen_{k}": v for k, v in scored(source, samples, judge).items()}
    row["gen_diversity"] = spread(samples)

    began = time.perf_counter()
    refined = [
        synthesize(
            str(path), SIZE, start="generator", iters=args.refine, seed=s, device=args.device
        ).image
        for s in range(3)
    ]
    row["refined_s"] = (time.perf_counter() - began) / 3
    row |= {f"ref_{k}": v for k, v in scored(source, refined, judge).items()}
    row["ref_diversity"] = spread(refined)
    row["speedup_256"] = row["optimise_s"] / row["sample_256_s"]
    row["break_even"] = row["train_s"] / (row["optimise_s"] - row["sample_256_s"])
    for i, image in enumerate([source, optimised[0], samples[0], samples[1], refined[0]]):
        save_image(image, folder / f"{name}_{i}.png")
    return row


def median(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(values) if values else None


def summary(rows: list[dict]) -> str:
    lines = [
        "| | time s | gram | swd | lattice | copy | diversity |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, prefix, time_key in (("optimised", "opt", "optimise_s"),
                                    ("generator sample", "gen", "sample_256_s"),
                                    ("sample + refine", "ref", "refined_s")):  # fmt: skip
        cells = [median(rows, time_key)] + [
            median(rows, f"{prefix}_{k}") for k in (*METRICS, "diversity")
        ]
        lines.append(
            f"| {label} | " + " | ".join("-" if c is None else f"{c:.4g}" for c in cells) + " |"
        )
    extra = [
        "train_s",
        "train_steps",
        "sample_1024_s",
        "sample_2048_s",
        "speedup_256",
        "break_even",
    ]
    lines.append("")
    lines.append(", ".join(f"{k} {median(rows, k):.4g}" for k in extra))
    return "\n".join(lines)


def write_sheet(path: Path, folder: Path, names: list[str]) -> None:
    """Rows: textures; columns: source, optimised, two samples, a refined sample."""
    from PIL import Image

    tile = 192
    sheet = Image.new("RGB", (5 * tile, len(names) * tile), "white")
    for r, name in enumerate(names):
        for c in range(5):
            with Image.open(folder / f"{name}_{c}.png") as im:
                sheet.paste(im.convert("RGB").resize((tile, tile)), (c * tile, r * tile))
    sheet.save(path, quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--samples", type=int, default=6)
    parser.add_argument("--refine", type=int, default=30)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/texsynth-generators"))
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--sheet", type=Path, default=None)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    judge = TextureModel.from_weights()
    rows = []
    for name, source in sources(args.only).items():
        rows.append(one_texture(name, source, args, judge, args.folder))
        print(json.dumps(rows[-1]), flush=True)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    print(summary(rows))
    if args.sheet:
        write_sheet(args.sheet, args.folder, [r["texture"] for r in rows])


if __name__ == "__main__":
    main()
