"""``texsynth info``: versions, devices, and whether the weights are found and intact."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .. import __version__
from ..core.errors import TexsynthError
from .options import weights_option


@click.command()
@weights_option
def info(weights_path: Path | None) -> None:
    """Show versions, devices, and whether the weights are found and intact."""
    import torch

    from ..core.registry import DEFAULT_LAYERS
    from ..features.network import fast_bfloat16
    from ..features.weights import DEFAULT_WEIGHTS_SHA256, cache_dir, find_weights, sha256_file
    from ..statistics.model import parameter_count

    click.echo(
        f"texsynth {__version__}, torch {torch.__version__}, python {sys.version.split()[0]}"
    )
    cuda = torch.cuda.is_available()
    gpus = (
        ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        if cuda
        else "none"
    )
    click.echo(f"devices: cpu ({torch.get_num_threads()} threads); cuda: {gpus}")
    native = [d for d in ("cpu", "cuda") if (d == "cpu" or cuda) and fast_bfloat16(d)]
    click.echo("native bfloat16 (used by the default preset): " + (", ".join(native) or "none"))
    try:
        path = find_weights(weights_path)
    except TexsynthError as exc:
        click.echo(f"weights: missing: {exc}")
    else:
        digest = sha256_file(path)
        verdict = (
            "OK (normalised VGG-19)"
            if digest == DEFAULT_WEIGHTS_SHA256
            else "unknown hash (not the normalised VGG-19)"
        )
        click.echo(f"weights: {path}\n  sha256 {digest}: {verdict}")
    click.echo(f"cache: {cache_dir()}")
    click.echo(
        f"default model: {', '.join(DEFAULT_LAYERS)}: "
        f"{parameter_count(DEFAULT_LAYERS):,} parameters"
    )
