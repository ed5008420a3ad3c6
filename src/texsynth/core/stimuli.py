"""Stimuli for vision science that are not syntheses, declared once (see
:mod:`texsynth.core.options`): matched controls (``texsynth control``) and equalised sets
(``texsynth equalize``, after the SHINE toolbox of Willenbockel et al. 2010). Their
commands, sidecars and help read these fields.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .options import (
    boolean,
    choice,
    declare,
    optional,
    parse_fields,
    path_text,
    positive_number,
    whole_number,
)
from .recipe import MAX_SEED

CONTROL_KINDS: tuple[str, ...] = ("phase", "pixels")
# What a metamer's sidecar section records besides its declared fields.
METAMER_FACTS = frozenset({
    "windows", "rings", "sectors", "fovea_radius_px", "window_eccentricity_px",
    "window_gram_error", "median_window_gram_error", "fovea_max_pixel_error",
    "periphery_rms_pixel_difference",
})  # fmt: skip


def point(value: Any) -> tuple[float, float]:
    """``"120,80"`` or a pair → (x, y) in pixels from the top-left corner."""
    parts = list(value) if isinstance(value, (list, tuple)) else str(value).split(",")
    try:
        x, y = (float(p) for p in parts)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not X,Y (pixels from the top-left corner)") from None
    return x, y


point.metavar = "X,Y"  # type: ignore[attr-defined]

# The widest pooling windows: about 3 radians around the fixation (a larger scaling leaves
# a single sector, a window that wraps around the fixation point).
MAX_SCALING = 3.0


def scaling_value(value: Any) -> float:
    """A window scaling: a finite number in (0, MAX_SCALING]."""
    number = positive_number(value)
    if number > MAX_SCALING:
        raise ValueError(f"{value!r} is above {MAX_SCALING:g}, the widest pooling windows")
    return number


scaling_value.metavar = "S"  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Metamer:
    """A metamer of one image: its Gram statistics matched inside pooling windows that grow
    with eccentricity (``texsynth metamer``)."""

    image: str | None = declare(None, "The image whose metamer is made.", optional(path_text))
    scaling: float | None = declare(
        None,
        "The windows' size relative to their eccentricity (radial and angular width about "
        "S x eccentricity): the experiment's variable, e.g. 0.25 to 0.7 (at most 3).",
        optional(scaling_value),
    )
    fixation: tuple[float, float] | None = declare(
        None, "The fixation point, X,Y in pixels (default: the image's centre).", optional(point)
    )
    init: str | None = declare(
        None, "Start from this image instead of white noise (its size is the image's).",
        optional(path_text),
    )  # fmt: skip

    def __post_init__(self) -> None:
        parse_fields(self)

    def as_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["fixation"] = list(self.fixation) if self.fixation else None
        return out


@dataclass(frozen=True)
class Control:
    """A matched control of one image."""

    kind: str = declare(
        "phase",
        "phase: the image's amplitude spectrum with random phases (the same random phases "
        "added to every colour channel); pixels: the image's pixels shuffled.",
        choice(CONTROL_KINDS),
    )
    image: str | None = declare(None, "The image the control is made from.", optional(path_text))
    seed: int = declare(
        0, "Seed of the random phases or of the shuffle.", whole_number(0, MAX_SEED)
    )

    def __post_init__(self) -> None:
        parse_fields(self)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Equalization:
    """What ``texsynth equalize`` equalises across a set of images (their luminance)."""

    luminance: bool = declare(
        False, "Equalise each image's mean luminance and RMS contrast to the set's averages.",
        boolean,
    )  # fmt: skip
    histogram: bool = declare(
        False, "Specify each image's luminance histogram exactly as the set's average histogram.",
        boolean,
    )  # fmt: skip
    spectrum: bool = declare(
        False, "Give each image the set's average amplitude spectrum (its own phases kept).",
        boolean,
    )  # fmt: skip
    iterations: int = declare(
        4,
        "With --histogram and --spectrum: rounds of spectrum then histogram matching, as "
        "SHINE alternates them (the histogram is matched last, so it is exact).",
        whole_number(1, 100),
    )
    mask: str | None = declare(
        None,
        "Mask image of the images' size: only its white pixels (grey ones from 50% up) are "
        "measured and equalised; the others are kept.",
        optional(path_text),
    )
    resize: bool = declare(
        False,
        "Resample every image to the first one's size (else images of different sizes are "
        "refused).",
        boolean,
    )

    def __post_init__(self) -> None:
        parse_fields(self)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def steps(self) -> list[str]:
        """The operations in order: (spectrum, histogram) × iterations, then luminance."""
        rounds = self.iterations if self.spectrum and self.histogram else 1
        one = ["spectrum"] * self.spectrum + ["histogram"] * self.histogram
        return one * rounds + ["luminance"] * self.luminance
