"""How close an image's texture statistics are to a target's, on any texture model.

The synthesis loss is the wrong yardstick for comparing models: each model's loss has its
own scale (a random network's Gram entries can be 10⁶ times a normalised one's) and a model
always looks good by its own measure. The relative Gram error is scale-free, and evaluating
one model's synthesis with *another* model (a held-out judge) shows whether it captured
what that model sees.
"""

from __future__ import annotations

import torch

from .statistics import TextureStatistics, gram_matrix
from .texture_model import TextureModel


@torch.no_grad()
def relative_gram_errors(
    model: TextureModel, image: torch.Tensor, target: TextureStatistics
) -> dict[str, float]:
    """‖Ĝ_l − G_l‖_F / ‖G_l‖_F per layer of ``model`` for one (C, H, W) image in [0, 1]."""
    feats = model.features(image.unsqueeze(0).to(model.device))
    out = {}
    for name in model.layers:
        g_target = target.grams[name].to(model.device).double()
        g = gram_matrix(feats[name].double())[0]
        out[name] = float(torch.linalg.norm(g - g_target) / torch.linalg.norm(g_target))
    return out


def relative_gram_error(
    model: TextureModel, image: torch.Tensor, target: TextureStatistics
) -> float:
    """Mean over layers of :func:`relative_gram_errors` (0 = identical statistics)."""
    errors = relative_gram_errors(model, image, target)
    return sum(errors.values()) / len(errors)
