"""Samples of a trained generator, each with a sidecar like a synthesis's.

A sample's sidecar records the generator's recipe with ``start: generator`` and
``iters: 0`` and its task (the ``.gen`` file, size, seed), so ``texsynth synth --recipe
SAMPLE.json`` makes the same image again, and a report page shows it like any run.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..core.provenance import fingerprint
from ..core.recipe import Recipe, Task
from ..features.generator import Generator


@dataclass
class GeneratorSample:
    """One sample: its (C, H, W) image and what made it."""

    image: torch.Tensor
    recipe: Recipe
    task: Task
    generator: dict[str, Any]
    inputs: tuple[dict[str, Any], ...]
    wall_time: float

    def record(self) -> dict[str, Any]:
        return {
            "texsynth_version": __version__,
            "preset": None,
            "recipe": self.recipe.as_dict(),
            "task": self.task.as_dict(),
            "generator": self.generator,
            "inputs": [dict(item) for item in self.inputs],
            "facts": {
                "grayscale": self.image.shape[0] == 1,
                "wall_time_s": self.wall_time,
                "iterations": 0,
            },
            "versions": {"python": platform.python_version(), "torch": torch.__version__},
        }


def generator_samples(
    path: str | os.PathLike,
    n: int,
    size: tuple[int, int] | None = None,
    seed: int = 0,
    tileable: bool = False,
    device: str | torch.device = "cpu",
) -> Iterator[GeneratorSample]:
    """``n`` samples of the generator in ``path`` (seeds ``seed`` …), of ``size`` (width,
    height; default the source's, as the task's --size says), made one at a time as they
    are taken, so that a long run holds one image in memory."""
    generator = Generator.load(path)
    _, height, width = generator.source_pixels.shape
    size = size or (width, height)
    recipe = replace(Recipe(**generator.recipe), start="generator", iters=0, tileable=tileable)
    about = generator_facts(generator)
    inputs = (fingerprint(path, "source", (width, height)),)
    recorded = str(Path(path).resolve())
    for i in range(n):
        began = time.perf_counter()
        image = generator.sample(1, size, seed + i, tileable, device)[0]
        task = Task((recorded,), size, seed + i)
        yield GeneratorSample(image, recipe, task, about, inputs, time.perf_counter() - began)


def generator_facts(generator: Generator) -> dict[str, Any]:
    """What a sample's sidecar says of its generator."""
    training = generator.training
    losses = training.get("losses") or [None]
    return {
        "source": generator.source_name,
        "source_sha256": generator.source_sha256,
        "steps": training.get("step", 0),
        "training_seconds": training.get("seconds", 0.0),
        "final_training_loss": losses[-1],
        "training": training.get("settings", {}),
    }
