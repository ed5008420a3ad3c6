"""``make_control``: a matched control of one image (:mod:`texsynth.image.controls`), with
the record its sidecar holds: the control's fields, the input file's fingerprint, and what
was measured (the amplitude spectrum's error, the phases' correlation with the source's,
the share of pixels the 8-bit file had to clip)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..core.errors import TexsynthError
from ..core.provenance import fingerprint
from ..core.stimuli import Control
from ..image.controls import CONTROLS, amplitude_error, phase_correlation
from ..image.io import load_image, to_bytes


@dataclass
class ControlResult:
    """A control image and what its sidecar records."""

    image: torch.Tensor  # (C, H, W) float64, unclipped: the exact control
    control: Control
    inputs: list[dict[str, Any]]
    wall_time: float

    @property
    def saved(self) -> torch.Tensor:
        """The pixels an 8-bit file holds (clipped to [0, 1])."""
        return to_bytes(self.image).double() / 255.0

    def facts(self, source: torch.Tensor) -> dict[str, Any]:
        outside = ((self.image < 0) | (self.image > 1)).double().mean()
        return {
            "size": [int(self.image.shape[2]), int(self.image.shape[1])],
            "amplitude_error": amplitude_error(self.image, source),
            "amplitude_error_8bit": amplitude_error(self.saved, to_bytes(source).double() / 255),
            "phase_correlation": phase_correlation(self.image, source),
            "clipped_fraction": float(outside),
            "wall_time_s": self.wall_time,
        }

    def record(self, source: torch.Tensor) -> dict[str, Any]:
        return {
            "texsynth_version": __version__,
            "control": self.control.as_dict(),
            "inputs": self.inputs,
            "facts": self.facts(source),
        }


def make_control(control: Control) -> tuple[ControlResult, torch.Tensor]:
    """The control ``control`` asks for, and the source pixels it was made from."""
    if control.image is None:
        raise TexsynthError("a control needs an image")
    began = time.perf_counter()
    source = load_image(control.image).pixels.double()
    made = CONTROLS[control.kind](source, control.seed)
    inputs = []
    if Path(control.image).is_file():
        inputs.append(fingerprint(control.image, "image", (source.shape[2], source.shape[1])))
    return ControlResult(made, control, inputs, time.perf_counter() - began), source
