"""``texsynth control``: a matched control of an image (phase-scrambled noise or shuffled
pixels), written with its JSON sidecar; or a sidecar's control made again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..core.errors import TexsynthError
from ..core.stimuli import Control
from .options import declared_options, output_option, overwrite_option, quiet_option, replay_option
from .synth import check_image_extension, check_replay_inputs


@click.command()
@click.argument("image", required=False)
@output_option("Output image (PNG); its sidecar OUTPUT.json is written beside it.")
@replay_option("Make a sidecar's control again (OUT.json): its image, kind and seed unless given.")
@declared_options(Control, "control_fields", skip=("image",))
@overwrite_option
@quiet_option("summary")
def control(
    image: str | None,
    output: Path,
    recipe_file: Path | None,
    control_fields: dict[str, Any],
    overwrite: bool,
    quiet: bool,
) -> None:
    """Write a control of IMAGE with none of its structure: --kind phase keeps the amplitude
    spectrum and randomises the phases (the same for every colour channel), --kind pixels
    shuffles the pixels. Seeded; the size is IMAGE's, and the output tiles."""
    from ..core.files import check_new, check_not_inputs, sidecar_path, text_writer, write_files
    from ..image.io import image_writer
    from ..stimuli.controls import make_control

    check_image_extension(output)
    check_new(output, overwrite)
    meta_path = check_new(sidecar_path(output), overwrite)
    wanted = _replayed(recipe_file, image, control_fields)
    check_not_inputs([output, meta_path], [wanted.image, recipe_file])
    made, source = make_control(wanted)
    record = made.record(source)
    write_files(
        [
            (output, image_writer(made.saved.float(), output)),
            (meta_path, text_writer(json.dumps(record, indent=2) + "\n")),
        ],
        overwrite,
    )
    if not quiet:
        facts = record["facts"]
        click.echo(
            f"wrote {output} ({facts['size'][0]}x{facts['size'][1]}, {made.control.kind} "
            f"control; phase correlation {facts['phase_correlation']:+.3f}, "
            f"{100 * facts['clipped_fraction']:.1f}% of values clipped to the file's range) "
            f"and {meta_path.name}",
            err=True,
        )


def _replayed(recipe_file: Path | None, image: str | None, given: dict[str, Any]) -> Control:
    """The control to make: the command line's, over a replayed sidecar's."""
    if recipe_file is None:
        if image is None:
            raise click.UsageError("give IMAGE, or --recipe OUT.json to make a control again")
        return Control(image=image, **given)
    from ..core.recipe import fields_from
    from ..core.sidecar import read_record

    data = read_record(recipe_file)
    if not isinstance(data.get("control"), dict):
        raise TexsynthError(f"{recipe_file} records no control")
    recorded = fields_from(Control, data["control"], f"{recipe_file}: control")
    made = Control(**(recorded | ({"image": image} if image else {}) | given))
    inputs = data.get("inputs") if isinstance(data.get("inputs"), list) else []
    check_replay_inputs(recipe_file, inputs, [made.image or ""], strict=False)
    return made
