"""The commands that make one image and its sidecar, derived from the kinds of run
(:mod:`texsynth.core.kinds`): ``fill``, ``extend``, ``tile``, ``metamer``, ``control`` and
any kind registered later. Each takes IMAGE (or ``--recipe OUT.json`` to replay a sidecar
of its kind), its kind's declared settings, the task options the command names, and, for
kinds that a recipe makes, the recipe's options; it writes the image and the sidecar
together, and says what it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..core.errors import OutputError, TexsynthError
from ..core.kinds import Command, RunKind
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

# Formats that hold 8-bit pixels exactly, as a kind that keeps pixels promises (JPEG and
# WebP compress with loss, GIF has 256 colours).
LOSSLESS_FORMATS = (".png", ".tif", ".tiff", ".bmp", ".ppm", ".pnm", ".pgm", ".tga")


def run_command(kind: RunKind, command: Command) -> click.Command:
    """The command ``command`` of ``kind``, its options read from the declarations."""
    fixed = dict(command.fixed)
    skipped = (*fixed, "image", *_out_of_scope(kind, command.name))

    def run(image: str | None, output: Path, recipe_file: Path | None, **given: Any) -> None:
        _run(kind, command, image, output, recipe_file, given)

    decorators = [
        click.argument("image", required=False),
        output_option("Output image (PNG); its sidecar OUTPUT.json is written beside it."),
        replay_option(
            f"Replay a {command.name} sidecar (OUT.json): its image, its settings and its "
            "recipe, unless given here."
        ),
        declared_options(kind.fields, "settings", skipped),  # type: ignore[arg-type]
        declared_options(Task, "task_fields", _all_but(Task, command.task_fields)),
    ]
    if kind.recipe:
        decorators += [preset_option, recipe_options(skip=kind.recipe_skips), device_option,
                       weights_option, trust_option]  # fmt: skip
    decorators += [overwrite_option, *([force_option] * kind.recipe), quiet_option(
        "progress bar or summary" if kind.recipe else "summary")]  # fmt: skip
    for decorate in reversed(decorators):
        run = decorate(run)
    return click.command(command.name, help=command.help)(run)


def _all_but(cls: type, names: tuple[str, ...]) -> tuple[str, ...]:
    """The declared fields of ``cls`` that are not ``names``: those a command skips."""
    return tuple(name for name, _ in declared(cls) if name not in names)


def _out_of_scope(kind: RunKind, command: str) -> tuple[str, ...]:
    """The settings whose declared scope leaves out this command (fill has no --band)."""
    specs = declared(kind.fields)  # type: ignore[arg-type]
    return tuple(name for name, spec in specs if spec.scope and command not in spec.scope)


def _run(
    kind: RunKind,
    command: Command,
    image: str | None,
    output: Path,
    recipe_file: Path | None,
    given: dict[str, Any],
) -> None:
    from ..core.files import check_new, check_not_inputs, sidecar_path
    from ..core.registry import resolve

    check_image_extension(output)
    if kind.lossless:
        check_lossless(command.name, output)
    overwrite, quiet = given.pop("overwrite"), given.pop("quiet")
    check_new(output, overwrite)
    meta_path = check_new(sidecar_path(output), overwrite)
    settings = given.pop("settings") | dict(command.fixed)
    tasks, preset = given.pop("task_fields"), given.pop("preset", None)
    base, made_of, task = replayed(kind, command, recipe_file, preset, image, settings, tasks)
    recipe_fields = given.pop("recipe_fields", {})
    _check_recipe_used(kind, made_of, preset, recipe_fields, tasks)
    inputs = [getattr(made_of, name) for name in kind.files]
    keeps = getattr(made_of, kind.keeps) if kind.keeps else None  # its depth and alpha
    map_paths = check_map_outputs(output, task, overwrite, keeps)
    read = [*inputs, *task.get("sources", ()), *task.get("maps", ()), recipe_file]
    check_not_inputs([output, meta_path, *map_paths], read)
    options = {}
    if kind.recipe:
        options = dict(device=given["device"], weights=given["weights_path"],
                       verify_weights=not given["trust_weights"], progress=not quiet,
                       force=given["force"], **recipe_fields)  # fmt: skip
    task_of = Task(**{k: tuple(v) if isinstance(v, list) else v for k, v in task.items()})
    result = resolve(kind.runner)(made_of, base, task=task_of, **options)
    write_run(result, output, overwrite)
    if not quiet:
        record = result.record()
        width, height = result.image.shape[2], result.image.shape[1]
        click.echo(
            f"wrote {output} ({width}x{height}{kind.told(record)}) and {meta_path.name}", err=True
        )


def write_run(result: Any, output: Path, overwrite: bool) -> None:
    """The image and its sidecar (OUTPUT.json), placed together, over nothing that appeared
    meanwhile."""
    from ..core.files import write_files
    from ..image.io import image_and_sidecar

    material = getattr(result, "material", None)  # what a synthesis or edit writes beyond 8 bits
    files = image_and_sidecar(result.image, result.record(), output, material)
    write_files(files, overwrite)


def check_map_outputs(
    output: Path, task: dict[str, Any], overwrite: bool, image: str | None = None
) -> list[Path]:
    """Before any work: the outputs of the task's maps (beside ``output``), each new unless
    ``overwrite``, and ``output``'s format able to hold the depth asked for (by default
    that of ``image``, the one input whose depth and alpha the output keeps)."""
    from ..core.files import check_new
    from ..image.formats import DEEP_FORMATS
    from ..image.io import check_holds, file_depth, image_format
    from ..image.material import map_output

    if task.get("depth") not in (None, "auto"):
        check_holds(output, int(task["depth"]), False)
    elif image is not None and image_format(output) not in DEEP_FORMATS:
        check_holds(output, *file_depth(image))  # a header read, where the format needs it
    paths = [map_output(output, Path(found).stem) for found in task.get("maps", ())]
    return [check_new(path, overwrite) for path in paths]


def check_lossless(command: str, output: Path) -> None:
    """Refuse an output format that would change the pixels a run keeps."""
    suffix = output.suffix.lower()
    if suffix and suffix not in LOSSLESS_FORMATS:
        raise TexsynthError(
            f"{command} keeps every pixel outside the hole byte for byte, which a {suffix} "
            "file cannot hold (it would change them); write .png, .tif or .bmp and convert "
            "afterwards if need be"
        )


def _check_recipe_used(
    kind: RunKind, made_of: Any, preset: str | None, fields: dict[str, Any], tasks: dict[str, Any]
) -> None:
    """Refuse recipe options (and the seed and sources that steer the same network) for a
    run they would not change."""
    unused = kind.recipe_unused(made_of)
    if not unused:
        return
    from ..core.options import flag_of
    from ..core.recipe import Recipe

    specs = dict(declared(Recipe)) | dict(declared(Task))
    steering = [name for name in tasks if name in ("seed", "sources")]  # not extend's --size
    named = [flag_of(name, specs[name]) for name in (*fields, *steering)]
    named += ["--preset"] * (preset is not None)
    if named:
        one = len(named) == 1
        raise click.UsageError(
            f"{', '.join(named)} steer{'s' * one} {unused}, or drop {'it' if one else 'them'}"
        )


def replayed(
    kind: RunKind,
    command: Command,
    recipe_file: Path | None,
    preset: str | None,
    image: str | None,
    settings: dict[str, Any],
    tasks: dict[str, Any],
) -> tuple[Any, Any, dict[str, Any]]:
    """The base recipe (or preset name), the settings and the task: a replayed sidecar's,
    with what the command line gives over them."""
    cls = kind.fields
    assert cls is not None
    if recipe_file is None:
        if image is None:
            raise click.UsageError(f"give IMAGE, or --recipe OUT.json to replay a {command.name}")
        return preset or "default", cls(image=image, **settings), tasks
    run = recorded_run(recipe_file, preset)
    if run.kind is not kind:
        raise TexsynthError(
            f"{recipe_file} records no {command.name} (it records a {run.kind.name})"
        )
    recorded = kind.settings_of(run.section, f"{recipe_file}: {kind.section}")
    for name, value in command.fixed:
        if getattr(recorded, name) != value:
            made = f"its {kind.name}: {getattr(recorded, name)}"
            raise TexsynthError(f"{recipe_file} records no {command.name} ({made})")
    made_of = cls(**(recorded.as_dict() | ({"image": image} if image else {}) | settings))
    files = [getattr(made_of, name) or "" for name in kind.files]
    check_replay_inputs(recipe_file, _recorded_files(kind, run), files, strict=False)
    task = {k: v for k, v in run.task.as_dict().items() if v not in (None, [])}
    task = {k: v for k, v in task.items() if k in kind.task_fields} | tasks
    return run.recipe, made_of, task


def recorded_run(recipe_file: Path, preset: str | None) -> Any:
    """The run a sidecar records, refused beside ``--preset`` (the sidecar's recipe is the
    base that the command line's options change)."""
    from ..core.sidecar import load_run

    if preset is not None:
        raise click.UsageError("--recipe replaces --preset; give one of them")
    return load_run(recipe_file)


def _recorded_files(kind: RunKind, run: Any) -> list[dict[str, Any]]:
    """The input files a sidecar records: its inputs, and the files its section names
    with their sha256."""
    named = [
        {"path": run.section[name], "sha256": run.section.get(f"{name}_sha256")}
        for name in kind.files
        if run.section.get(name) and run.section.get(f"{name}_sha256")
    ]
    return [*run.inputs, *named]


def check_image_extension(path: Path) -> None:
    """Refuse an output whose extension names no image format Pillow writes."""
    from PIL import Image

    if path.suffix and path.suffix.lower() not in Image.registered_extensions():
        raise OutputError(f"unknown image format {path.suffix!r} for {path}; use .png")


def check_replay_inputs(recipe_file: Path, inputs: Any, paths: list[str], strict: bool) -> None:
    """Warn (or with ``strict`` refuse) when a file the run read has changed since."""
    import warnings

    from ..core.provenance import changed_inputs

    changes = changed_inputs(list(inputs), [p for p in paths if p and not p.startswith("builtin:")])
    if not changes:
        return
    told = f"{'; '.join(changes)} since {recipe_file} was recorded"
    if strict:
        raise TexsynthError(f"{told}; the replay would differ (drop --strict to run it anyway)")
    warnings.warn(f"{told}: the replay will not give the recorded image", stacklevel=2)
