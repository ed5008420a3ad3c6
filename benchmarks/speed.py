"""Speed benchmark: time to a given texture quality, texsynth's default preset against the
authors' recipe, run alternately in this process.

The baseline below is a plain, self-contained implementation of Gatys et al.'s recipe:
the normalised VGG-19 (read from the same weights file) with average pooling, Gram
matrices normalised by the number of positions on conv1_1 and pool1–pool4, the loss
Σ_l (Ĝ − G)² / (4 N_l²), and SciPy's ``minimize(method="L-BFGS-B", options={"maxcor": 20,
"ftol": 0, "gtol": 0})`` on float64 copies of the pixels with the source's pixel bounds,
the network in float32 torch on the CPU. It runs N iterations (200; 500 with ``--long``);
its loss after N iterations is the target. texsynth's default preset then runs on the same
source and size, and its image after every full-size iteration is judged by the
*baseline's* loss function (float32; the judging time is not counted). Reported: seconds
per loss evaluation, the target, texsynth's time to reach it, and their ratio — the line
starting ``RATIO``. ``--repeats`` alternates baseline and texsynth runs and reports the
median ratio.

Also measured, against the float32 evaluation in this process: the levers tried
(channels-last, bfloat16, a truncated network, batched seeds, threads, SciPy's overhead),
both results' metrics, peak memory per size (a fresh process each), and GPU iterations per
second. ``--device cuda`` runs both recipes on the GPU (SciPy's L-BFGS-B stays on the CPU,
as in the authors' code) and adds the default's wall time per output size.

    .venv/bin/python benchmarks/speed.py [--long] [--size 256] [--source builtin:ihc]
        [--repeats 2] [--memory-sizes 256,512,1024] [--skip-levers] [--json FILE]
        [--device cuda] [--gpu-sizes 256,512,1024]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy.optimize
import torch
import torch.nn.functional as F
from gpu_rates import gpu_rates, sync
from torch import nn

from texsynth import TextureModel, load_weights, synthesize
from texsynth.evaluation.metrics import evaluate
from texsynth.features.network import fast_bfloat16
from texsynth.image.io import load_image, resize_and_crop
from texsynth.losses.objective import gram_loss

LAYERS = ("conv1_1", "pool1", "pool2", "pool3", "pool4")
CPU, CUDA = torch.device("cpu"), torch.device("cuda")


# ---------------------------------------------------------------- the plain baseline ----
class PlainVGG19(nn.Module):
    """VGG-19 to pool4 with average pooling, from a Gatys-layout state dict."""

    BLOCKS = ((1, 2), (2, 2), (3, 4), (4, 4))

    def __init__(self, state: dict[str, torch.Tensor]) -> None:
        super().__init__()
        self.preprocess = nn.Conv2d(3, 3, 1)
        self.preprocess.weight.data = state["preprocess.weight"].float()
        self.preprocess.bias.data = state["preprocess.bias"].float()
        self.convs = nn.ModuleDict()
        for block, n in self.BLOCKS:
            for i in range(1, n + 1):
                w = state[f"convs.conv{block}_{i}.weight"].float()
                conv = nn.Conv2d(w.shape[1], w.shape[0], 3, padding=1)
                conv.weight.data, conv.bias.data = w, state[f"convs.conv{block}_{i}.bias"].float()
                self.convs[f"conv{block}_{i}"] = conv
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        x = self.preprocess(x)
        for block, n in self.BLOCKS:
            for i in range(1, n + 1):
                x = F.relu(self.convs[f"conv{block}_{i}"](x))
                if (block, i) == (1, 1):
                    out["conv1_1"] = x
            x = F.avg_pool2d(x, 2)
            out[f"pool{block}"] = x
        return out


def plain_gram(f: torch.Tensor) -> torch.Tensor:
    b, n, h, w = f.shape
    f = f.reshape(b, n, h * w)
    return f @ f.transpose(1, 2) / (h * w)


class PlainLoss:
    """Σ_l (Ĝ_l − G_l)² / (4 N_l²) against a source image."""

    def __init__(self, net: PlainVGG19, source: torch.Tensor) -> None:
        self.net = net
        with torch.no_grad():
            self.targets = {k: plain_gram(v) for k, v in net(source[None]).items()}

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.net(x)
        return sum(
            ((plain_gram(feats[k]) - g) ** 2).sum() / (4 * g.shape[-1] ** 2)
            for k, g in self.targets.items()
        )


def run_baseline(
    state, source: torch.Tensor, iters: int, seed: int, device: torch.device = CPU
) -> dict:
    """The authors' recipe for ``iters`` iterations; times from network construction on."""
    start = time.perf_counter()
    net = PlainVGG19(state).to(device)
    loss_fn = PlainLoss(net, source.to(device))
    c, h, w = source.shape
    lo, hi = source.reshape(c, -1).min(1).values, source.reshape(c, -1).max(1).values
    gen = torch.Generator().manual_seed(seed)
    x0 = lo.view(1, -1, 1, 1) + torch.rand(1, c, h, w, generator=gen) * (hi - lo).view(1, -1, 1, 1)
    evals = [0]
    eval_time = [0.0]

    def fun(v: np.ndarray):
        t = time.perf_counter()
        evals[0] += 1
        x = torch.from_numpy(v).float().view(1, c, h, w).to(device).requires_grad_(True)
        loss = loss_fn(x.expand(-1, 3, -1, -1) if c == 1 else x)
        (grad,) = torch.autograd.grad(loss, x)
        value, grad = float(loss), grad.double().cpu().numpy().ravel()  # both wait for a GPU
        eval_time[0] += time.perf_counter() - t
        return value, grad

    bounds = list(
        zip(lo.repeat_interleave(h * w).tolist(), hi.repeat_interleave(h * w).tolist(), strict=True)
    )
    res = scipy.optimize.minimize(
        fun,
        x0.double().numpy().ravel(),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"maxiter": iters, "maxcor": 20, "ftol": 0, "gtol": 0, "maxfun": 10 * iters},
    )
    wall = time.perf_counter() - start
    image = torch.from_numpy(res.x).float().view(c, h, w)
    return {
        "loss": float(res.fun),
        "iterations": int(res.nit),
        "evaluations": evals[0],
        "wall_s": wall,
        "s_per_eval": wall / evals[0],
        "s_per_eval_in_objective": eval_time[0] / evals[0],
        "image": image,
        "loss_fn": loss_fn,
    }


