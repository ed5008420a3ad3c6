"""Losses that compare the statistics of a synthesis with a texture's target statistics.

A loss is a ``torch.nn.Module`` called with the feature maps of the image being optimised
(``dict`` layer → (B, N, H, W)) and returning one scalar per batch entry summed over layers.
Losses compose by addition (:class:`WeightedSum`), so new terms plug into the same
optimisation loop without touching it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from .statistics import gram_matrix


def gram_layer_loss(gram: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """E_l = Σ (Ĝ − G)² / (4 N²) of Gatys et al. 2015, for (B, N, N) against (N, N).

    With G normalised by the number of positions M (as the authors' code does), the paper's
    1/(4 N² M²) becomes 1/(4 N²).
    """
    n = target.shape[-1]
    return ((gram - target) ** 2).sum(dim=(-2, -1)) / (4.0 * n * n)


class GramLoss(nn.Module):
    """Σ_l w_l E_l over the layers of ``targets`` (the paper's texture loss)."""

    def __init__(
        self, targets: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float] | None = None
    ) -> None:
        super().__init__()
        self.layers = list(targets)
        self.layer_weights = {k: 1.0 for k in self.layers} | dict(layer_weights or {})
        for name, g in targets.items():
            self.register_buffer(f"target_{name}", g)

    def target(self, layer: str) -> torch.Tensor:
        return getattr(self, f"target_{layer}")

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Unweighted E_l per layer, each of shape (B,)."""
        out = {}
        for name in self.layers:
            target, f = self.target(name), features[name]
            # Accumulate the Gram matrix in at least the target's precision (e.g. float32
            # targets for bfloat16 features).
            f = f.to(torch.promote_types(f.dtype, target.dtype))
            out[name] = gram_layer_loss(gram_matrix(f), target)
        return out

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        per_layer = self.layer_losses(features)
        return sum(self.layer_weights[k] * v for k, v in per_layer.items())


class WeightedSum(nn.Module):
    """Compose losses: Σ_i c_i · loss_i(features)."""

    def __init__(
        self, losses: Sequence[nn.Module], coefficients: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        self.terms = nn.ModuleList(losses)
        self.coefficients = list(coefficients) if coefficients is not None else [1.0] * len(losses)
        if len(self.coefficients) != len(self.terms):
            raise ValueError("need one coefficient per loss")

    @property
    def layers(self) -> list[str]:
        names: list[str] = []
        for term in self.terms:
            names += [n for n in term.layers if n not in names]
        return names

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return sum(
            c * term(features) for c, term in zip(self.coefficients, self.terms, strict=True)
        )
