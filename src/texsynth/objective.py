"""The losses a recipe names (``registry.LOSSES``), built for one scale of a synthesis.

A loss factory receives an :class:`ObjectiveTarget`: the texture model, the source's
statistics at this scale, the source image when there is exactly one, and, for spatial
guidance, each region's statistics and masks. It returns a :class:`~texsynth.losses.Loss`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .errors import TexsynthError
from .image_io import LoadedImage
from .losses import GuidedGramLoss, Loss, WeightedSum
from .statistics import TextureStatistics
from .texture_model import TextureModel


@dataclass
class ObjectiveTarget:
    """What a loss at one scale is matched to."""

    model: TextureModel  # the model whose features the loss receives (its statistics' model)
    statistics: TextureStatistics  # the source's, at this scale
    image: LoadedImage | None  # the source at this scale; None for pooled or saved statistics
    seed: int  # for losses that draw random numbers
    regions: list[TextureStatistics] | None = None  # guidance: one texture per region …
    masks: torch.Tensor | None = None  # … and (R, H, W) region masks at the output size

    def source_image(self, loss: str) -> LoadedImage:
        if self.image is None:
            raise TexsynthError(f"the {loss} loss needs a single source image, not statistics")
        return self.image

    def unguided(self, loss: str) -> None:
        if self.regions is not None:
            raise TexsynthError(f"spatial guidance works with the Gram loss only, not {loss}")


def gram(target: ObjectiveTarget) -> Loss:
    """The paper's Gram loss; with a guide, one guided Gram term per region."""
    model = target.model
    if target.regions is None:
        return model.loss(target.statistics)
    grams = [s.subset(model.layers).grams for s in target.regions]
    return GuidedGramLoss(grams, target.masks, model.layer_weights)


def sliced_wasserstein(target: ObjectiveTarget) -> Loss:
    """Heitz et al.'s sliced Wasserstein loss (needs the source image)."""
    target.unguided("swd")
    return target.model.swd_loss(target.source_image("swd"), seed=target.seed)


def gram_and_swd(target: ObjectiveTarget) -> Loss:
    """Both, with equal weights."""
    target.unguided("gram+swd")
    swd = target.model.swd_loss(target.source_image("gram+swd"), seed=target.seed)
    return WeightedSum([target.model.loss(target.statistics), swd])