# ----------------------------------------------------------------- texsynth, judged ----
def run_texsynth(
    weights, source, target: float, loss_fn: PlainLoss, seed: int, device: torch.device = CPU
) -> dict:
    """texsynth's default preset; every full-size iterate is judged by the baseline's loss
    (the judging time is subtracted). Runs the preset to its end."""
    judged = {"time": 0.0, "reached": None, "reached_iteration": None, "reached_image": None}
    start = time.perf_counter()

    def judge(iteration: int, loss: float, image: torch.Tensor):
        # The callback sees every scale; only full-size iterates are judged.
        if judged["reached"] is not None or tuple(image.shape[-2:]) != tuple(source.shape[1:]):
            return None
        t = time.perf_counter()
        x = image.detach().float().clamp(0, 1)
        with torch.no_grad():
            value = float(loss_fn(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x))
        if value <= target:
            judged["reached"] = t - start - judged["time"]
            judged["reached_iteration"] = iteration
            judged["reached_image"] = x[0].cpu()
            judged["reached_loss"] = value
        judged["time"] += time.perf_counter() - t
        return None

    size = (source.shape[2], source.shape[1])
    result = synthesize(source, size, weights=weights, seed=seed, callback=judge, device=device)
    sync(device)
    wall = time.perf_counter() - start - judged["time"]
    coarse = [s.record() for s in result.scales[:-1]]
    # Full-size time per evaluation: the full-size scale's optimiser time less the judging.
    full_size_s = result.scales[-1].wall_time - judged["time"]
    with torch.no_grad():
        x = result.image[None].to(device)
        final = float(loss_fn(x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x))
    return judged | {
        "wall_s": wall,
        "final_loss": final,
        "result": result,
        "coarse": coarse,
        "full_size_s_per_eval": full_size_s / result.evaluations,
        "precision": result.model.precision,
        "scales": len(result.scales),
    }


