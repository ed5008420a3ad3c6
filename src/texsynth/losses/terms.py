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
import torch.nn.functional as F
from torch import nn

from ..image.lattice import autocorrelations
from ..statistics.gram import gram_matrix, tile_gram_matrices


def gram_layer_loss(gram: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """E_l = Σ (Ĝ − G)² / (4 N²) of Gatys et al. 2015, for (B, N, N) against (N, N).

    With G normalised by the number of positions M (as the authors' code does), the paper's
    1/(4 N² M²) becomes 1/(4 N²).
    """
    n = target.shape[-1]
    return ((gram - target) ** 2).sum(dim=(-2, -1)) / (4.0 * n * n)


# The key under which the pixels themselves reach a loss, beside the network's layers.
IMAGE = "image"


class Loss(nn.Module):
    """A texture loss: features → (B,) loss.

    ``features`` maps layer names to (B, N, H, W) maps, and :data:`IMAGE` to the (B, C, H, W)
    pixels, for terms that look at the image itself. A ``stochastic`` loss draws random
    numbers (SWD's directions); ``resample()`` redraws them, on the schedule of the recipe's
    ``redraw_every``.
    """

    layers: list[str]
    stochastic = False

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


class TiledGramLoss(LayerLoss):
    """The paper's Gram loss taken tile by tile: E_l = Σ_t s_t (Ĝ_t − G)² / (4 N²) over a
    grid of tiles, each tile's Gram matrix Ĝ_t matched to the source's G and weighed by its
    share s_t of the positions (tiles cut by the output's edge are smaller).

    One Gram matrix over a large output is an average that local regions are free to break:
    half-transparent blends of the texture's elements satisfy it. Tiles the size of the
    source must each hold what the source holds. The share-weighted mean of the tiles' Gram
    matrices is the whole image's, so the whole-image loss is never larger than this one
    (Jensen): it is matched too. The targets should hold no image border
    (:func:`texsynth.losses.objective.tiled_gram` says why).

    Args:
        targets: layer → (N, N) source Gram matrices.
        tiles: (rows, columns) of whole tiles that fit the output, the same for every layer.
        layer_weights: w_l per layer (default 1).
    """

    def __init__(
        self,
        targets: Mapping[str, torch.Tensor],
        tiles: tuple[int, int],
        layer_weights: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(targets, layer_weights)
        self.tiles = tiles

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name in self.layers:
            target, f = self.target(name), features[name]
            dtype = torch.promote_types(f.dtype, target.dtype)
            grams, shares = tile_gram_matrices(f, self.tiles, dtype)
            out[name] = (gram_layer_loss(grams, target) * shares).sum(dim=1)
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

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return any(term.stochastic for term in self.terms)


class SlicedWassersteinLoss(LayerLoss):
    """Sliced Wasserstein loss of Heitz et al. 2021 on the feature distributions of layers.

    Each layer's feature vectors (one per position) of the image being optimised and of the
    source are projected on random unit directions; the sorted projections are matched
    (squared differences, averaged), which matches the whole 1-D distribution along each
    direction rather than only its second moments as a Gram matrix does. Directions are
    redrawn by :meth:`resample`: ``synthesize`` does so every ``redraw_every`` iterations
    and restarts L-BFGS's memory then, as Heitz et al. redraw them for each call of
    L-BFGS (one fixed function per stretch of iterations, so that the curvature pairs and
    the line search describe one function). Source and synthesis sizes may differ:
    the source's sorted projections are resampled to the synthesis's number of positions.

    Several sources with ``weights`` (a morph) give the sliced Wasserstein barycentre as
    target (Bonneel et al. 2015): along each direction, the weighted mean of the sources'
    quantile functions, which in 1-D is exactly the Wasserstein-2 barycentre.

    Args:
        targets: layer → (N, M) source features; or one such mapping per source.
        layer_weights: w_l per layer (default 1).
        directions: directions per layer (default N, as Heitz et al.).
        seed: seed of the direction generator.
        weights: with several sources, each one's weight (summing to 1).
    """

    stochastic = True

    def __init__(
        self,
        targets: Mapping[str, torch.Tensor] | Sequence[Mapping[str, torch.Tensor]],
        layer_weights: Mapping[str, float] | None = None,
        directions: int | None = None,
        seed: int = 0,
        weights: Sequence[float] | None = None,
    ) -> None:
        sources = [targets] if isinstance(targets, Mapping) else list(targets)
        super().__init__(sources[0], layer_weights)
        self.source_weights = [float(w) for w in (weights or [1.0] * len(sources))]
        if len(self.source_weights) != len(sources):
            raise ValueError("give one weight per source")
        for i, others in enumerate(sources[1:], start=1):
            for name, t in others.items():
                self.register_buffer(f"source{i}_{name}", t)
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
            self.register_buffer(f"sorted_{name}", self._sorted_target(name, v.to(target)))

    def _sorted_target(self, name: str, directions: torch.Tensor) -> torch.Tensor:
        """The target's sorted projections: the source's, or the weighted mean of the
        sources' quantile functions, each at the largest source's number of positions."""
        sources = [self.target(name)] + [
            getattr(self, f"source{i}_{name}") for i in range(1, len(self.source_weights))
        ]
        count = max(s.shape[1] for s in sources)
        return sum(
            w * resample_sorted((directions @ s).sort(dim=1)[0], count)
            for w, s in zip(self.source_weights, sources, strict=True)
        )

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


class CalibratedSum(Loss):
    """``texture + weight · c · structure``, with c set at the first evaluation of a run so
    that the structure term then equals the texture term: one ``weight`` then means the same
    for every texture, where a fixed coefficient is a sharp knob (the terms' scales differ
    by orders of magnitude between textures). ``calibration`` is shared by the scales of a
    run, so c is measured once, on the white-noise start. ``calibration=None`` fixes c = 1:
    ``weight`` is then a plain coefficient (the papers' fixed weights).
    """

    def __init__(
        self,
        texture: Loss,
        structure: Loss,
        weight: float,
        calibration: dict[str, float] | None,
        key: str = "ratio",
    ) -> None:
        super().__init__()
        self.texture, self.structure = texture, structure
        self.weight, self.calibration, self.key = weight, calibration, key
        self.layers = list(dict.fromkeys([*texture.layers, *structure.layers]))

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        texture, structure = self.texture(features), self.structure(features)
        if self.calibration is None:
            return texture + self.weight * structure
        if self.key not in self.calibration:
            ratio = texture.detach().sum() / structure.detach().sum().clamp_min(1e-30)
            self.calibration[self.key] = float(ratio)
        return texture + self.weight * self.calibration[self.key] * structure

    def resample(self) -> None:
        self.texture.resample()
        self.structure.resample()

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return self.texture.stochastic or self.structure.stochastic


class PixelHistogramLoss(Loss):
    """Each channel's pixel histogram against the source's: the mean squared difference
    between the sorted pixels and the source's pixels at the same ranks, which is the
    squared 1-D Wasserstein-2 distance (the sliced Wasserstein loss of Heitz et al. 2021 on
    pixels, along the channel axes). A Gram matrix constrains only the pixels' second
    moments through the network, so histograms drift; this pins them.

    Several sources with ``weights`` (a morph) give the 1-D Wasserstein barycentre of their
    histograms: the weighted mean of their pixels at the same ranks.

    Args:
        source: (C, H, W) source pixels (any size: compared by rank); or several.
        weights: with several sources, each one's weight (summing to 1).
    """

    def __init__(
        self, source: torch.Tensor | Sequence[torch.Tensor], weights: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        self.layers: list[str] = []  # it looks at the pixels only
        sources = [source] if isinstance(source, torch.Tensor) else list(source)
        ranked = [s.flatten(1).float().sort(dim=1).values for s in sources]
        count = max(r.shape[1] for r in ranked)
        shares = weights or [1.0] * len(sources)
        mean = sum(w * ranks_at(r, count) for w, r in zip(shares, ranked, strict=True))
        self.register_buffer("ranked", mean)

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        x = features[IMAGE].float().flatten(2)  # (B, C, N)
        target = ranks_at(self.ranked, x.shape[-1])
        return ((x.sort(dim=2).values - target) ** 2).mean(dim=(1, 2))


def ranks_at(ranked: torch.Tensor, count: int) -> torch.Tensor:
    """(C, M) sorted rows → (C, count): the values at ``count`` evenly spaced ranks, the
    first and last kept (linear interpolation between neighbours)."""
    if ranked.shape[1] == count:
        return ranked
    where = torch.linspace(0, 1, count, device=ranked.device)[None, None]
    grid = torch.stack([where * 2 - 1, torch.zeros_like(where)], dim=-1)  # (1, 1, N, 2)
    line = ranked[None, :, None, :]  # (1, C, 1, M)
    return F.grid_sample(line, grid, align_corners=True)[0, :, 0]


class SpectrumLoss(Loss):
    """The spectrum constraint of Liu, Gousseau & Xia 2016: ½‖x − P(x)‖² per pixel.

    P(x) is the image nearest to x whose Fourier transform has the target's modulus in
    every channel and the target's phase differences between channels, up to one phase
    shift per frequency shared by the channels (the shift that best fits x). A Gram matrix
    is blind to where things are; the Fourier modulus is blind to nothing periodic, so a
    lattice comes back. P(x) is held fixed in the gradient, which is then x − P(x): the
    gradient of half the squared distance to the set of such images.

    Args:
        target: (C, H, W) image at the synthesis's size whose spectrum is imposed (see
            :func:`texsynth.losses.objective.spectrum_target`). FFTs run in float32.
    """

    def __init__(self, target: torch.Tensor) -> None:
        super().__init__()
        self.layers: list[str] = []  # it looks at the pixels only
        self.register_buffer("spectrum", torch.fft.rfft2(target.float()))

    @torch.no_grad()
    def projection(self, x: torch.Tensor) -> torch.Tensor:
        """P(x) for (B, C, H, W) ``x``."""
        spectrum = torch.fft.rfft2(x.float())
        shared = (spectrum * self.spectrum.conj()).sum(dim=1, keepdim=True)
        magnitude = shared.abs()
        phase = torch.where(magnitude > 0, shared / magnitude.clamp_min(1e-30), 1)
        return torch.fft.irfft2(self.spectrum * phase, s=x.shape[-2:])

    def forward(self, features: Mapping[str, torch.Tensor]) -> torch.Tensor:
        x = features[IMAGE].float()
        return 0.5 * ((x - self.projection(x)) ** 2).flatten(1).mean(1)


class ShiftedGramLoss(LayerLoss):
    """Gram matrices of feature maps against their own shifted copies (Berger & Memisevic
    2017): G^δ = F(p) F(p + δ)ᵀ / M over the positions where both exist. At shifts along a
    texture's lattice vectors they say how parts relate one period apart, which the plain
    Gram matrix (δ = 0) averages away.

    Args:
        targets: layer → (K, N, N) target matrices, one per shift.
        shifts: layer → K shifts (dy, dx) in that layer's positions.
        layer_weights: w_l per layer (default 1).
    """

    def __init__(
        self,
        targets: Mapping[str, torch.Tensor],
        shifts: Mapping[str, Sequence[tuple[int, int]]],
        layer_weights: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(targets, layer_weights)
        self.shifts = {name: list(shifts[name]) for name in self.layers}

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name in self.layers:
            target = self.target(name)
            f = features[name]
            f = f.to(torch.promote_types(f.dtype, target.dtype))
            grams = torch.stack([shifted_gram(f, s) for s in self.shifts[name]], dim=1)
            n = target.shape[-1]
            out[name] = ((grams - target) ** 2).sum(dim=(-3, -2, -1)) / (
                4.0 * n * n * len(grams[0])
            )
        return out


def shifted_gram(features: torch.Tensor, shift: tuple[int, int]) -> torch.Tensor:
    """(B, N, N): F(p) F(p + shift)ᵀ averaged over the positions where both exist."""
    dy, dx = shift
    _, _, h, w = features.shape
    a = features[..., max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    b = features[..., max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)]
    a, b = a.flatten(2), b.flatten(2)
    return torch.bmm(a, b.transpose(1, 2)) / a.shape[-1]


class FeatureAutocorrelationLoss(LayerLoss):
    """The autocorrelation of every feature map, matched lag by lag (after Gonthier,
    Gousseau & Ladjal 2022). Each channel's correlation with itself shifted by every lag up
    to ``max_lag`` positions, averaged over the positions where both exist, says where its
    parts recur: long-range arrangement that a Gram matrix (lag 0, across channels) loses.

    Args:
        targets: layer → (N, 2L+1, 2L+1) source autocorrelations (:func:`autocorrelations`).
        layer_weights: w_l per layer (default 1).
    """

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name in self.layers:
            target = self.target(name)
            max_lag = (target.shape[-1] - 1) // 2
            # FFTs in at least the target's precision: bf16 has no FFT, and its sums drift.
            f = features[name]
            found = autocorrelations(f.to(torch.promote_types(f.dtype, target.dtype)), max_lag)
            out[name] = ((found - target) ** 2).mean(dim=(1, 2, 3))
        return out


class PatchMatchLoss(LayerLoss):
    """Nearest-neighbour matching of feature patches (Li & Wand 2016, CNNMRF), where a
    region asks for it: each 3×3 patch of a layer's maps inside the region is pulled
    towards the source patch most like it (normalised cross-correlation), the match
    redone at every evaluation and held fixed in the gradient.

    A Gram matrix averages over positions and cannot say where an edge must continue;
    a patch that straddles a hole's boundary can only match a source patch that holds the
    kept side as it is, so lines and courses of bricks carry on into the hole.

    Args:
        sources: layer → (D, M) source patches (3×3 neighbourhoods of the maps, flattened).
        region: (1, H, W) mask at the image's resolution; a layer's patches are compared
            where its area average is non-zero.
        layer_weights: w_l per layer (default 1).
    """

    def __init__(
        self,
        sources: Mapping[str, torch.Tensor],
        region: torch.Tensor,
        layer_weights: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__(sources, layer_weights)
        self.register_buffer("region", region.float())
        for name in self.layers:
            patches = self.target(name)
            normed = patches / patches.norm(dim=0, keepdim=True).clamp_min(1e-12)
            self.register_buffer(f"normed_{name}", normed)

    def layer_losses(self, features: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        out = {}
        for name in self.layers:
            f = features[name].float()
            where = torch.nn.functional.adaptive_avg_pool2d(self.region[None], f.shape[-2:])
            queries = feature_patches(f)[:, :, where.flatten() > 0]  # (B, D, K)
            with torch.no_grad():
                normed = queries / queries.norm(dim=1, keepdim=True).clamp_min(1e-12)
                nearest = torch.einsum("dm,bdk->bkm", getattr(self, f"normed_{name}"), normed)
                nearest = nearest.argmax(dim=2)  # (B, K)
            matched = self.target(name)[:, nearest].permute(1, 0, 2)  # (B, D, K)
            out[name] = ((queries - matched) ** 2).mean(dim=(1, 2))
        return out


def feature_patches(features: torch.Tensor) -> torch.Tensor:
    """(B, N·9, H·W): every position's 3×3 neighbourhood of (B, N, H, W) maps (zero-padded)."""
    return torch.nn.functional.unfold(features, 3, padding=1)
