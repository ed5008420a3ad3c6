"""``texsynth fill | extend | tile``: edits of an image people already have, each written
with its JSON sidecar; or a sidecar's edit replayed. One command per kind of edit, all
made by :func:`edit_command` from the declarations of :class:`~texsynth.core.edits.Edit`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..core.edits import Edit, edit_options
from ..core.errors import TexsynthError
from ..core.options import declared
from ..core.recipe import Task
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

SUMMARIES = {
    "fill": "Fill a hole in IMAGE: the mask's white pixels are synthesised from the texture "
    "around them (or from --source images), and every other pixel is kept byte for byte. A "
    "grey mask is thresholded at 50%; without --mask, IMAGE's transparent pixels are the hole.",
    "extend": "Extend IMAGE beyond its borders: IMAGE is placed unchanged at --anchor of a "
    "--size canvas, and the rest is synthesised.",
    "tile": "Make IMAGE tile: a --band px frame along the edges is re-synthesised so that "
    "the output wraps around with no seam; the middle of IMAGE is kept unchanged.",
}
TASK_FIELDS = {"fill": ("sources", "seed"), "extend": ("sources", "size", "seed"), "tile": ()}


def _all_but(cls: type, names: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The declared fields of ``cls`` that are not ``names``: those a command skips."""
    return tuple(name for name, _ in declared(cls) if name not in names)


def edit_command(kind: str) -> click.Command:
    """The command of one kind of edit."""
    edit_fields, task_fields = edit_options(kind), TASK_FIELDS[kind]

    @click.argument("image", required=False)
    @output_option("Output image (PNG); its sidecar OUTPUT.json is written beside it.")
    @replay_option(
        f"Replay a {kind} sidecar (OUT.json): its image, its edit and its recipe, unless "
        "given here."
    )
    @declared_options(Edit, "edit_fields", _all_but(Edit, edit_fields))
    @declared_options(Task, "task_fields", _all_but(Task, task_fields))
    @preset_option
    @recipe_options(skip=("tileable",))
    @device_option
    @weights_option
    @trust_option
    @overwrite_option
    @force_option
    @quiet_option("progress bar or summary")
    def run(image: str | None, output: Path, recipe_file: Path | None, **given: Any) -> None:
        _run_edit(kind, image, output, recipe_file, given)

    return click.command(kind, help=SUMMARIES[kind])(run)


def _run_edit(
    kind: str,
    image: str | None,
    output: Path,
    recipe_file: Path | None,
    given: dict[str, Any],
) -> None:
    from ..core.files import check_new, check_not_inputs, sidecar_path, text_writer, write_files
    from ..image.io import image_writer
    from ..synthesis.edit import edit_image

    check_image_extension(output)
    check_lossless(kind, output)
    overwrite, quiet = given.pop("overwrite"), given.pop("quiet")
    check_new(output, overwrite)
    meta_path = check_new(sidecar_path(output), overwrite)
    edits, tasks = given["edit_fields"], given["task_fields"]
    base, edit_of, task = _replayed(kind, recipe_file, given["preset"], image, edits, tasks)
    _check_refine_options(edit_of, given, tasks)
    inputs = [edit_of.image, edit_of.mask, *task.get("sources", ()), recipe_file]
    check_not_inputs([output, meta_path], inputs)
    result = edit_image(
        edit_of,
        base,
        sources=list(task.get("sources", ())),
        size=task.get("size"),
        seed=task.get("seed", 0),
        device=given["device"],
        weights=given["weights_path"],
        verify_weights=not given["trust_weights"],
        progress=not quiet,
        force=given["force"],
        **given["recipe_fields"],
    )
    sidecar = json.dumps(result.record(), indent=2) + "\n"
    write_files(
        [(output, image_writer(result.image, output)), (meta_path, text_writer(sidecar))],
        overwrite,
    )
    if not quiet:
        hole = result.edit.get("hole_pixels")
        click.echo(
            f"wrote {output} ({result.width}x{result.height}, {hole} px synthesised) and "
            f"{meta_path.name}",
            err=True,
        )


# Formats that hold 8-bit pixels exactly, as an edit promises for every kept pixel (JPEG
# and WebP compress with loss, GIF has 256 colours).
LOSSLESS_FORMATS = (".png", ".tif", ".tiff", ".bmp", ".ppm", ".pnm", ".pgm", ".tga")


def check_lossless(kind: str, output: Path) -> None:
    """Refuse an output format that would change the pixels an edit keeps."""
    suffix = output.suffix.lower()
    if suffix and suffix not in LOSSLESS_FORMATS:
        raise TexsynthError(
            f"{kind} keeps every pixel outside the hole byte for byte, which a {suffix} file "
            "cannot hold (it would change them); write .png, .tif or .bmp and convert "
            "afterwards if need be"
        )


def _check_refine_options(edit_of: Edit, given: dict[str, Any], tasks: dict[str, Any]) -> None:
    """The recipe, the preset, --seed and --source steer only the CNN refinement; without
    --refine the patch fill is all there is, so giving them does nothing and is refused."""
    if edit_of.refine:
        return
    from ..core.options import flag_of
    from ..core.recipe import Recipe

    specs = dict(declared(Recipe)) | dict(declared(Task))
    steering = [name for name in tasks if name in ("seed", "sources")]  # not extend's --size
    named = [flag_of(name, specs[name]) for name in (*given["recipe_fields"], *steering)]
    named += ["--preset"] * (given["preset"] is not None)
    if named:
        raise click.UsageError(
            f"{', '.join(named)} steer{'s' * (len(named) == 1)} the CNN refinement only, and "
            f"{edit_of.kind} runs none without --refine N: add --refine, or drop "
            f"{'it' if len(named) == 1 else 'them'}"
        )


def _replayed(
    kind: str,
    recipe_file: Path | None,
    preset: str | None,
    image: str | None,
    edits: dict[str, Any],
    tasks: dict[str, Any],
) -> tuple[Any, Edit, dict[str, Any]]:
    """The base recipe, the edit and the task: a replayed sidecar's, with what is given."""
    if recipe_file is None:
        if image is None:
            raise click.UsageError(f"give IMAGE, or --recipe OUT.json to replay a {kind}")
        return preset or "default", Edit(kind, image, **edits), tasks
    if preset is not None:
        raise click.UsageError("--recipe replaces --preset; give one of them")
    from ..core.recipe import fields_from
    from ..core.sidecar import load_run

    run = load_run(recipe_file)
    names = {name for name, _ in declared(Edit)}
    recorded = fields_from(
        Edit, {k: v for k, v in run.edit.items() if k in names}, f"{recipe_file}: edit"
    )
    if recorded.get("kind") != kind:
        raise TexsynthError(f"{recipe_file} records no {kind} (its edit: {recorded.get('kind')})")
    edit_of = Edit(**(recorded | ({"image": image} if image else {}) | edits))
    recorded_files = [
        {"path": run.edit[role], "sha256": run.edit.get(f"{role}_sha256")}
        for role in ("image", "mask")
        if run.edit.get(role)
    ]
    paths = [edit_of.image or "", edit_of.mask or ""]
    check_replay_inputs(recipe_file, recorded_files, paths, strict=False)
    task = {k: v for k, v in run.task.as_dict().items() if v not in (None, [])} | tasks
    return run.recipe, edit_of, task


fill, extend, tile = (edit_command(kind) for kind in ("fill", "extend", "tile"))
