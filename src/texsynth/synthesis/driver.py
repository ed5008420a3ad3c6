"""The one driver of every kind of run: a plan of scales, at each an objective, a start and
a stop rule, the recipe's optimiser, and the hooks that watch it (:func:`run_plan`).
``synthesize``, the edits' refinement and the metamer all run through it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from ..core.errors import ImageError
from ..core.recipe import Recipe
from ..core.registry import OPTIMIZERS
from ..optimize.lbfgs import Callback, Optimizer, StopRule
from .hooks import RunHooks
from .objectives import ScaleObjective
from .result import ScaleRecord
from .scales import Scale, upsample


def white_noise(
    channels: int, height: int, width: int, lower: torch.Tensor, upper: torch.Tensor, seed: int
) -> torch.Tensor:
    """Seeded uniform white noise in each channel's [lower, upper], shape (1, C, H, W).

    Drawn on the CPU with its own generator, so the start is the same on every device.
    """
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand((1, channels, height, width), generator=gen)
    return lower.view(1, -1, 1, 1) + u * (upper - lower).view(1, -1, 1, 1)


def start_image(
    objective: ScaleObjective,
    scale: Scale,
    previous: torch.Tensor | None,
    init: torch.Tensor | None,
    seed: int,
) -> torch.Tensor:
    """The previous scale's result upsampled; at the first scale ``init`` or white noise."""
    lower, upper = (b.cpu() for b in objective.bounds)
    if previous is not None:
        init = previous[0].detach().cpu().clamp(0, 1)
    if init is None:
        noise = white_noise(objective.channels, scale.height, scale.width, lower, upper, seed)
        return noise.to(objective.model.device)
    x = init.detach().float().cpu()
    if x.dim() != 3:
        raise ImageError(f"an initial image must be (C, H, W), not {tuple(x.shape)}")
    if x.shape[0] != objective.channels:
        x = x.mean(0, keepdim=True) if objective.channels == 1 else x[:1].expand(3, -1, -1)
    return upsample(x, scale.width, scale.height).clamp(lower, upper).to(objective.model.device)


def stop_rule(recipe: Recipe) -> StopRule:
    """The recipe's stop rule, the same at every scale."""
    return StopRule(tol=recipe.tol, change=recipe.stop_change)


def run_scale(
    objective: ScaleObjective,
    x0: torch.Tensor,
    scale: Scale,
    stop: StopRule,
    optimizer: Optimizer,
    on_iteration: Callback,
) -> tuple[torch.Tensor, ScaleRecord]:
    """Optimise the pixels at one scale; the result and what happened."""
    lower, upper = objective.bounds
    start = time.perf_counter()
    result = optimizer.minimize(
        objective, x0, lower, upper, max_iter=scale.iters, stop=stop, callback=on_iteration
    )
    record = ScaleRecord(
        scale.size, result.loss_history, result.iterations, result.evaluations,
        result.stop_reason, time.perf_counter() - start, type(objective.loss).__name__,
    )  # fmt: skip
    return result.x, record


@dataclass
class ScaleSetup:
    """What one scale of a run optimises: its objective, its start and its stop rule."""

    objective: ScaleObjective
    start: torch.Tensor
    stop: StopRule


# Builds scale ``index`` of a plan from the previous scale's result (None at the first).
Prepare = Callable[[int, Scale, "torch.Tensor | None"], ScaleSetup]


def run_plan(
    plan: list[Scale], prepare: Prepare, optimizer_name: str, hooks: RunHooks
) -> tuple[torch.Tensor, list[ScaleRecord], ScaleObjective]:
    """Run every scale of ``plan``, coarsest first, each from ``prepare``'s setup, with the
    optimiser ``optimizer_name`` of ``registry.OPTIMIZERS``; the last scale's pixels
    (1, C, H, W), what happened at each scale, and the last objective."""
    optimizer: Optimizer = OPTIMIZERS[optimizer_name]()
    # The first scale is set up before the progress bar, so a loss that cannot be built
    # (SWD of saved statistics) is one line on stderr, not a line after a bar.
    setup = prepare(0, plan[0], None)
    records: list[ScaleRecord] = []
    x = None
    with hooks.over(plan):
        for index, scale in enumerate(plan):
            if index:
                setup = prepare(index, scale, x)
            on_iteration = hooks.at(index)
            x, record = run_scale(
                setup.objective, setup.start, scale, setup.stop, optimizer, on_iteration
            )
            records.append(record)
    return x, records, setup.objective  # type: ignore[return-value]
