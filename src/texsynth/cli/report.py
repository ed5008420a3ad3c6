"""``texsynth report``: one HTML page for a batch, a folder of syntheses or the figures."""

from __future__ import annotations

from pathlib import Path

import click

from .options import overwrite_option, quiet_option


@click.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option(
    "--metrics",
    is_flag=True,
    help="Score each synthesis against its first source (texsynth evaluate's metrics: gram, "
    "swd, color, spectrum, ps, lattice, copy); cached in FOLDER/thumbs/ for the next report.",
)
@click.option("--title", default=None, help="The page's title (default: the kind and folder).")
@overwrite_option
@quiet_option()
def report(folder: Path, metrics: bool, title: str | None, overwrite: bool, quiet: bool) -> None:
    """Write FOLDER/index.html: a gallery of the batch, syntheses or figures in FOLDER.

    Each card shows the synthesis beside its source, the recipe fields that differ from its
    preset, its status or failure, and its loss curve. Cards filter by source, seed, preset
    and status, and sort by any number on them. The page is self-contained (opens from
    file:// or any web server); thumbnails are cached in FOLDER/thumbs/. A page that
    texsynth wrote is replaced; any other index.html only with --overwrite.
    """
    from ..report import write_report

    written = write_report(
        folder, metrics=metrics, overwrite=overwrite, title=title, progress=not quiet
    )
    click.echo(written.summary(), err=True)
