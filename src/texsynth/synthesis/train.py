"""Training a feed-forward generator once, so that each new sample costs one forward pass
(Ulyanov et al. 2016): Adam on the generator's weights against the recipe's texture loss,
the very objective a synthesis minimises over pixels (Gram or tiled Gram, SWD, and the
structure terms when the source has a lattice).

The loss sees ``train_size``² samples through the circularly padded network, since the
generator's own output wraps around. Training stops at ``steps`` or after ``minutes``
(counted over resumed runs too); with an output file it writes a checkpoint every
``checkpoint_every`` minutes, at the end, and when it is stopped (Ctrl-C), and
``resume=True`` continues from that file.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch

from ..core.errors import TexsynthError
from ..core.files import check_new
from ..core.provenance import file_sha256
from ..core.recipe import Recipe, make_recipe
from ..core.training import Training
from ..features.generator import Generator, TextureGenerator
from ..image.io import ImageLike, LoadedImage, load_image, to_bytes
from .objectives import ScaleObjective, build_objective
from .target import plan_for, prepare_target

TRAINING_FIELDS = tuple(f.name for f in Training.__dataclass_fields__.values())


@dataclass
class TrainingState:
    """What a checkpoint keeps besides the weights, so that a resumed run goes on as one."""

    step: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    optimizer: dict[str, Any] = field(default_factory=dict)

    def record(self, settings: Training) -> dict[str, Any]:
        return {"settings": settings.as_dict(), "step": self.step, "seconds": self.seconds,
                "losses": self.losses, "optimizer": self.optimizer}  # fmt: skip


def train_generator(
    source: ImageLike,
    recipe: Recipe | str = "default",
    *,
    output: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    device: str | torch.device = "cpu",
    weights: Any = None,
    verify_weights: bool = True,
    progress: bool = False,
    **fields: Any,
) -> Generator:
    """Train a generator of ``source``'s texture by ``recipe`` (recipe fields and
    :class:`~texsynth.core.training.Training` fields by keyword:
    ``train_generator(src, minutes=5, loss="gram")``). With ``output`` (a ``.gen`` path)
    checkpoints go there; ``resume`` continues the training in it."""
    settings = Training(**{k: fields.pop(k) for k in TRAINING_FIELDS if k in fields})
    recipe = _trainable(make_recipe(recipe, **fields))
    out = None if output is None else Path(output)
    if out is not None and not resume:
        check_new(out, overwrite)
    image = source if isinstance(source, LoadedImage) else load_image(source)
    sha = _source_sha256(source, image)
    loss_recipe = replace(recipe, tileable=True, scales=1)
    side = settings.train_size
    target = prepare_target(image, (side, side), loss_recipe, device=device, weights=weights,
                            verify=verify_weights)  # fmt: skip
    objective = build_objective(
        target, loss_recipe, plan_for(target, loss_recipe)[-1], settings.seed
    )
    generator = _start(objective, recipe, image, sha, settings, out if resume else None)
    state = TrainingState(**{k: v for k, v in generator.training.items() if k != "settings"})
    _loop(generator, objective, settings, state, out, overwrite or resume, progress)
    return generator


def _trainable(recipe: Recipe) -> Recipe:
    for name in ("preserve_colors", "hist_match"):
        if getattr(recipe, name):
            raise TexsynthError(
                f"a generator learns the texture loss only; {name} acts after an optimisation: "
                "give it to texsynth synth GEN.gen --start generator instead"
            )
    if recipe.start != "noise":
        raise TexsynthError("a generator is trained from noise (start: noise)")
    return recipe


def _source_sha256(given: Any, image: LoadedImage) -> str:
    if isinstance(given, (str, os.PathLike)) and Path(given).is_file():
        return file_sha256(given)
    return hashlib.sha256(to_bytes(image.pixels).numpy().tobytes()).hexdigest()


def _start(
    objective: ScaleObjective,
    recipe: Recipe,
    image: LoadedImage,
    sha: str,
    settings: Training,
    resume_from: Path | None,
) -> Generator:
    """A fresh generator (seeded), or the one in ``resume_from`` after checking that it
    was trained on the same source by the same recipe."""
    if resume_from is not None and resume_from.exists():
        found = Generator.load(resume_from)
        if found.source_sha256 != sha:
            raise TexsynthError(f"{resume_from} was trained on another source; drop --resume")
        if found.recipe != recipe.as_dict():
            raise TexsynthError(f"{resume_from} was trained by another recipe; drop --resume")
        return found
    if resume_from is not None:
        raise TexsynthError(f"nothing to resume: {resume_from} does not exist")
    torch.manual_seed(settings.seed)
    network = TextureGenerator(objective.channels)
    lower, upper = objective.bounds
    network.lower.copy_(lower.flatten().cpu())
    network.upper.copy_(upper.flatten().cpu())
    pixels = to_bytes(image.pixels)
    return Generator(network, recipe.as_dict(), pixels, image.name, sha, {})


def _loop(
    generator: Generator,
    objective: ScaleObjective,
    settings: Training,
    state: TrainingState,
    output: Path | None,
    replace_output: bool,
    progress: bool,
) -> None:
    """Adam steps until ``steps`` or the time budget; checkpoints along the way."""
    from tqdm.auto import tqdm

    device = objective.model.device
    network = generator.network.to(device).train()
    adam = torch.optim.Adam(network.parameters(), lr=settings.learning_rate)
    if state.optimizer:
        adam.load_state_dict(state.optimizer)
    budget, began = settings.minutes * 60, time.perf_counter() - state.seconds
    last_saved = time.perf_counter()
    bar = tqdm(total=settings.steps, initial=state.step, disable=not progress, unit="step")

    def checkpoint() -> None:
        nonlocal replace_output, last_saved
        state.seconds, state.optimizer = time.perf_counter() - began, adam.state_dict()
        generator.training = state.record(settings)
        if output is not None:
            generator.save(output, overwrite=replace_output)
            replace_output, last_saved = True, time.perf_counter()

    try:
        while state.step < settings.steps and time.perf_counter() - began < budget:
            done = _progress(state.step, settings.steps, time.perf_counter() - began, budget)
            for group in adam.param_groups:
                group["lr"] = settings.learning_rate * 0.1**done
            loss = _step(network, objective, settings, state.step)
            adam.zero_grad(set_to_none=True)
            loss.backward()
            adam.step()
            state.step += 1
            state.losses.append(loss.item())
            objective.redraw(state.step)
            bar.update(1)
            minutes = (time.perf_counter() - began) / 60
            bar.set_postfix(loss=f"{state.losses[-1]:.4g}", min=f"{minutes:.1f}")
            if time.perf_counter() - last_saved > settings.checkpoint_every * 60:
                checkpoint()
    finally:  # also on Ctrl-C: what was learnt is kept, and --resume goes on from it
        bar.close()
        network.eval()
        checkpoint()


def _step(
    network: TextureGenerator, objective: ScaleObjective, settings: Training, step: int
) -> torch.Tensor:
    """The batch's mean texture loss (minus the diversity term when asked for)."""
    side, device = settings.train_size, objective.model.device
    first = (settings.seed << 32) + step * settings.batch
    noises = [network.noise(first + b, side, side) for b in range(settings.batch)]
    batch = network([torch.cat(zs).to(device) for zs in zip(*noises, strict=True)])
    loss = sum(objective(batch[b : b + 1]) for b in range(settings.batch)) / settings.batch
    if settings.diversity > 0 and settings.batch > 1:
        loss = loss - settings.diversity * loss.detach() * _spread(batch)
    return loss


def _spread(batch: torch.Tensor) -> torch.Tensor:
    """Mean absolute pixel difference over the batch's pairs."""
    flat = batch.flatten(1)
    return torch.cdist(flat, flat, p=1).sum() / (flat.shape[1] * len(flat) * (len(flat) - 1))


def _progress(step: int, steps: int, elapsed: float, budget: float) -> float:
    """How far training is, 0 to 1, by steps or by the clock, whichever is further. The
    clock counts in whole steps' worth of the budget: an exact time fraction moved every
    step's learning rate with the machine's load (the first step's too), so that the same
    seed trained a different generator each time even when the steps ended it."""
    return max(step, math.floor(elapsed / budget * steps)) / steps
