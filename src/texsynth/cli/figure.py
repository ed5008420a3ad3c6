"""``texsynth figure NAME``: the paper's experiments.

Its options are the declared fields of :class:`~texsynth.experiments.Settings` (help,
parsers and the figures each applies to come from there), plus the shared ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.options import declared, flag_of
from ..experiments.settings import Settings
from .options import (
    declared_options,
    device_option,
    overwrite_option,
    quiet_option,
    weights_option,
)


def _applies_to(name: str) -> str:
    scope = dict(declared(Settings))[name].scope
    return f"  [figure {', '.join(scope)}]" if scope else ""


@click.command()
@click.argument("name")
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("figures"),
    show_default=True,
    help="Folder for the figure folders (created if its parent exists).",
)
@click.option("--paper", is_flag=True, help="The paper's settings: 256 px, 1000 iterations.")
@declared_options(Settings, "settings_fields", suffix=_applies_to)
@device_option
@weights_option
@quiet_option()
@overwrite_option
def figure(
    name: str,
    out: Path,
    paper: bool,
    settings_fields: dict[str, Any],
    device: str,
    weights_path: Path | None,
    quiet: bool,
    overwrite: bool,
) -> None:
    """Reproduce one of the paper's experiments: NAME is layers (Fig. 2), parameters (Fig. 3A),
    networks (Fig. 3B/C), readout (Fig. 4), or all (every figure and an index.html).

    Each writes OUT/NAME/ with the figure (PNG, PDF), its numbers (CSV, JSON) and every
    synthesis (images/). The defaults are small enough for a laptop CPU; --paper uses the
    paper's 256 px and 1000 iterations.
    """
    from ..core.devices import resolve_device
    from ..experiments import PAPER_ITERS, PAPER_SIZE, resolve_name, run_all, run_experiment

    key = "all" if name == "all" else resolve_name(name)
    specs = dict(declared(Settings))
    for field in settings_fields:
        scope = specs[field].scope
        if scope and key not in ("all", *scope):
            flag = flag_of(field, specs[field])
            raise click.UsageError(f"{flag} applies to figure {scope[0]}, not {key}")
    device = str(resolve_device(device))  # "auto" chosen once, for every synthesis
    given = dict(settings_fields)
    if paper:
        given.setdefault("size", PAPER_SIZE)
        given.setdefault("iters", PAPER_ITERS)
    if ("sources" in given or "non_textures" in given) and "sources" not in given:
        given["sources"] = ()  # only the non-textures given
    if "data" in given and "per_class" not in given:
        given["per_class"] = 0  # every image of the folder
    settings = Settings(
        **given,
        device=device,
        progress=not quiet,
        weights=str(weights_path) if weights_path else None,
    )
    if key == "all":
        records = run_all(settings, out, overwrite)
        click.echo(f"wrote {out / 'index.html'} and {len(records)} figures", err=True)
    else:
        record = run_experiment(key, settings, out, overwrite)
        files = ", ".join(record.files.values())
        click.echo(f"wrote {record.folder}/ ({files}, images/)", err=True)
