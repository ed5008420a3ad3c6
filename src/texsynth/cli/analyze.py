"""``texsynth analyze``: a source's statistics, saved to share without the image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.errors import OutputError
from .options import (
    device_option,
    force_option,
    output_option,
    overwrite_option,
    recipe_option,
    trust_option,
    weights_option,
)


@click.command()
@click.argument("source")
@output_option("Statistics file to write (.pt).")
@recipe_option("network")
@recipe_option("layers")
@recipe_option("pool")
@device_option
@weights_option
@trust_option
@overwrite_option
@force_option
def analyze(
    source: str,
    output: Path,
    device: str,
    weights_path: Path | None,
    trust_weights: bool,
    overwrite: bool,
    force: bool,
    **model_fields: Any,
) -> None:
    """Compute SOURCE's Gram statistics once and save them (shareable without the image)."""
    from ..core.devices import check_memory, resolve_device
    from ..core.files import check_new
    from ..core.recipe import make_recipe
    from ..core.registry import NETWORKS
    from ..image.io import load_image

    if output.suffix not in (".pt", ".pth", ".texstats"):
        raise OutputError(
            f"statistics files end in .pt, .pth or .texstats, not {output.suffix or 'nothing'}"
        )
    check_new(output, overwrite)
    image = load_image(source)
    recipe = make_recipe("default", **model_fields)
    build = NETWORKS[recipe.network]
    dev = resolve_device(device)
    model = build(recipe.layers, None, recipe.pool, weights_path, dev, not trust_weights)
    need = model.estimate_analysis_bytes(image.width, image.height)
    check_memory(need, image.width, image.height, dev, force, f"analysis of {source}")
    stats = model.statistics(image)
    output = stats.save(output, overwrite)
    click.echo(
        f"wrote {output}: {len(stats.layers)} layers, {stats.parameter_count:,} parameters",
        err=True,
    )
