"""What an edit does to an image people already have, declared once (see
:mod:`texsynth.core.options`): the commands ``fill``, ``extend`` and ``tile``, batch
manifests and sidecars all read these fields.

An option's ``scope`` names the edits it applies to; one without a scope applies to all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .options import choice, declare, declared, optional, path_text, whole_number

EDIT_KINDS: tuple[str, ...] = ("fill", "extend", "tile")
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
