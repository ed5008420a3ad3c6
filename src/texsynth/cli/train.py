"""``texsynth train``: train a feed-forward generator of one texture, once, so that
``texsynth sample`` can make any number of new samples of it in milliseconds each."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from ..core.errors import OutputError
from ..core.training import Training
from .options import (
    declared_options,
    device_option,
    output_option,
    overwrite_option,
    preset_option,
    quiet_option,
    recipe_options,
    trust_option,
    weights_option,
)

SUFFIX = ".gen"
# Recipe fields of an optimisation over pixels, which training does not have (the scales,
# the iterations and the stop rules) or refuses (what acts after the optimiser).
TRAINING_SKIPS = (
    "start", "tileable", "scales", "iters", "coarse_iters", "iters_side", "optimizer",
    "stop_change", "tol", "hist_match", "preserve_colors",
)  # fmt: skip


@click.command()
@click.argument("source")
@output_option("Generator file (.gen): the weights, the recipe and the source.")
@declared_options(Training, "training_fields")
@click.option(
    "--resume", is_flag=True, help="Go on training the generator in OUTPUT (after Ctrl-C or "
    "a spent --minutes; give a larger --minutes or --steps to train longer)."
)  # fmt: skip
@preset_option
@recipe_options(skip=TRAINING_SKIPS)
@device_option
@weights_option
@trust_option
@overwrite_option
@quiet_option("progress bar or summary")
def train(
    source: str,
    output: Path,
    training_fields: dict[str, Any],
    resume: bool,
    preset: str | None,
    recipe_fields: dict[str, Any],
    device: str,
    weights_path: Path | None,
    trust_weights: bool,
    overwrite: bool,
    quiet: bool,
) -> None:
    """Train a generator of SOURCE's texture with the recipe's texture loss (Gram or tiled
    Gram, SWD, and the structure terms when the source has a lattice). Ctrl-C stops it and
    keeps a checkpoint in OUTPUT; --resume goes on from there."""
    from ..synthesis.train import train_generator

    if output.suffix.lower() != SUFFIX:
        raise OutputError(f"a generator file ends in {SUFFIX}, not {output.suffix or 'nothing'}")
    try:
        generator = train_generator(
            source, preset or "default", output=output, resume=resume, overwrite=overwrite,
            device=device, weights=weights_path, verify_weights=not trust_weights,
            progress=not quiet, **recipe_fields, **training_fields,
        )  # fmt: skip
    except KeyboardInterrupt:
        if output.exists():
            click.echo(
                f"texsynth: stopped; {output} holds the training so far (add --resume to go on)",
                err=True,
            )
            sys.exit(130)
        raise
    if not quiet:
        done = generator.training
        losses = done["losses"] or [float("nan")]
        click.echo(
            f"wrote {output}: {done['step']} steps in {done['seconds'] / 60:.1f} min, loss "
            f"{losses[0]:.4g} -> {losses[-1]:.4g}",
            err=True,
        )
