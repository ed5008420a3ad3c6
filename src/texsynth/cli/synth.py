"""``texsynth synth``: one synthesis, written with its JSON sidecar; or a sidecar replayed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.errors import TexsynthError
from ..core.recipe import Task, depth_bits
from .options import (
    device_option,
    force_option,
    output_option,
    overwrite_option,
    preset_option,
    quiet_option,
    recipe_options,
    replay_option,
    series_option,
    task_options,
    trust_option,
    weights_option,
)
from .runs import (
    check_image_extension,
    check_map_outputs,
    check_replay_inputs,
    recorded_run,
    write_run,
)


@click.command()
@click.argument("sources", nargs=-1)
@output_option("Output image (PNG); its sidecar OUTPUT.json is written beside it.")
@replay_option(
    "Replay a sidecar (OUT.json) or a recipe file: its recipe, and its sources, size, "
    "seed and guide unless given here. Recipe options given here override it."
)
@task_options(skip=("sources", "mix"))
@series_option(Task, "mix", " Outputs of a series are named OUTPUT_mixT.png.")
@preset_option
@recipe_options()
@device_option
@weights_option
@trust_option
@click.option(
    "--snapshot-every",
    type=click.IntRange(min=0),
    default=0,
    help="Save the image every K iterations.",
)
@click.option(
    "--snapshot-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for snapshots (default: OUTPUT's name + _snapshots).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --recipe: refuse to replay when a recorded source file has changed since "
    "(else a warning says the replay will differ).",
)
@overwrite_option
@force_option
@quiet_option("progress bar or summary")
def synth(
    sources: tuple[str, ...],
    output: Path,
    recipe_file: Path | None,
    preset: str | None,
    recipe_fields: dict[str, Any],
    task_fields: dict[str, Any],
    mix: tuple[float, ...] | None,
    device: str,
    weights_path: Path | None,
    trust_weights: bool,
    snapshot_every: int,
    snapshot_dir: Path | None,
    strict: bool,
    overwrite: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Synthesise a texture like SOURCES (images, builtin:NAME, or statistics files).

    Several sources are examples of one texture (their statistics are pooled), or, with
    --guide, one texture per region of the label map, or, with --mix T, a morph between two
    sources' textures. Every recipe option defaults to the preset's value.
    """
    from ..core.files import check_not_inputs

    check_image_extension(output)
    if snapshot_dir is not None and not snapshot_every:
        raise click.UsageError("--snapshot-dir needs --snapshot-every K (else no snapshot is made)")
    if strict and recipe_file is None:
        raise click.UsageError("--strict applies to a replay; give --recipe OUT.json or drop it")
    base, task = _replayed(recipe_file, preset, sources, task_fields, strict)
    runs = _series(output, mix if mix is not None else (task.get("mix"),), overwrite)
    sources = task.get("sources", ())
    inputs = [*sources, *task.get("maps", ()), task.get("guide"), recipe_file]
    one = sources[0] if len(sources) == 1 else None  # whose depth and alpha the output keeps
    maps = [path for run in runs for path in check_map_outputs(run[0], task, overwrite, one)]
    check_not_inputs([*(path for run in runs for path in run[:2]), *maps], inputs)
    for run_output, meta_path, value in runs:
        snapshots = snapshot_dir
        if snapshot_every and snapshots is None:
            snapshots = run_output.with_name(run_output.stem + "_snapshots")
        _one_synthesis(
            base, task | {"mix": value}, recipe_fields, run_output, meta_path,
            dict(device=device, weights=weights_path, verify_weights=not trust_weights,
                 snapshot_every=snapshot_every, snapshot_dir=snapshots, progress=not quiet,
                 force=force, overwrite=overwrite),
        )  # fmt: skip


def _series(
    output: Path, values: tuple[float | None, ...], overwrite: bool
) -> list[tuple[Path, Path, float | None]]:
    """(output, sidecar, mix) of each run; every file checked before the first run."""
    from ..core.files import check_new, sidecar_path

    if len(values) == 1:
        outputs = [output]
    else:
        outputs = [output.with_name(f"{output.stem}_mix{v:g}{output.suffix}") for v in values]
    if len(set(outputs)) < len(outputs):
        raise click.BadParameter("a --mix value is given twice", param_hint="--mix")
    checked = [(check_new(o, overwrite), check_new(sidecar_path(o), overwrite)) for o in outputs]
    return [(o, m, v) for (o, m), v in zip(checked, values, strict=True)]


def _one_synthesis(
    base: Any,
    task: dict[str, Any],
    recipe_fields: dict[str, Any],
    output: Path,
    meta_path: Path,
    settings: dict[str, Any],
) -> None:
    from ..synthesis.run import synthesize

    result = synthesize(
        list(task["sources"]),
        task.get("size"),
        base,
        **recipe_fields,
        seed=task.get("seed", 0),
        guide=task.get("guide"),
        mix=task.get("mix"),
        maps=tuple(task.get("maps", ())),
        depth=depth_bits(task.get("depth", "auto")),
        **settings,
    )
    write_run(result, output, settings["overwrite"])
    if settings["progress"]:
        click.echo(_summary(result, output, meta_path), err=True)


def _replayed(
    recipe_file: Path | None,
    preset: str | None,
    sources: tuple[str, ...],
    given: dict[str, Any],
    strict: bool = False,
) -> tuple[Any, dict[str, Any]]:
    """The base recipe and the task: a replayed sidecar's, with what the command line gives."""
    if recipe_file is None:
        if not sources:
            raise click.UsageError("give SOURCES, or --recipe OUT.json to replay a run")
        return preset or "default", {"sources": sources} | given
    run = recorded_run(recipe_file, preset)
    recorded = {k: v for k, v in run.task.as_dict().items() if v not in (None, [])}
    task = recorded | ({"sources": sources} if sources else {}) | given
    in_memory = [s for s in task.get("sources", ()) if s.startswith("<")]
    if not task.get("sources") or in_memory:
        raise TexsynthError(
            f"{recipe_file} records no source file to replay ({', '.join(in_memory) or 'none'}); "
            "give SOURCES"
        )
    if str(task.get("guide", "")).startswith("<"):
        raise TexsynthError(f"{recipe_file} records an in-memory guide; give --guide")
    check_replay_inputs(
        recipe_file, run.inputs, [*task["sources"], task.get("guide") or ""], strict
    )
    return run.recipe, task


def _summary(result: Any, output: Path, meta_path: Path) -> str:
    drop = result.initial_loss / result.final_loss if result.final_loss > 0 else float("inf")
    coarse = len(result.scales) - 1
    after = f" after {coarse} coarser scale{'s' * (coarse > 1)}" if coarse else ""
    return (
        f"wrote {output} ({result.width}x{result.height}) and {meta_path.name}: "
        f"full-size loss {result.initial_loss:.4g} -> {result.final_loss:.4g} "
        f"({drop:.0f}x lower) in {result.iterations} iterations{after}, "
        f"{result.wall_time:.1f} s in all"
    )
