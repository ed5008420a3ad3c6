"""What an edit does to an image people already have, declared once (see
:mod:`texsynth.core.options`): the commands ``fill``, ``extend`` and ``tile``, batch
manifests and sidecars all read these fields.

An option's ``scope`` names the edits it applies to; one without a scope applies to all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import TexsynthError
from .options import choice, declare, declared, optional, path_text, whole_number
from .provenance import is_sha256

EDIT_KINDS: tuple[str, ...] = ("fill", "extend", "tile")
# What each kind of edit does, as its command's help says it.
SUMMARIES = {
    "fill": "Fill a hole in IMAGE: the mask's white pixels are synthesised from the texture "
    "around them (or from --source images), and every other pixel is kept byte for byte. A "
    "grey mask is thresholded at 50%; without --mask, IMAGE's transparent pixels are the hole.",
    "extend": "Extend IMAGE beyond its borders: IMAGE is placed unchanged at --anchor of a "
    "--size canvas, and the rest is synthesised.",
    "tile": "Make IMAGE tile: a --band px frame along the edges is re-synthesised so that "
    "the output wraps around with no seam; the middle of IMAGE is kept unchanged.",
}
# What an edit's sidecar section records besides its declared fields.
EDIT_FACTS = frozenset({"image_sha256", "mask_sha256", "hole_pixels", "placed"})
# Where ``extend`` puts the image: the middle, a side (n, s, e, w) or a corner.
ANCHORS: tuple[str, ...] = ("center", "n", "s", "e", "w", "ne", "nw", "se", "sw")


@dataclass(frozen=True)
class Edit:
    """One edit: its kind, the image, and the kind's own choices."""

    kind: str = declare(
        "fill",
        "The edit: fill a hole, extend the borders, or make the image tile.",
        choice(EDIT_KINDS),
        flag="--edit",
    )
    image: str | None = declare(None, "The image to edit.", optional(path_text))
    mask: str | None = declare(
        None,
        "Mask image of IMAGE's size: its white pixels (grey ones from 50% up) are synthesised, "
        "all others kept exactly (default: IMAGE's transparent pixels).",
        optional(path_text),
        scope=("fill",),
    )
    anchor: str = declare(
        "center",
        "Where IMAGE sits on the larger canvas: the centre, a side or a corner.",
        choice(ANCHORS),
        scope=("extend",),
    )
    band: int | None = declare(
        None,
        "Width in px of the frame along the edges that is re-synthesised; less than half the "
        "shorter side (default: an eighth of it, so at least the middle half is kept).",
        optional(whole_number(1)),
        scope=("tile",),
    )
    refine: int = declare(
        0,
        "Iterations of the recipe's texture loss over the hole after the patch fill "
        "(0: none; docs/editing.md measures why none is the default).",
        whole_number(0, 10_000),
    )

    def as_dict(self) -> dict[str, Any]:
        """The fields that apply to this kind of edit."""
        specs = dict(declared(Edit))
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if not specs[f.name].scope or self.kind in specs[f.name].scope
        }


def edit_options(kind: str) -> list[str]:
    """The declared fields an edit of ``kind`` takes (besides its kind and image)."""
    return [
        name
        for name, spec in declared(Edit)
        if name not in ("kind", "image") and (not spec.scope or kind in spec.scope)
    ]


def check_edit_facts(edit: dict[str, Any], where: str) -> None:
    """Refuse an edit section whose recorded facts are not what texsynth writes."""
    for key in ("image_sha256", "mask_sha256"):
        if key in edit and not is_sha256(edit[key]):
            raise TexsynthError(f"{where}: {key} is not 64 hexadecimal digits")
    placed = edit.get("placed")
    if placed is not None and not (
        isinstance(placed, list) and len(placed) == 4
        and all(type(v) is int and 0 <= v <= 65_536 for v in placed)
    ):  # fmt: skip
        raise TexsynthError(f"{where}: placed is not [left, top, width, height] in pixels")
    hole = edit.get("hole_pixels")
    if hole is not None and (type(hole) is not int or hole < 0):
        raise TexsynthError(f"{where}: hole_pixels is not a whole number")
