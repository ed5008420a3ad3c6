"""The loss at one scale, as the optimiser calls it (:class:`ScaleObjective`), built from a
recipe against the source shrunk to that scale (:func:`build_objective`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.recipe import Recipe
from ..core.registry import LOSSES, STRUCTURES
from ..image.lattice import Lattice
from ..losses.objective import LossContext, pixel_histogram, spectrum_constraint
from ..losses.terms import IMAGE, CalibratedSum, Loss
from ..statistics.gram import StatisticsCache, TextureStatistics
from ..statistics.model import TextureModel
from .scales import Scale
from .target import PreparedTarget, scale_source


@dataclass
class ScaleObjective:
    """The loss at one scale, as the optimiser calls it: pixels → scalar."""

    loss: Loss
    model: TextureModel
    statistics: TextureStatistics  # the source's at this scale: pixel bounds and channels

    redraw_every: int = 0  # iterations between redraws of a stochastic loss (0: never)
    # (pixels, movable): an image at this scale, (1, C, H, W), and the (1, 1, H, W) mask of
    # the pixels that may move (an edit's hole, a metamer's periphery). The loss sees
    # ``pixels`` in place of x outside ``movable``, so their gradient is zero and they never
    # move (texsynth.synthesis.edit, .metamer).
    pinned: tuple[torch.Tensor, torch.Tensor] | None = None
    # The share of the pixels that can move (an edit's hole): the optimiser's first step,
    # a mean over every pixel, is scaled by it (else a small hole would take a first step
    # many times the usual).
    moving_share: float = 1.0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.pinned is not None:
            pixels, movable = self.pinned
            x = torch.where(movable, x, pixels)
        return self.loss(self.model.features(x) | {IMAGE: x}).sum()

    def redraw(self, iteration: int) -> bool:
        """After ``iteration``: redraw a stochastic loss's random numbers when due; True
        when the function changed (the optimiser then restarts its curvature memory)."""
        due = self.redraw_every and iteration % self.redraw_every == 0
        if not (due and self.loss.stochastic):
            return False
        self.loss.resample()
        return True

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel pixel bounds, (1, C, 1, 1) on the model's device."""
        lower, upper = self.statistics.pixel_min.float(), self.statistics.pixel_max.float()
        shape = (1, -1, 1, 1)
        return lower.view(shape).to(self.model.device), upper.view(shape).to(self.model.device)

    @property
    def channels(self) -> int:
        return 1 if self.statistics.grayscale else 3


def build_objective(
    target: PreparedTarget,
    recipe: Recipe,
    scale: Scale,
    seed: int,
    cache: StatisticsCache | None = None,
) -> ScaleObjective:
    """The recipe's loss against the source shrunk to ``scale``.

    The source's statistics come from the zero-padded model at every scale, also for
    tileable output: the source itself does not wrap around.
    """
    statistics, image = scale_source(target, scale, cache)
    masks = None
    if target.labels is not None:
        masks = _region_masks(target.labels, len(target.regions), scale)  # type: ignore[arg-type]
    lattice = _halved_lattice(target.lattice, scale.halvings)
    context = LossContext(
        target.stats_model, statistics, image, seed, target.regions, masks, scale.size, lattice,
        target.morph if not scale.halvings else None,
    )  # fmt: skip
    loss = LOSSES[recipe.loss](context)
    if recipe.spectrum_weight > 0:  # a plain coefficient, as the papers weight it
        spectrum = spectrum_constraint(context)
        loss = CalibratedSum(loss, spectrum, recipe.spectrum_weight, None, "spectrum")
    if _structure_at(recipe, target, scale):
        structure = STRUCTURES[recipe.structure_loss](context)
        fixed = recipe.structure_weighting == "fixed"
        calibration = None if fixed else target.calibration
        loss = CalibratedSum(loss, structure, recipe.structure_weight, calibration)
    if recipe.histogram_weight > 0 and (recipe.histogram_scales == "all" or not scale.halvings):
        histogram = pixel_histogram(context)
        loss = CalibratedSum(
            loss, histogram, recipe.histogram_weight, target.calibration, "histogram"
        )
    device = target.synth_model.device
    return ScaleObjective(loss.to(device), target.synth_model, statistics, recipe.redraw_every)


def _structure_at(recipe: Recipe, target: PreparedTarget, scale: Scale) -> bool:
    """Whether the recipe's structure term applies at ``scale``."""
    wanted = recipe.structure == "on" or (recipe.structure == "auto" and target.lattice)
    return bool(wanted) and (recipe.structure_scales == "all" or scale.halvings > 0)


def _halved_lattice(lattice: Lattice | None, halvings: int) -> Lattice | None:
    if lattice is None or not halvings:
        return lattice
    lags = tuple((round(dy / 2**halvings), round(dx / 2**halvings)) for dy, dx in lattice.lags)
    return Lattice(lags, lattice.prominence)


def _region_masks(labels: torch.Tensor, regions: int, scale: Scale) -> torch.Tensor:
    masks = torch.stack([(labels == r).float() for r in range(regions)])
    size = (scale.height, scale.width)
    return torch.nn.functional.interpolate(masks[None], size=size, mode="nearest")[0]
