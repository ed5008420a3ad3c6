"""Matched controls: images with one property of a texture and none of its structure.

- **Phase-scrambled noise** keeps the amplitude spectrum and randomises the phases, the
  control the paper's Fig. 2 sets beside its first row and that Freeman et al. 2013 use to
  separate V2 from V1. The same random phases are *added* to every colour channel's own
  phases, so the channels' cross-spectra, and with them the colours, are kept; the phase
  of the mean (and of each self-conjugate frequency) is left alone, so the output is real
  and its mean the source's.
- **Shuffled pixels** keep the pixel histogram (of colours, not only of each channel) and
  nothing spatial.

Both are seeded and keep the image's size; both wrap around by construction (the FFT is
circular, and shuffled pixels have no structure), so every output tiles.

``make_control``: a matched control of one image, with the record its sidecar holds: the
control's fields, the input file's fingerprint, and what was measured (the amplitude
spectrum's error, the phases' correlation with the source's, the share of pixels the
8-bit file had to clip).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import __version__
from ..core.errors import TexsynthError
from ..core.provenance import fingerprint
from ..core.stimuli import Control
from ..image import formats
from ..image.io import load_image, to_pil
from ..image.material import Material, SurfaceMap


def phase_scrambled(pixels: torch.Tensor, seed: int) -> torch.Tensor:
    """(C, H, W) → (C, H, W) float64 with the same amplitude spectrum (to float precision)
    and random phases. Values may leave [0, 1]; clip for display, not for analysis."""
    _, height, width = pixels.shape
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(height, width, generator=generator, dtype=torch.float64)
    # The phases of a real white noise's spectrum: uniform, and odd-symmetric as a real
    # image's must be, so the scrambled spectrum stays that of a real image.
    random_phase = torch.angle(torch.fft.fft2(noise))
    random_phase[0, 0] = 0.0
    spectrum = torch.fft.fft2(pixels.double())
    return torch.fft.ifft2(spectrum * torch.polar(torch.ones_like(random_phase), random_phase)).real


def shuffled_pixels(pixels: torch.Tensor, seed: int) -> torch.Tensor:
    """(C, H, W) with its pixel positions permuted at random (a pixel's channels move
    together)."""
    channels, height, width = pixels.shape
    generator = torch.Generator().manual_seed(seed)
    order = torch.randperm(height * width, generator=generator)
    return pixels.flatten(1)[:, order].view(channels, height, width)


CONTROLS = {"phase": phase_scrambled, "pixels": shuffled_pixels}


def amplitude_error(made: torch.Tensor, source: torch.Tensor) -> float:
    """Largest difference between the two amplitude spectra, relative to the largest
    amplitude (0 when the spectrum is kept)."""
    a, b = (torch.fft.fft2(x.double()).abs() for x in (made, source))
    return float((a - b).abs().max() / b.max())


def phase_correlation(made: torch.Tensor, source: torch.Tensor) -> float:
    """Mean cosine of the phase differences over the non-zero frequencies of every
    channel: 1 for the same phases, about 0 (±1/√N) for unrelated ones."""
    a, b = (torch.fft.fft2(x.double()) for x in (made, source))
    keep = (a.abs() > 1e-9) & (b.abs() > 1e-9)
    keep[:, 0, 0] = False
    return float(torch.cos(torch.angle(a) - torch.angle(b))[keep].mean())


@dataclass
class ControlResult:
    """A control image and what its sidecar records."""

    image: torch.Tensor  # (C, H, W) float64, unclipped: the exact control
    control: Control
    inputs: list[dict[str, Any]]
    wall_time: float
    depth: int = 8  # bits per sample of the image's file, and so of the control's

    @property
    def saved(self) -> torch.Tensor:
        """The pixels the file holds at ``depth`` bits (clipped to [0, 1])."""
        return quantised(self.image, self.depth)

    def facts(self, source: torch.Tensor) -> dict[str, Any]:
        outside = ((self.image < 0) | (self.image > 1)).double().mean()
        return {
            "size": [int(self.image.shape[2]), int(self.image.shape[1])],
            "amplitude_error": amplitude_error(self.image, source),
            f"amplitude_error_{self.depth}bit": amplitude_error(
                self.saved, quantised(source, self.depth)
            ),
            "phase_correlation": phase_correlation(self.image, source),
            "clipped_fraction": float(outside),
            "wall_time_s": self.wall_time,
        }

    def record(self, source: torch.Tensor) -> dict[str, Any]:
        material = written_material(self.saved, self.depth)
        return {
            "texsynth_version": __version__,
            "control": self.control.as_dict(),
            **({"material": material.record()} if material is not None else {}),
            "inputs": self.inputs,
            "facts": self.facts(source),
        }


def quantised(pixels: torch.Tensor, depth: int) -> torch.Tensor:
    """``pixels`` as a ``depth``-bit file holds them (clipped to [0, 1]), as float64."""
    held = formats.quantised(pixels.detach().cpu().double().numpy(), depth)
    return torch.from_numpy(held.astype(np.float64) / (2**depth - 1))


def written_material(image: torch.Tensor, depth: int) -> Material | None:
    """A 16-bit image's control is written at 16 bits (its alpha is not kept: a control has
    none of the image's structure); an 8-bit one's is the 8-bit image alone."""
    return None if depth == 8 else Material(SurfaceMap("control", image, depth, False, False))


def make_control(control: Control) -> tuple[ControlResult, torch.Tensor]:
    """The control ``control`` asks for, and the source pixels it was made from."""
    if control.image is None:
        raise TexsynthError("a control needs an image")
    began = time.perf_counter()
    loaded = load_image(control.image)
    source = loaded.pixels.double()
    made = CONTROLS[control.kind](source, control.seed)
    inputs = []
    if Path(control.image).is_file():  # the hash of the bytes decoded: not read again
        size = (source.shape[2], source.shape[1])
        inputs.append(fingerprint(control.image, "image", size, loaded.sha256))
    result = ControlResult(made, control, inputs, time.perf_counter() - began, loaded.depth)
    return result, source


@dataclass
class MadeControl:
    """A control as a command or a batch writes it: the pixels its file holds, and its
    sidecar."""

    image: torch.Tensor  # (C, H, W) in [0, 1]: what the file holds
    recorded: dict[str, Any]
    final_loss: None = None  # no optimiser ran
    depth: int = 8  # the file's bits per sample: the image's

    @property
    def material(self) -> Material | None:
        return written_material(self.image, self.depth)

    def record(self) -> dict[str, Any]:
        return self.recorded

    def to_pil(self):
        return to_pil(self.image)


def run_control(
    control: Control, recipe: Any = None, *, task: Any = None, **options: Any
) -> MadeControl:
    """A control as its kind of run is made (texsynth.core.kinds): no recipe, no task, no
    network, so none of their options apply."""
    made, source = make_control(control)
    return MadeControl(made.saved.float(), made.record(source), depth=made.depth)
