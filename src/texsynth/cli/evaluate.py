"""``texsynth evaluate``: quality metrics of syntheses against their source."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .options import device_option, overwrite_option, recipe_option, trust_option, weights_option


@click.command()
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
@recipe_option("layers")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the results as JSON to this file.",
)
@device_option
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
    spectrum of the luminance; ps: the Portilla–Simoncelli statistics' distance (plenoptic,
    not VGG: an independent judge), relative to white noise's; lattice: how much of the
    source's periodic lattice is kept (1 all, 0 none, - when the source has none); copy: the
    fraction of the synthesis that is a near-verbatim copy of the source (0: none).
    """
    from ..core.devices import resolve_device
    from ..core.files import check_new, write_text
    from ..core.registry import DEFAULT_LAYERS
    from ..evaluation.metrics import METRICS
    from ..evaluation.metrics import evaluate as evaluate_images
    from ..image.io import load_image
    from ..statistics.model import TextureModel

    if json_path is not None:
        check_new(json_path, overwrite)
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
    click.echo(f"{'image':<40}" + "".join(f" {m:>8}" for m in METRICS))
    for r in results:
        cells = "".join(" " + ("-" if r[m] is None else f"{r[m]:.4f}").rjust(8) for m in METRICS)
        click.echo(f"{str(r['synth'])[-40:]:<40}{cells}")
    if all(r["lattice"] is None for r in results):
        click.echo("lattice: -, the source has no lattice (no clear autocorrelation peaks)")
    if json_path is not None:
        record = {
            "source": source,
            "layers": model.layers,
            "swd_directions": directions,
            "seed": seed,
            "results": results,
        }
        write_text(json.dumps(record, indent=2) + "\n", json_path, overwrite)
