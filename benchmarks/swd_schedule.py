"""How often SWD's random directions are redrawn, and whether L-BFGS then converges.

Runs ``--loss swd`` and ``--loss gram+swd`` (default preset otherwise) on peer textures at
each ``redraw_every`` in ``--every`` (1 is the old behaviour: every iteration), in one run,
and reports per recipe: iterations run at each scale and why each scale stopped, the wall
time, and the medians of evaluate()'s gram, swd and ps scores.

    .venv/bin/python benchmarks/swd_schedule.py [--size 128] [--every 1,10,25,50]
        [--only NAME ...] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import evaluate
from texsynth.image.io import load_image, resize_and_crop

ROOT = Path(__file__).resolve().parents[1]
PEER = ROOT.parent / "shared" / "peer-textures" / "sources"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--every", default="1,10,25,50")
    parser.add_argument("--losses", default="swd,gram+swd")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    paths = sorted(PEER.glob("*.jpg"))
    paths = [p for p in paths if not args.only or p.stem in args.only]
    judge = TextureModel.from_weights()
    sources = {p.stem: resize_and_crop(load_image(p).pixels, args.size) for p in paths}
    rows = []
    for loss in args.losses.split(","):
        for every in (int(e) for e in args.every.split(",")):
            scores, iterations, reasons, wall = [], [], set(), 0.0
            for source in sources.values():
                start = time.perf_counter()
                result = synthesize(source, args.size, loss=loss, redraw_every=every, seed=0)
                wall += time.perf_counter() - start
                iterations.append([s.iterations for s in result.scales])
                reasons |= {s.stop_reason for s in result.scales}
                scores.append(evaluate(source, result.image, judge))
            row = {
                "loss": loss, "redraw_every": every, "wall_s": wall,
                "iterations": iterations, "stop_reasons": sorted(reasons),
                **{m: statistics.median(s[m] for s in scores) for m in ("gram", "swd", "ps")},
            }  # fmt: skip
            rows.append(row)
            print(
                f"{loss:>9} every {every:>3}: gram {row['gram']:.4f} swd {row['swd']:.4f} "
                f"ps {row['ps']:.3f}  {wall:6.1f} s  iterations {iterations[0]} …  "
                f"stops: {', '.join(row['stop_reasons'])}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
