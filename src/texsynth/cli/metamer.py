"""``texsynth metamer``: a metamer with spatial pooling of an image, written with its JSON
sidecar (the windows and every window's Gram error); or a sidecar's metamer made again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..core.errors import TexsynthError
from ..core.recipe import Task
from ..core.stimuli import Metamer
from .edit import _all_but
from .options import (
    declared_options,
    device_option,
    force_option,
    output_option,
    overwrite_option,
    preset_option,
    quiet_option,
    recipe_options,
    replay_option,
    trust_option,
    weights_option,
)
from .synth import check_image_extension, check_replay_inputs

# Recipe fields a metamer has no use for: its loss is the pooled Gram loss, at one scale,
# from noise or --init, of an image that does not tile.
METAMER_SKIPS = (
    "source_scale", "loss", "structure", "structure_loss", "structure_weight",
    "histogram_weight", "histogram_scales", "structure_scales", "start", "coarse_iters",
    "iters_side", "scales", "redraw_every", "tileable", "hist_match", "preserve_colors",
)  # fmt: skip


@click.command()
@click.argument("image", required=False)
@output_option("Output image (PNG); its sidecar OUTPUT.json is written beside it.")
@replay_option("Make a sidecar's metamer again (OUT.json): its image, windows, seed and recipe.")
@declared_options(Metamer, "metamer_fields", skip=("image",))
@declared_options(Task, "task_fields", _all_but(Task, ("seed",)))
@preset_option
@recipe_options(skip=METAMER_SKIPS)
@device_option
@weights_option
@trust_option
@overwrite_option
@force_option
@quiet_option("progress bar or summary")
def metamer(image: str | None, output: Path, recipe_file: Path | None, **given: Any) -> None:
    """Make a metamer of IMAGE: an image whose Gram statistics match IMAGE's inside every
    pooling window, the windows growing with eccentricity from the fixation point (radial
    and angular width about SCALING x eccentricity); the fovea stays as in IMAGE."""
    from ..core.files import check_new, check_not_inputs, sidecar_path, text_writer, write_files
    from ..image.io import image_writer
    from ..stimuli.metamer import make_metamer

    check_image_extension(output)
    overwrite, quiet = given["overwrite"], given["quiet"]
    check_new(output, overwrite)
    meta_path = check_new(sidecar_path(output), overwrite)
    base, made_of, seed = _replayed(recipe_file, given["preset"], image, given)
    check_not_inputs([output, meta_path], [made_of.image, made_of.init, recipe_file])
    result = make_metamer(
        made_of, base, seed=seed, device=given["device"], weights=given["weights_path"],
        verify_weights=not given["trust_weights"], progress=not quiet, force=given["force"],
        **given["recipe_fields"],
    )  # fmt: skip
    sidecar = json.dumps(result.record(), indent=2) + "\n"
    write_files(
        [(output, image_writer(result.image, output)), (meta_path, text_writer(sidecar))],
        overwrite,
    )
    if not quiet:
        m = result.metamer
        click.echo(
            f"wrote {output} ({result.width}x{result.height}, {m['windows']} windows, fovea "
            f"{m['fovea_radius_px']:.0f} px): median window Gram error "
            f"{m['median_window_gram_error']:.3g} after {result.iterations} iterations, "
            f"{result.wall_time:.1f} s, and {meta_path.name}",
            err=True,
        )


def _replayed(
    recipe_file: Path | None, preset: str | None, image: str | None, given: dict[str, Any]
) -> tuple[Any, Metamer, int]:
    """The base recipe, the metamer and the seed: a replayed sidecar's, with what is given."""
    fields, seed = given["metamer_fields"], given["task_fields"].get("seed")
    if recipe_file is None:
        if image is None:
            raise click.UsageError("give IMAGE, or --recipe OUT.json to make a metamer again")
        return preset or "default", Metamer(image=image, **fields), seed or 0
    if preset is not None:
        raise click.UsageError("--recipe replaces --preset; give one of them")
    from ..core.recipe import fields_from
    from ..core.sidecar import load_run, read_record

    data, run = read_record(recipe_file), load_run(recipe_file)
    section = data.get("metamer")
    if not isinstance(section, dict):
        raise TexsynthError(f"{recipe_file} records no metamer")
    names = [n for n in ("image", "scaling", "fixation", "init") if section.get(n) is not None]
    recorded = fields_from(Metamer, {n: section[n] for n in names}, f"{recipe_file}: metamer")
    made = Metamer(**(recorded | ({"image": image} if image else {}) | fields))
    check_replay_inputs(recipe_file, run.inputs, [made.image or "", made.init or ""], False)
    return run.recipe, made, run.task.seed if seed is None else seed