# -------------------------------------------------------------------------- levers ----
def time_evaluations(fns: dict, repeats: int = 5) -> dict[str, float]:
    """Median seconds of each ``fn()``, the candidates interleaved round by round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for fn in fns.values():
        fn()  # warm-up: allocator, oneDNN kernel selection
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def levers(weights, source: torch.Tensor) -> list[tuple[str, float, str]]:
    model = TextureModel.from_weights(weights)
    c, h, w = source.shape
    target = model.statistics(source)
    loss32 = gram_loss(model, target)
    # bfloat16 models are channels-last; this lever's row is the NCHW layout of before.
    model16 = model.with_precision("bfloat16")
    model16.network.to(memory_format=torch.contiguous_format)
    loss16 = gram_loss(model16, model16.statistics(source))
    # The network never runs past the deepest requested layer, so "truncating" it saves
    # only the unused weights; what a deeper cut costs is shown by adding pool5.
    full = TextureModel.from_weights(weights, layers=[*LAYERS, "pool5"])
    full_loss = gram_loss(full, full.statistics(source))
    x = torch.rand(1, c, h, w, generator=torch.Generator().manual_seed(0))
    batch = torch.rand(4, c, h, w, generator=torch.Generator().manual_seed(1))

    def evaluation(m, loss, images, channels_last=False):
        def run():
            xi = images.clone().requires_grad_(True)
            inp = xi.contiguous(memory_format=torch.channels_last) if channels_last else xi
            value = loss(m.features(inp)).sum()
            torch.autograd.grad(value, xi)

        return run

    def channels_last(m):
        m.network.to(memory_format=torch.channels_last)
        return m

    candidates = {
        "float32 (reference)": evaluation(model, loss32, x),
        "float32, pool5 added to the layers": evaluation(full, full_loss, x),
        "bfloat16": evaluation(model16, loss16, x),
        "batch of 4 seeds, float32, per image": evaluation(model, loss32, batch),
    }
    times = time_evaluations(candidates)
    times["batch of 4 seeds, float32, per image"] /= 4
    # channels-last changes the network in place: measured after the others.
    cl32 = channels_last(TextureModel.from_weights(weights))
    cl16 = TextureModel.from_weights(weights).with_precision("bfloat16")  # channels-last
    times |= time_evaluations(
        {
            "float32 (reference, again)": evaluation(model, loss32, x),
            "float32, channels-last": evaluation(cl32, loss32, x, channels_last=True),
            "bfloat16, channels-last": evaluation(cl16, loss16, x, channels_last=True),
        }
    )
    threads = torch.get_num_threads()
    if threads > 1:
        torch.set_num_threads(1)
        times |= time_evaluations({"float32, 1 torch thread": evaluation(model, loss32, x)}, 3)
        torch.set_num_threads(threads)
    ref = times["float32 (reference)"]
    # What texsynth does with each lever (a fact), beside the measured ratio.
    notes = {
        "float32, pool5 added to the layers": "texsynth runs only to the deepest used layer",
        "bfloat16": "used, channels-last (below)",
        "batch of 4 seeds, float32, per image": "not used (one synthesis per call)",
        "float32, channels-last": "not used (the paper preset's output is pinned)",
        "bfloat16, channels-last": "used by the default preset where native",
        "float32, 1 torch thread": f"texsynth keeps torch's default ({threads})",
    }
    # Each lever is judged against the run it changes.
    against = {
        "float32, channels-last": "float32 (reference, again)",
        "bfloat16, channels-last": "bfloat16",
    }
    rows = []
    for name, t in times.items():
        if name.startswith("float32 (reference"):
            rows.append((name, t / ref, "", ""))
            continue
        base = against.get(name, "float32 (reference)")
        rows.append((name, t / ref, f"{verdict(t / times[base])} than {base}", notes[name]))
    return rows


def evaluation_floor(weights, source: torch.Tensor, device: torch.device = CPU) -> dict:
    """Seconds per evaluation of texsynth's default model and loss against the floor: the
    plain VGG-19 to pool4 under ``torch.autocast`` (bfloat16 where native), forward and
    backward of a trivial loss, interleaved in this process."""
    native = fast_bfloat16(device)
    model = TextureModel.from_weights(weights, device=device)
    if native:
        model = model.with_precision("bfloat16")
    loss = gram_loss(model, model.statistics(source.to(device)))
    plain = PlainVGG19(weights.state_dict).to(device)
    x = torch.rand(1, *source.shape, generator=torch.Generator().manual_seed(0)).to(device)

    def texsynth_evaluation():
        xi = x.clone().requires_grad_(True)
        torch.autograd.grad(loss(model.features(xi)).sum(), xi)
        sync(device)

    def floor():
        xi = x.clone().requires_grad_(True)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=native):
            maps = plain(xi)
        torch.autograd.grad(sum(m.float().sum() for m in maps.values()), xi)
        sync(device)

    return time_evaluations({"floor": floor, "texsynth": texsynth_evaluation}, repeats=7)


LOAD_WEIGHTS = "from texsynth import load_weights; load_weights()"


def start_up(device: torch.device = CPU, load: str = LOAD_WEIGHTS) -> float:
    """Wall seconds of a fresh process that imports texsynth and loads the weights with
    ``load`` (and, on a GPU, creates its context): what a ``texsynth synth`` run spends
    before it synthesises (median of 3)."""
    code = f"import texsynth.synthesis.run; {load}"
    if device.type == "cuda":
        code += "; import torch; torch.zeros(1, device='cuda')"
    times = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def verdict(ratio: float) -> str:
    return "faster" if ratio < 0.9 else "slower" if ratio > 1.1 else "no faster"


def scipy_overhead(weights, source: torch.Tensor, iters: int = 30) -> list[tuple[str, float]]:
    """Seconds per iteration of the baseline with SciPy's OpenBLAS threads as they are,
    and limited to one thread (they spin while torch computes)."""
    from threadpoolctl import threadpool_limits

    state = weights.state_dict
    out = []
    for label, limit in (
        ("SciPy L-BFGS-B, OpenBLAS threads as found", None),
        ("SciPy L-BFGS-B, OpenBLAS limited to 1 thread", 1),
    ):
        if limit is None:
            run = run_baseline(state, source, iters, seed=0)
        else:
            with threadpool_limits(limits=limit, user_api="blas"):
                run = run_baseline(state, source, iters, seed=0)
        out.append((label, run["wall_s"] / run["iterations"]))
    return out


# -------------------------------------------------------------------------- memory ----
MEMORY_SNIPPET = """
import sys, time
from texsynth import TextureModel, synthesize
from texsynth.image.io import load_image, resize_and_crop
size, preset = int(sys.argv[1]), sys.argv[2]
source = resize_and_crop(load_image("builtin:ihc").pixels, size)  # statistics at that size too
t = time.perf_counter()
r = synthesize(source, size, preset, iters=2, scales=1, progress=False)
wall = time.perf_counter() - t
estimate = TextureModel.from_weights().estimate_memory_bytes(size, size)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) parent across exec.
with open("/proc/self/status") as f:
    rss = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM"))
