"""``texsynth sample``: new samples of a trained generator, each written with its sidecar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.recipe import MAX_SEED
from .options import device_option, overwrite_option, quiet_option, recipe_option, task_options


@click.command()
@click.argument("generator", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o", "--output", required=True, type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the samples (NAME_seedS.png with NAME_seedS.json); made if need be.",
)  # fmt: skip
@click.option("--n", "count", type=click.IntRange(1, 1_000_000), default=1, show_default=True,
              help="How many samples: seeds SEED, SEED+1, …")  # fmt: skip
@task_options(skip=("sources", "guide", "mix"))
@recipe_option("tileable")
@device_option
@overwrite_option
@quiet_option("summary")
def sample(
    generator: Path,
    output: Path,
    count: int,
    task_fields: dict[str, Any],
    tileable: bool | None,
    device: str,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Write new samples of GENERATOR (a .gen file of texsynth train). The generator is fully
    convolutional: one file serves any --size. The same seed gives the same image."""
    from ..core.devices import resolve_device
    from ..core.errors import SizeError
    from ..core.files import make_folder, write_files
    from ..image.io import image_and_sidecar
    from ..synthesis.samples import generator_samples

    seed = task_fields.get("seed", 0)
    if seed + count - 1 > MAX_SEED:
        raise SizeError(f"seeds {seed} … {seed + count - 1} pass the largest seed, {MAX_SEED}")
    _check_output(output, generator.stem, seed, count, overwrite)
    samples = generator_samples(
        generator, count, task_fields.get("size"), seed, bool(tileable), resolve_device(device)
    )
    seconds, shape = 0.0, None
    names = (output / f"{generator.stem}_seed{seed + i}.png" for i in range(count))
    for name, made in zip(names, samples, strict=True):  # each written as soon as it is made
        if shape is None:  # the folder is made once the first sample is (a bad one: no folder)
            make_folder(output)
        write_files(image_and_sidecar(made.image, made.record(), name), overwrite)
        seconds, shape = seconds + made.wall_time, made.image.shape
    if not quiet and shape is not None:
        click.echo(
            f"wrote {count} sample{'s' * (count > 1)} to {output} ({shape[2]}x{shape[1]}, "
            f"{1000 * seconds / count:.0f} ms each)",
            err=True,
        )


def _check_output(output: Path, stem: str, seed: int, count: int, overwrite: bool) -> None:
    """Refuse before any work what would be refused at the end: an output that is not a
    folder or cannot be made or written, and (without ``overwrite``) any sample or sidecar
    name it already holds. The folder is listed once, whatever ``count`` is."""
    import os
    import re

    from ..core.errors import OutputError
    from ..core.files import check_output_folder

    check_output_folder(output)
    if not output.is_dir():
        return
    ours = re.compile(re.escape(stem) + r"_seed(\d+)\.(png|json)")
    for entry in os.scandir(output):
        found = ours.fullmatch(entry.name)
        if not found or not seed <= int(found[1]) < seed + count:
            continue
        if entry.is_dir():
            raise OutputError(f"cannot write {output / entry.name}: it is a folder")
        if not overwrite:
            raise OutputError(
                f"output file exists: {output / entry.name} (pass --overwrite to replace it)"
            )
