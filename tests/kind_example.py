"""The worked example of docs/design.md: a new kind of run, declared in one place.

A *negative* is a control for vision experiments: IMAGE with the opposite contrast
polarity (and a chosen contrast), all of its structure kept. Declaring its settings, its
runner and its :class:`~texsynth.core.kinds.RunKind` is all it takes: the command
``texsynth negative``, its replay (``--recipe OUT.json``), the sidecar reader's checks,
batch jobs (``contrast:`` in a manifest) and report cards follow from the declaration. In
the package it would be three files: the settings beside the other stimuli's
(core/stimuli.py), the entry in core/kinds.py, and the runner (stimuli/negative.py).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import torch

from texsynth import __version__
from texsynth.core.kinds import Command, RunKind
from texsynth.core.options import declare, optional, parse_fields, path_text, positive_number
from texsynth.core.provenance import fingerprint
from texsynth.image.io import load_image, to_pil


@dataclass(frozen=True)
class Negative:
    """The negative of one image."""

    image: str | None = declare(None, "The image whose negative is made.", optional(path_text))
    contrast: float = declare(1.0, "The negative's contrast relative to IMAGE's.", positive_number)

    def __post_init__(self) -> None:
        parse_fields(self)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class MadeNegative:
    image: torch.Tensor  # (C, H, W) in [0, 1]
    recorded: dict[str, Any]
    final_loss: None = None

    def record(self) -> dict[str, Any]:
        return self.recorded

    def to_pil(self):
        return to_pil(self.image)


def run_negative(negative: Negative, recipe: Any = None, *, task: Any = None, **options: Any):
    began = time.perf_counter()
    source = load_image(negative.image).pixels
    image = (0.5 - negative.contrast * (source - 0.5)).clamp(0, 1)
    size = [int(source.shape[2]), int(source.shape[1])]
    record = {
        "texsynth_version": __version__,
        "negative": negative.as_dict(),
        "inputs": [fingerprint(negative.image, "image", tuple(size))],
        "facts": {"size": size, "mean": float(image.mean()),
                  "wall_time_s": time.perf_counter() - began},
    }  # fmt: skip
    return MadeNegative(image, record)


NEGATIVE = RunKind(
    "negative", Negative, "negative", files=("image",), recipe=False, runner=run_negative,
    commands=(Command("negative", "Write the negative of IMAGE (opposite contrast polarity)."),),
    told=lambda record: f", contrast {record['negative']['contrast']:g}", task_fields=(),
    trigger="contrast", hint="contrast: C", card_fields=(("contrast", "contrast"),),
    card_numbers=(("mean", "mean"),),
)  # fmt: skip
