"""Quality benchmark: texsynth's default preset against the published VGG-19 syntheses.

For every texture in ``../shared/peer-textures/sources`` (read from there, never copied into
the project), the source is resized so its shorter side is 200 px and centre-cropped to
200×200 — the crop that the published syntheses (Ustyuzhaninov et al. 2017,
``published-vgg19/``, 200×200, Gatys et al.'s model) match best — and synthesised at
200×200 with a preset of ``texsynth.synthesize`` (``--preset``, default "default").
Both syntheses are scored against that
source with ``texsynth.evaluation.metrics.evaluate`` (lower is better). Prints per-texture figures,
medians, the ratio of our median to the published one, and the CPU time spent.

    .venv/bin/python benchmarks/quality.py [--preset default|paper|draft] [--iters N]
        [--only NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import METRICS as ALL_METRICS
from texsynth.evaluation.metrics import evaluate
from texsynth.image.io import load_image, resize_and_crop

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "peer-textures"
# The scores where lower is better and every texture has one (lattice and copy are in
# benchmarks/structure.py).
METRICS = ALL_METRICS[:5]  # gram, swd, color, spectrum, ps


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", type=Path, default=PEER, help="peer-textures folder")
    parser.add_argument("--preset", default="default", help="synthesis preset")
    parser.add_argument("--iters", type=int, default=None, help="default: the preset's")
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--only", nargs="*", default=None, help="texture names to run")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args()

    sources = sorted((args.peer / "sources").glob("*.jpg"))
    if args.only:
        sources = [p for p in sources if p.stem in args.only]
    if not sources:
        print(f"no textures found in {args.peer / 'sources'}", file=sys.stderr)
        return 1
    model = TextureModel.from_weights()
    options = {} if args.iters is None else {"iters": args.iters}
    rows = []
    cpu_total = wall_total = 0.0
    header = f"{'texture':<20}" + "".join(f"{m + ' ours':>15}{m + ' pub':>14}" for m in METRICS)
    print(header + f"{'cpu s':>9}")
    for path in sources:
        source = resize_and_crop(load_image(path).pixels, args.size)
        published = load_image(args.peer / "published-vgg19" / path.name).pixels
        cpu0, wall0 = time.process_time(), time.perf_counter()
        result = synthesize(source, args.size, args.preset, model=model, seed=0, **options)
        cpu = time.process_time() - cpu0
        cpu_total += cpu
        wall_total += time.perf_counter() - wall0
        ours = evaluate(source, result.image, model)
        pub = evaluate(source, published, model)
        row = {"texture": path.stem, "cpu_s": cpu, "iterations": result.iterations}
        row |= {f"{m}_ours": ours[m] for m in METRICS} | {f"{m}_published": pub[m] for m in METRICS}
        rows.append(row)
        print(
            f"{path.stem:<20}"
            + "".join(f"{ours[m]:15.4f}{pub[m]:14.4f}" for m in METRICS)
            + f"{cpu:9.1f}",
            flush=True,
        )
    medians = {
        m: (
            statistics.median(r[f"{m}_ours"] for r in rows),
            statistics.median(r[f"{m}_published"] for r in rows),
        )
        for m in METRICS
    }
    print(f"{'median':<20}" + "".join(f"{o:15.4f}{p:14.4f}" for o, p in medians.values()))
    print(
        "ours / published (median; < 1 is better): "
        + ", ".join(f"{m} {o / p:.2f}" for m, (o, p) in medians.items())
    )
    wins = {m: sum(r[f"{m}_ours"] <= r[f"{m}_published"] for r in rows) for m in METRICS}
    print(
        "textures where ours is at least as good: "
        + ", ".join(f"{m} {w}/{len(rows)}" for m, w in wins.items())
    )
    print(
        f"CPU time {cpu_total:.0f} s ({cpu_total / len(rows):.1f} s per texture), wall "
        f"{wall_total:.0f} s, {torch.get_num_threads()} threads, "
        f"{rows[0]['iterations']} iterations per texture"
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "medians": medians}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
