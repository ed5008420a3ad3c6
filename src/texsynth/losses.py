"""Losses that compare the statistics of a synthesis with a texture's target statistics.

A loss is a :class:`Loss`: a ``torch.nn.Module`` called with the feature maps of the image
being optimised (``dict`` layer → (B, N, H, W)) that returns one scalar per batch entry,
and whose :meth:`~Loss.resample` the synthesis calls after every iteration (a stochastic
loss redraws its randomness there). Losses compose by addition (:class:`WeightedSum`), so
new terms plug into the same optimisation loop without touching it.
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


class Loss(nn.Module):
    """A texture loss: features → (B,) loss; ``resample()`` after every iteration."""

    layers: list[str]

    def resample(self) -> None:
        """Redraw whatever is random in the loss (nothing, unless a subclass says so)."""


class LayerLoss(Loss):
    """A loss that is a weighted sum over layers, Σ_l w_l E_l, of per-layer terms E_l
    against per-layer targets (registered as buffers ``target_LAYER``)."""

    def __init__(
        self, targets: Mapping[str, torch.Tensor], layer_weights: Mapping[str, float] | None = None
    ) -> None:
        super().__init__()
        self.layers = list(targets)
        self.layer_weights = {k: 1.0 for k in self.layers} | dict(layer_weights or {})
        for name, t in targets.items():
            self.register_buffer(f"target_{name}", t)

    def target(self, layer: str) -> torch.Tensor:
        return getattr(self, f"target_{layer}")

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Unweighted E_l per layer, each of shape (B,)."""
        raise NotImplementedError

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        per_layer = self.layer_losses(features)
        return sum(self.layer_weights[k] * v for k, v in per_layer.items())


class GramLoss(LayerLoss):
    """Σ_l w_l E_l over the layers of ``targets`` (the paper's texture loss)."""

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


class WeightedSum(Loss):
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

    def resample(self) -> None:
        for term in self.terms:
            term.resample()


class SlicedWassersteinLoss(LayerLoss):
    """Sliced Wasserstein loss of Heitz et al. 2021 on the feature distributions of layers.

    Each layer's feature vectors (one per position) of the image being optimised and of the
    source are projected on random unit directions; the sorted projections are matched
    (squared differences, averaged), which matches the whole 1-D distribution along each
    direction rather than only its second moments as a Gram matrix does. Directions are
    redrawn by :meth:`resample` (``synthesize`` calls it after every iteration, so the line
    search of one iteration sees one fixed function). Source and synthesis sizes may differ:
    the source's sorted projections are resampled to the synthesis's number of positions.

    Args:
        targets: layer → (N, M) source features.
        layer_weights: w_l per layer (default 1).
        directions: directions per layer (default N, as Heitz et al.).
        seed: seed of the direction generator.
    """

    def __init__(
        self,
        targets: Mapping[str, torch.Tensor],
        layer_weights: Mapping[str, float] | None = None,
        directions: int | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(targets, layer_weights)
        self.n_directions = directions
        self.generator = torch.Generator().manual_seed(seed)
        self.resample()

    def resample(self) -> None:
        """Draw new random unit directions for every layer."""
        for name in self.layers:
            target = self.target(name)
            n = target.shape[0]
            v = random_unit_vectors(self.n_directions or n, n, self.generator)
            self.register_buffer(f"directions_{name}", v.to(target.device, target.dtype))
            # The source's sorted projections change only with the directions.
            self.register_buffer(f"sorted_{name}", (v.to(target) @ target).sort(dim=1)[0])

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name in self.layers:
            dirs = getattr(self, f"directions_{name}")
            f = features[name].flatten(2)  # (B, N, M)
            proj = torch.einsum("dn,bnm->bdm", dirs.to(f.dtype), f).sort(dim=2)[0]
            target = resample_sorted(getattr(self, f"sorted_{name}"), proj.shape[2])
            out[name] = ((proj - target.to(proj.dtype)) ** 2).mean(dim=(1, 2))
        return out


def random_unit_vectors(
    count: int, dim: int, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """(count, dim) directions drawn uniformly on the unit sphere."""
    v = torch.randn(count, dim, generator=generator, dtype=dtype)
    return v / v.norm(dim=1, keepdim=True)


def resample_sorted(sorted_values: torch.Tensor, n: int) -> torch.Tensor:
    """(D, M) sorted rows → (D, n): the empirical quantile function, linearly interpolated,
    at n evenly spaced levels (how distributions of different sizes are compared)."""
    m = sorted_values.shape[1]
    if m == n:
        return sorted_values
    pos = ((torch.arange(n, device=sorted_values.device) + 0.5) * m / n - 0.5).clamp(0, m - 1)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=m - 1)
    frac = (pos - lo).to(sorted_values.dtype)
    return sorted_values[:, lo] * (1 - frac) + sorted_values[:, hi] * frac


class GuidedGramLoss(Loss):
    """Gram loss with spatial guidance: region r of the output gets source r's texture.

    As in Gatys et al. 2017 (*Controlling perceptual factors in neural style transfer*):
    each region's Gram matrices are taken over the feature maps weighted by that region's
    mask, shrunk to the layer's resolution by area averaging,
    G_r = Σ_p m_r(p)² F(p) F(p)ᵀ / Σ_p m_r(p)², and matched to source r's Gram matrices.

    Args:
        targets: one layer → Gram mapping per region (source).
        masks: (R, H, W) region masks at the output's resolution, values in [0, 1].
        layer_weights: w_l per layer (default 1).
    """

    def __init__(
        self,
        targets: Sequence[Mapping[str, torch.Tensor]],
        masks: torch.Tensor,
        layer_weights: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        if masks.dim() != 3 or masks.shape[0] != len(targets):
            raise ValueError("need one (H, W) mask per target")
        self.terms = nn.ModuleList(GramLoss(t, layer_weights) for t in targets)
        self.layers = self.terms[0].layers
        self.register_buffer("masks", masks.float())

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        total = 0
        for r, term in enumerate(self.terms):
            weighted = {}
            for name in self.layers:
                f = features[name]
                m = torch.nn.functional.adaptive_avg_pool2d(
                    self.masks[r][None, None].to(f.dtype), f.shape[-2:]
                )
                # gram_matrix divides by the positions; rescale to divide by Σ m² instead.
                scale = (m.numel() / (m**2).sum().clamp_min(1e-12)).sqrt()
                weighted[name] = f * m * scale
            total = total + term(weighted)
        return total
