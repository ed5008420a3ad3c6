"""GPU iterations per second per output size, for benchmarks/speed.py ``--device cuda``."""

from __future__ import annotations

import time

import torch

from texsynth import synthesize

CUDA = torch.device("cuda")


def sync(device: torch.device) -> None:
    """Wait for the GPU, so that wall-clock times include its work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def gpu_rates(
    weights, source: torch.Tensor, sizes: list[int], device: torch.device = CUDA
) -> list[dict]:
    """Per output size (from the 256-px ``source``): full-size L-BFGS iterations per second
    in both precisions (one scale, 50 iterations, no stop rule), and the default preset's
    whole wall time on the GPU."""
    rows = []
    for size in sizes:
        row: dict = {"size": size}
        for precision in ("float32", "bfloat16"):
            t = time.perf_counter()
            r = synthesize(
                source, size, weights=weights, device=device, precision=precision,
                scales=1, iters=50, tol=0, progress=False,
            )  # fmt: skip
            sync(device)
            row[f"{precision}_it_per_s"] = r.iterations / (time.perf_counter() - t)
        t = time.perf_counter()
        r = synthesize(source, size, weights=weights, device=device, progress=False)
        sync(device)
        row["default_s"] = time.perf_counter() - t
        row["default_iterations"] = [s.iterations for s in r.scales]
        if device.type == "cuda":
            row["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
            torch.cuda.reset_peak_memory_stats(device)
        rows.append(row)
    return rows
