"""Pinned outputs of every kind of run besides synthesis, stored in ``tests/data/pinned/``.

``regression_cases.py`` pins syntheses; these pin the edits (fill, extend, tile, with and
without refinement), the metamer, the controls and a generator's training and sample. They
were stored from the code *before* the refactor of issue 37 (one driver for every kind of
run), and ``test_pinned.py`` checks that the code still makes the same images, with the
same rules for other machines as ``test_regression.py``.

Run ``python tests/pinned_cases.py`` to store this machine's images (it refuses to
overwrite stored ones; ``--replace`` after an intended change of outputs).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image

from regression_input import pattern_image

DATA = Path(__file__).parent / "data" / "pinned"


class Outcome(NamedTuple):
    image: torch.Tensor  # (C, H, W)
    loss_history: list[float]  # empty where the run has no loss (patch fill, control)
    precision: str  # what the run's convolutions ran in ("none": no network)


def _png(path: Path, pixels: torch.Tensor) -> str:
    array = (pixels.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array.squeeze(-1) if array.shape[-1] == 1 else array).save(path)
    return str(path)


def _hole_png(path: Path, size: tuple[int, int], box: tuple[int, int, int, int]) -> str:
    width, height = size
    mask = torch.zeros(1, height, width)
    left, top, right, bottom = box
    mask[:, top:bottom, left:right] = 1.0
    return _png(path, mask)


def _edit(kind: str, refine: int, **fields) -> Callable[[Path], Outcome]:
    def run(folder: Path) -> Outcome:
        from texsynth.core.edits import Edit
        from texsynth.synthesis.edit import edit_image

        image = _png(folder / "image.png", pattern_image(64, 80))
        if kind == "fill":
            fields["mask"] = _hole_png(folder / "mask.png", (80, 64), (24, 20, 52, 40))
        size = fields.pop("size", None)
        edit = Edit(kind, image, refine=refine, **fields)
        result = edit_image(edit, "default", size=size, seed=3)
        precision = result.model.precision if result.model else "none"
        return Outcome(result.image, result.loss_history, precision)

    return run


def _metamer(folder: Path) -> Outcome:
    from texsynth.core.stimuli import Metamer
    from texsynth.stimuli.metamer import make_metamer

    image = _png(folder / "image.png", pattern_image(96, 96))
    result = make_metamer(Metamer(image, 0.5), "default", seed=4, iters=8)
    return Outcome(result.image, result.scales[-1].loss_history, result.model.precision)


def _control(kind: str) -> Callable[[Path], Outcome]:
    def run(folder: Path) -> Outcome:
        from texsynth.core.stimuli import Control
        from texsynth.stimuli.controls import make_control

        image = _png(folder / "image.png", pattern_image(48, 64))
        control, _ = make_control(Control(kind, image, 5))
        return Outcome(control.saved, [], "none")

    return run


def _sample(folder: Path) -> Outcome:
    """A generator trained for a few steps on the pattern, then one sample of it; the
    training's losses are the loss history."""
    from texsynth.features.generator import Generator
    from texsynth.synthesis.samples import generator_samples
    from texsynth.synthesis.train import train_generator

    image = _png(folder / "image.png", pattern_image(48, 48))
    path = folder / "pattern.gen"
    quick = {"train_size": 32, "batch": 1, "layers": "conv1_1,pool1,pool2", "structure": "off"}
    train_generator(image, output=path, steps=6, learning_rate=0.05, seed=2, **quick)
    losses = [float(v) for v in Generator.load(path).training["losses"]]
    sample = next(generator_samples(path, 1, (40, 32), seed=7))
    return Outcome(sample.image, losses, "float32")


CASES: dict[str, Callable[[Path], Outcome]] = {
    "fill": _edit("fill", 0),
    "fill_refined": _edit("fill", 6),
    "extend": _edit("extend", 0, anchor="nw", size=(112, 80)),
    "tile": _edit("tile", 0),
    "tile_refined": _edit("tile", 5, band=8),
    "metamer": _metamer,
    "control_phase": _control("phase"),
    "control_pixels": _control("pixels"),
    "sample": _sample,
}


def run_case(name: str) -> Outcome:
    with tempfile.TemporaryDirectory() as folder:
        return CASES[name](Path(folder))


if __name__ == "__main__":
    from regression_cases import store

    args = [a for a in sys.argv[1:] if a != "--replace"]
    store(run_case, args or list(CASES), DATA, replace="--replace" in sys.argv)
