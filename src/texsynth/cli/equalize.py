"""``texsynth equalize``: a folder of images equalised as the SHINE toolbox does, written to
a new folder with a CSV of each image's statistics before and after, a plot of them, and a
sidecar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..core.stimuli import Equalization
from .options import declared_options, overwrite_option, quiet_option

CSV_NAME, PLOT_NAME, SIDECAR_NAME = "equalize.csv", "equalize.png", "equalize.json"


@click.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
    help=f"New folder for the images (as PNG, by name), {CSV_NAME}, {PLOT_NAME} and "
    f"{SIDECAR_NAME}.",
)  # fmt: skip
@declared_options(Equalization, "settings")
@overwrite_option
@quiet_option("summary")
def equalize(folder: Path, output: Path, settings: dict[str, Any], overwrite: bool,
             quiet: bool) -> None:  # fmt: skip
    """Equalise the images in FOLDER across the set, on their luminance (colour is kept):
    --luminance (mean and RMS contrast), --histogram (exact specification of the average
    histogram), --spectrum (the average amplitude spectrum); --histogram --spectrum
    alternates the two as SHINE does."""
    import tempfile

    from ..core.errors import OutputError, TexsynthError
    from ..core.files import folder_of, place_folder, remove_stale_temporaries
    from ..image.io import list_images, save_image
    from ..stimuli.equalize import equalize_set, plot

    if not folder.is_dir():
        raise TexsynthError(f"no such folder: {folder}")
    if output.exists() and not overwrite and not (output.is_dir() and not any(output.iterdir())):
        raise OutputError(f"output folder exists: {output} (pass --overwrite to replace it)")
    paths = list_images(folder)
    result = equalize_set(paths, Equalization(**settings))
    parent = folder_of(output.resolve())
    parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=parent, prefix=f".{output.name}.") as scratch:
        staged = Path(scratch) / "out"
        staged.mkdir()
        for name, image in zip(result.names, result.images, strict=True):
            save_image(image, staged / f"{Path(name).stem}.png")
        (staged / CSV_NAME).write_text(result.csv_text())
        (staged / PLOT_NAME).write_bytes(plot(result))
        (staged / SIDECAR_NAME).write_text(json.dumps(result.record(), indent=2) + "\n")
        placed = place_folder(staged, output, overwrite)
    remove_stale_temporaries(parent)
    if not quiet:
        facts = result.record()["facts"]
        click.echo(
            f"wrote {len(paths)} images to {placed}: mean luminance spread "
            f"{100 * facts['mean_spread_before']:.1f}% -> {100 * facts['mean_spread_after']:.2f}%, "
            f"contrast {100 * facts['contrast_spread_before']:.1f}% -> "
            f"{100 * facts['contrast_spread_after']:.2f}%, SSIM to the originals "
            f"{facts['ssim_min']:.3f}-{max(result.ssim):.3f} ({CSV_NAME}, {PLOT_NAME})",
            err=True,
        )
