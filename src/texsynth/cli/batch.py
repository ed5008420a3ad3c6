"""``texsynth batch``: every job of a manifest, resumable, here or on a Dask cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.errors import OutputError
from ..core.registry import ENGINES
from .options import (
    device_option,
    force_option,
    overwrite_option,
    preset_option,
    quiet_option,
    recipe_options,
    weights_option,
)

EXIT_ERROR = 1


@click.command()
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Output folder: images/ID.png + ID.json per job, index.csv and index.html.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default=None,
    help="local: this process, or a process pool with --workers N (default); dask: the "
    "cluster at --scheduler; dask-local: a Dask LocalCluster of --workers processes.",
)
@click.option(
    "--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes."
)
@click.option("--scheduler", default=None, help="Dask scheduler address (implies --engine dask).")
@preset_option
@recipe_options()
@device_option
@weights_option
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Write OUTPUT/index.html, a gallery of every job (texsynth report).",
)
@overwrite_option
@force_option
@quiet_option()
def batch(
    manifest: Path,
    output: Path,
    engine: str | None,
    workers: int,
    scheduler: str | None,
    preset: str | None,
    recipe_fields: dict[str, Any],
    device: str,
    weights_path: Path | None,
    report: bool,
    overwrite: bool,
    force: bool,
    quiet: bool,
) -> int:
    """Run every job of MANIFEST (CSV, or YAML with a grid and/or a job list) into OUTPUT.

    A preset or recipe option given here overrides that field in every job (its id changes
    with it). Re-running skips jobs already done (sidecar and image present and matching)
    and redoes interrupted ones. Failed jobs are reported at the end and do not stop the
    others.
    """
    from ..batch import override_jobs, read_manifest, run_batch, summary_lines

    if scheduler and engine not in (None, "dask"):
        raise click.BadParameter("--scheduler needs --engine dask", param_hint="--scheduler")
    engine = engine or ("dask" if scheduler else "local")
    if engine == "dask" and not scheduler:
        raise click.BadParameter("--engine dask needs --scheduler ADDRESS", param_hint="--engine")
    if output.exists() and not output.is_dir():
        raise OutputError(f"output path is not a folder: {output}")
    if not output.parent.is_dir():
        raise OutputError(f"output folder's parent does not exist: {output.parent}")
    jobs = override_jobs(read_manifest(manifest), preset, recipe_fields)
    summary = run_batch(
        jobs,
        output,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        weights_path=weights_path,
        device=device,
        progress=not quiet,
        report=report,
        overwrite=overwrite,
        force=force,
    )
    for line in summary_lines(summary, len(jobs)):
        click.echo(line, err=True)
    return 0 if summary.ok else EXIT_ERROR