print(rss, wall, r.model.precision, estimate)
"""


def peak_memory(size: int, preset: str) -> tuple[float, float, str, float]:
    out = subprocess.run(
        [sys.executable, "-c", MEMORY_SNIPPET, str(size), preset],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return int(out[0]) / 2**30, float(out[1]), out[2], int(out[3]) / 2**30


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), native bfloat16: "
        f"{'yes' if fast_bfloat16('cpu') else 'no'}; {gpu}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="builtin:ihc")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iters", type=int, default=200, help="baseline iterations")
    parser.add_argument("--long", action="store_true", help="500 baseline iterations")
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--memory-sizes", default="256,512,1024")
    parser.add_argument("--skip-levers", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--device", default="cpu", help="cpu or cuda: where both recipes run")
    parser.add_argument("--gpu-sizes", default="256,512,1024", help="output sizes for GPU rates")
    args = parser.parse_args()
    iters = 500 if args.long else args.iters
    device = torch.device(args.device)
    on_gpu = device.type == "cuda"
    t_all = time.perf_counter()
    weights = load_weights()
    source = resize_and_crop(load_image(args.source).pixels, args.size)
    print(f"machine: {machine()}")
    print(
        f"source {args.source}, {args.size}x{args.size}; baseline: {iters} iterations\n", flush=True
    )
    # Warm-up, untimed: first calls pick oneDNN kernels and grow the allocator.
    run_baseline(weights.state_dict, source, 2, args.seed, device)
    synthesize(source, args.size, weights=weights, iters=2, scales=1, device=device)

    floor = evaluation_floor(weights, source, device)
    print(
        f"EVAL one loss evaluation (features, Gram loss, backward) at {args.size}²: texsynth "
        f"{floor['texsynth']:.3f} s, plain VGG-19 under autocast {floor['floor']:.3f} s -> "
        f"{floor['texsynth'] / floor['floor']:.2f}x the floor (target <= 1.1x)",
        flush=True,
    )
    startup = start_up(device)
    print(f"start-up (fresh process: imports and weights) {startup:.2f} s\n", flush=True)

    ratios, runs = [], []
    for rep in range(args.repeats):
        base = run_baseline(weights.state_dict, source, iters, args.seed, device)
        ours = run_texsynth(weights, source, base["loss"], base["loss_fn"], args.seed, device)
        # The whole process: texsynth's start-up is added to its time (not to the baseline's).
        reached = ours["reached"] + startup if ours["reached"] is not None else None
        ratio = reached / base["wall_s"] if reached is not None else float("nan")
        ratios.append(ratio)
        runs.append((base, ours))
        coarse = "".join(f"{c['size'][0]}px {c['iterations']} it + " for c in ours["coarse"])
        print(
            f"run {rep + 1}: baseline {base['iterations']} it in {base['wall_s']:.1f} s "
            f"({base['evaluations']} evaluations, {base['s_per_eval']:.3f} s each), "
            f"loss {base['loss']:.4g}\n"
            f"       texsynth default ({ours['precision']}, {ours['scales']} scales: {coarse}"
            f"full size): reached it at full-size iteration {ours['reached_iteration']} "
            f"after {reached if reached is not None else float('nan'):.1f} s -> {ratio:.3f}x "
            f"the time; whole preset {ours['wall_s']:.1f} s, final loss "
            f"{ours['final_loss']:.4g}",
            flush=True,
        )
    base, ours = runs[-1]
    ratio = statistics.median(ratios)
    fine_eval = ours["full_size_s_per_eval"]

    print("\nquality (texsynth.evaluation.metrics.evaluate against the source; lower is better):")
    judge = TextureModel.from_weights(weights)
    images = {
        "baseline": base["image"],
        "texsynth at the baseline's loss": ours["reached_image"],
        "texsynth, whole default preset": ours["result"].image,
    }
    quality = {}
    for name, image in images.items():
        if image is None:
            continue
        metrics = evaluate(source, image.cpu(), judge)
        quality[name] = {k: metrics[k] for k in ("gram", "swd", "color", "spectrum")}
        print(f"  {name:<34}" + "  ".join(f"{k} {v:.4f}" for k, v in quality[name].items()))

    lever_rows, overhead = [], []
    if not args.skip_levers and not on_gpu:  # the levers are CPU settings
        print("\nlevers: seconds per loss evaluation relative to float32 (lower is faster)")
        lever_rows = levers(weights, source)
        for name, rel, judged, note in lever_rows:
            print(f"  {name:<44}{rel:6.2f}x  {judged:<42}{note}")
        overhead = scipy_overhead(weights, source)
        print("  per iteration, with the optimiser's own work:")
        for name, seconds in overhead:
            print(f"  {name:<52}{seconds:.3f} s")
        print(f"  {'texsynth TorchLBFGS (default preset, full size)':<52}{fine_eval:.3f} s")

    memory = []
    if not on_gpu:  # peak RSS is the CPU's memory
        print("\npeak memory (fresh process, 2 iterations, one scale):")
    for size in (int(s) for s in args.memory_sizes.split(",") if s and not on_gpu):
        for preset in ("paper", "default"):
            gib, wall, precision, estimate = peak_memory(size, preset)
            memory.append((size, preset, precision, gib, wall))
            print(
                f"  {size:>5}px  {preset:<8}{precision:<9} peak RSS {gib:5.2f} GiB  "
                f"({wall:.1f} s; texsynth's float32 estimate {estimate:.2f} GiB)",
                flush=True,
            )

    gpu = []
    if torch.cuda.is_available():
        print(f"\nGPU, output size from the {args.size}-px source:")
        gpu = gpu_rates(weights, source, [int(s) for s in args.gpu_sizes.split(",") if s])
        for row in gpu:
            print(
                f"  {row['size']:>5}px  float32 {row['float32_it_per_s']:6.1f} it/s  bfloat16 "
                f"{row['bfloat16_it_per_s']:6.1f} it/s  default preset {row['default_s']:6.1f} s "
                f"(iterations per scale {row['default_iterations']}; peak "
                f"{row.get('peak_gib', float('nan')):.2f} GiB allocated)",
                flush=True,
            )

    total = time.perf_counter() - t_all
    print(f"\nbenchmark took {total / 60:.1f} min")
    print(
        f"RATIO texsynth default preset reached the baseline's {iters}-iteration loss "
        f"({base['loss']:.4g}) at {args.size}x{args.size} in {ratio:.3f}x the baseline's time "
        f"({1 / ratio:.2f}x faster; median of {len(ratios)}; start-up included; "
        f"target <= 0.10x)"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "device": str(device),
                    "source": args.source,
                    "size": args.size,
                    "iters": iters,
                    "evaluation": floor,
                    "start_up_s": startup,
                    "ratios": ratios,
                    "ratio": ratio,
                    "runs": [
                        {
                            "baseline_s": b["wall_s"],
                            "baseline_loss": b["loss"],
                            "texsynth_reached_s": o["reached"],
                            "texsynth_whole_s": o["wall_s"],
                            "texsynth_final_loss": o["final_loss"],
                        }
                        for b, o in runs
                    ],
                    "quality": quality,
                    "levers": lever_rows,
                    "scipy_overhead": overhead,
                    "memory": memory,
                    "gpu": gpu,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
