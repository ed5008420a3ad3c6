"""Coarse-to-fine benchmark: is ``--scales K`` faster to a given loss, and better on large
structure, than single-scale synthesis?

For each source, a single-scale baseline runs ``--iters`` iterations at the full size; its
final loss is the target. Each multi-scale run (K = 2, 3) records the full-scale loss after
every iteration; we report the time it needs to reach the baseline's final loss (coarse
scales included) as a ratio to the baseline's time, the loss it ends at, and two measures of
large-scale structure against the source: the sliced Wasserstein distance of pool4 features
and the power-spectrum distance over the lowest quarter of frequencies. All runs happen in
this process, one after another, so the ratios compare like with like.

    .venv/bin/python benchmarks/coarse_to_fine.py [--size 256] [--iters 200] [--source ...]
        [--preset paper]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from texsynth import TextureModel, synthesize
from texsynth.evaluation.metrics import feature_swd, radial_power_spectrum
from texsynth.image.io import load_image, resize_and_crop

PEER = Path(__file__).resolve().parents[2] / "shared" / "peer-textures" / "sources"
DEFAULT_SOURCES = ["builtin:ihc", "builtin:brick"] + [
    str(PEER / n) for n in ("pebbles.jpg", "radish.jpg") if (PEER / n).exists()
]


def low_frequency_distance(source, synth) -> float:
    a, b = radial_power_spectrum(source), radial_power_spectrum(synth)
    n = max(1, len(a) // 4)
    return float((a[:n] - b[:n]).abs().mean())


def run(model, source, size, iters, scales, preset):
    trace = []
    t0 = time.perf_counter()

    def record(iteration, loss, image):
        if image.shape[-1] == size:  # full-size iterations only
            trace.append((time.perf_counter() - t0, loss))

    # Times count from the start of the whole run, coarse scales included.
    result = synthesize(
        source, size, preset, model=model, iters=iters, scales=scales, callback=record
    )
    return result, trace


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--source", action="append", default=None)
    # "paper": SciPy L-BFGS-B in float32 at every scale, as the first measurements were made.
    parser.add_argument("--preset", default="paper")
    args = parser.parse_args()
    model = TextureModel.from_weights()
    judge = TextureModel.from_weights(layers=["pool4"])
    print(
        f"{'source':<12}{'scales':>7}{'time to base loss':>19}{'final loss':>12}"
        f"{'swd pool4':>11}{'low-freq spec':>15}"
    )
    for spec in args.source or DEFAULT_SOURCES:
        name = Path(spec).stem if not spec.startswith("builtin:") else spec[8:]
        source = resize_and_crop(load_image(spec).pixels, args.size)
        base, base_trace = run(model, source, args.size, args.iters, 1, args.preset)
        target, base_time = base.final_loss, base_trace[-1][0]
        for scales in (1, 2, 3):
            result, trace = (
                (base, base_trace)
                if scales == 1
                else run(model, source, args.size, args.iters, scales, args.preset)
            )
            reach = next((t for t, loss in trace if loss <= target), None)
            ratio = f"{reach / base_time:.2f}x" if reach is not None else "not reached"
            swd = feature_swd(judge, source, result.image)["pool4"]
            low = low_frequency_distance(source, result.image)
            print(
                f"{name:<12}{scales:>7}{ratio:>19}{result.final_loss:>12.4g}"
                f"{swd:>11.4f}{low:>15.4f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
