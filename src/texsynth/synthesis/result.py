"""A synthesised texture and the record of how it was made (the JSON sidecar)."""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..core.kinds import KINDS
from ..core.provenance import fingerprint
from ..core.recipe import Recipe, Task
from ..image.io import save_image, to_pil
from ..image.material import Material, SurfaceMap


def map_input(found: SurfaceMap) -> dict[str, Any]:
    """The sidecar's record of a material's map as an input file (role ``map``)."""
    return fingerprint(found.path, "map", found.size, found.sha256)


@dataclass
class ScaleRecord:
    """What happened at one scale of a synthesis."""

    size: tuple[int, int]  # (width, height)
    loss_history: list[float]  # the loss at the start, then after every iteration
    iterations: int
    evaluations: int
    stop_reason: str
    wall_time: float  # seconds in the optimiser
    loss: str = ""  # the loss module's class at this scale

    @property
    def initial_loss(self) -> float:
        return self.loss_history[0]

    @property
    def final_loss(self) -> float:
        return self.loss_history[-1]

    def record(self) -> dict[str, Any]:
        return {
            "size": list(self.size),
            "loss": self.loss,
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "stop_reason": self.stop_reason,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "wall_time_s": self.wall_time,
            "loss_history": self.loss_history,
        }


@dataclass
class ModelFacts:
    """The texture model a synthesis ran with, as resolved from its recipe."""

    layers: tuple[str, ...]
    layer_weights: tuple[float, ...]
    precision: str  # "auto" resolved
    padding: str
    parameters: int  # Σ N(N+1)/2 over the layers
    weights: dict[str, Any]  # what the weights are and where they came from
    loss: str  # the loss module's class
    optimizer: str
    device: str


@dataclass
class SynthesisResult:
    """A synthesised texture, its recipe, its task, and what happened at each scale.

    Loss, iterations and stop reason are the full-size scale's (``scales[-1]``);
    ``wall_time`` is the time in the optimiser over all scales. An edit made by its patch
    fill alone ran no network and no optimiser: no ``scales``, ``model`` None, its loss
    None and its iterations 0.
    """

    image: torch.Tensor  # (C, H, W) in [0, 1]
    recipe: Recipe
    task: Task  # sources as recorded (paths made absolute), the output size, seed, guide
    scales: list[ScaleRecord]
    model: ModelFacts | None
    preset: str | None = None  # the preset the recipe came from, if any
    inputs: tuple[dict[str, Any], ...] = ()  # each input file's path, bytes, sha256, pixels
    kind: str = "synthesis"  # the kind of run (texsynth.core.kinds)
    section: dict[str, Any] = field(default_factory=dict)  # its sidecar section (an edit's …)
    # What is written when it is more than the 8-bit image: its depth, its alpha, the other
    # maps of its surface (texsynth.image.material)
    material: Material | None = None

    @property
    def loss_history(self) -> list[float]:
        return self.scales[-1].loss_history if self.scales else []

    @property
    def iterations(self) -> int:
        return self.scales[-1].iterations if self.scales else 0

    @property
    def evaluations(self) -> int:
        return self.scales[-1].evaluations if self.scales else 0

    @property
    def stop_reason(self) -> str:
        return self.scales[-1].stop_reason if self.scales else "no optimisation"

    @property
    def initial_loss(self) -> float | None:
        return self.scales[-1].initial_loss if self.scales else None

    @property
    def final_loss(self) -> float | None:
        return self.scales[-1].final_loss if self.scales else None

    @property
    def wall_time(self) -> float:
        return sum(s.wall_time for s in self.scales)

    @property
    def seed(self) -> int:
        return self.task.seed

    @property
    def width(self) -> int:
        return int(self.image.shape[2])

    @property
    def height(self) -> int:
        return int(self.image.shape[1])

    def to_pil(self):
        return to_pil(self.image)

    def save(self, path: str | os.PathLike, overwrite: bool = True) -> Path:
        """Write the image (complete or not at all); ``overwrite=False`` never replaces. A
        ``material`` writes the image at its depth with its alpha, and its maps beside it
        (PATH-STEM_NAME), all or none."""
        if self.material is None:
            return save_image(self.image, path, overwrite)
        from ..core.files import write_files

        write_files(self.material.writers(Path(path)), overwrite)
        return Path(path)

    def record(self) -> dict[str, Any]:
        """The sidecar: the recipe and task (enough to replay it), then the facts."""
        return {
            "texsynth_version": __version__,
            "preset": self.preset,
            "recipe": self.recipe.as_dict(),
            "task": self.task.as_dict(),
            **({KINDS[self.kind].section: dict(self.section)} if self.section else {}),
            **({"material": self.material.record()} if self.material is not None else {}),
            "inputs": [dict(item) for item in self.inputs],
            "facts": self._model_facts()
            | {
                "grayscale": self.image.shape[0] == 1,
                "scales": [s.record() for s in self.scales],
                "iterations": self.iterations,
                "evaluations": self.evaluations,
                "stop_reason": self.stop_reason,
                "initial_loss": self.initial_loss,
                "final_loss": self.final_loss,
                "loss_history": self.loss_history,
                "wall_time_s": self.wall_time,
            },
            "versions": {"python": platform.python_version(), "torch": torch.__version__},
        }

    def _model_facts(self) -> dict[str, Any]:
        m = self.model
        if m is None:  # a patch fill: no network ran
            return {}
        return {
            "layers": list(m.layers),
            "layer_weights": list(m.layer_weights),
            "precision": m.precision,
            "padding": m.padding,
            "model_parameters": m.parameters,
            "weights": m.weights,
            "loss": m.loss,
            "optimizer": m.optimizer,
            "device": m.device,
        }
