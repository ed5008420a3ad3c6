"""``texsynth equalize``: a folder of images equalised as the SHINE toolbox does, written to
a new folder with a CSV of each image's statistics before and after, a plot of them, and a
sidecar."""

from __future__ import annotations

import contextlib
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
    from ..core.errors import TexsynthError
    from ..core.files import make_folder, text_writer, write_files
    from ..image.io import image_writer, list_images
    from ..stimuli.equalize import equalize_set, plot

    if not folder.is_dir():
        raise TexsynthError(f"no such folder: {folder}")
    if "iterations" in settings and not (settings.get("histogram") and settings.get("spectrum")):
        raise click.UsageError("--iterations applies to --histogram with --spectrum; drop it")
    paths = list_images(folder)
    names = [f"{Path(p).stem}.png" for p in paths] + [CSV_NAME, PLOT_NAME, SIDECAR_NAME]
    _check_output(folder, output, names, overwrite)
    result = equalize_set(paths, Equalization(**settings))
    files = [(output / name, image_writer(image, output / name))
             for name, image in zip(names, result.images, strict=False)]  # fmt: skip
    files += [
        (output / CSV_NAME, text_writer(result.csv_text())),
        (output / PLOT_NAME, lambda tmp: tmp.write_bytes(plot(result))),
        (output / SIDECAR_NAME, text_writer(json.dumps(result.record(), indent=2) + "\n")),
    ]
    made = make_folder(output)
    try:
        write_files(files, overwrite)
    except BaseException:
        if made:
            with contextlib.suppress(OSError):
                output.rmdir()
        raise
    if not quiet:
        facts = result.record()["facts"]
        click.echo(
            f"wrote {len(paths)} images to {output}: mean luminance spread "
            f"{100 * facts['mean_spread_before']:.1f}% -> {100 * facts['mean_spread_after']:.2f}%, "
            f"contrast {100 * facts['contrast_spread_before']:.1f}% -> "
            f"{100 * facts['contrast_spread_after']:.2f}%, SSIM to the originals "
            f"{facts['ssim_min']:.3f}-{max(result.ssim):.3f} ({CSV_NAME}, {PLOT_NAME})",
            err=True,
        )


def _check_output(folder: Path, output: Path, names: list[str], overwrite: bool) -> None:
    """Refuse, before any work, an output folder that is the input folder, that holds
    anything but texsynth's outputs unasked, or that cannot be made or written."""
    from ..core.errors import OutputError
    from ..core.files import check_output_folder

    if output.resolve() == folder.resolve():
        raise OutputError(f"{output} is the input folder; equalised images go to a new folder")
    check_output_folder(output)
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise OutputError(
            f"output folder exists: {output} (pass --overwrite to replace the files texsynth "
            "writes there; nothing else in it is touched)"
        )
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise OutputError(f"two images would both be written as {twice[0]} in {output}")
    for name in names:
        if (output / name).is_dir():
            raise OutputError(f"cannot write {output / name}: it is a folder")
