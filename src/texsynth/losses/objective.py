"""The losses a recipe names, built for one scale of a synthesis.

``registry.LOSSES`` match the texture (Gram, SWD); ``registry.STRUCTURES`` add long-range
structure on top (the spectrum constraint, shifted Gram matrices). A factory receives an
:class:`LossContext`: the texture model, the source's statistics at this scale, the
source image when there is exactly one, the synthesis's size, the source's lattice, and,
for spatial guidance, each region's statistics and masks. It returns a
:class:`~texsynth.losses.terms.Loss`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..core.errors import TexsynthError
from ..image.io import LoadedImage
from ..image.lattice import Lattice, autocorrelations
from ..statistics.gram import TextureStatistics, gram_matrix
from ..statistics.model import TextureModel
from .terms import (
    FeatureAutocorrelationLoss,
    GramLoss,
    GuidedGramLoss,
    Loss,
    PixelHistogramLoss,
    ShiftedGramLoss,
    SlicedWassersteinLoss,
    SpectrumLoss,
    TiledGramLoss,
    WeightedSum,
    shifted_gram,
)


@dataclass(frozen=True)
class Morph:
    """A morph: the weight of the second source (the task's ``mix``) and the two source
    images (None when a source is saved statistics, which only the Gram terms can use)."""

    mix: float
    images: tuple[LoadedImage, LoadedImage] | None = None

    @property
    def weights(self) -> tuple[float, float]:
        return (1.0 - self.mix, self.mix)

    def sources(self, loss: str) -> tuple[LoadedImage, LoadedImage]:
        if self.images is None:
            raise TexsynthError(f"a morph with the {loss} term needs two images, not statistics")
        return self.images


@dataclass
class LossContext:
    """What a loss at one scale is matched to."""

    model: TextureModel  # the model whose features the loss receives (its statistics' model)
    statistics: TextureStatistics  # the source's, at this scale
    image: LoadedImage | None  # the source at this scale; None for pooled or saved statistics
    seed: int  # for losses that draw random numbers
    regions: list[TextureStatistics] | None = None  # guidance: one texture per region …
    masks: torch.Tensor | None = None  # … and (R, H, W) region masks at the output size
    size: tuple[int, int] | None = None  # (width, height) of the synthesis at this scale
    lattice: Lattice | None = None  # the source's lattice, in this scale's pixels
    # A morph between two source images: the losses that can interpolate their statistics
    # read both (the Gram matrices are interpolated in ``statistics`` already).
    morph: Morph | None = None

    def source_image(self, loss: str) -> LoadedImage:
        if self.morph is not None:
            raise TexsynthError(
                f"a morph (--mix) cannot interpolate the {loss} term: it matches one source"
            )
        if self.image is None:
            raise TexsynthError(
                f"the {loss} loss needs a single source image, not several sources or statistics"
            )
        return self.image

    def unguided(self, loss: str) -> None:
        if self.regions is not None:
            raise TexsynthError(f"spatial guidance works with the Gram loss only, not {loss}")


def gram_loss(model: TextureModel, statistics: TextureStatistics) -> GramLoss:
    """The paper's loss Σ_l w_l E_l against ``statistics``, on ``model``'s layers."""
    grams = statistics.subset(model.layers).grams
    return GramLoss({k: g.to(model.device) for k, g in grams.items()}, model.layer_weights)


@torch.no_grad()
def swd_loss(
    model: TextureModel,
    image: LoadedImage | torch.Tensor,
    directions: int | None = None,
    seed: int = 0,
) -> SlicedWassersteinLoss:
    """Heitz et al.'s sliced Wasserstein loss against ``image``'s features on ``model``'s
    layers (it needs the image itself: it matches whole feature distributions)."""
    targets = feature_vectors(model, image)
    return SlicedWassersteinLoss(targets, model.layer_weights, directions, seed)


@torch.no_grad()
def swd_morph_loss(model: TextureModel, morph: Morph, seed: int = 0) -> SlicedWassersteinLoss:
    """The sliced Wasserstein loss against the barycentre of a morph's two sources."""
    targets = [feature_vectors(model, image) for image in morph.sources("swd")]
    return SlicedWassersteinLoss(targets, model.layer_weights, seed=seed, weights=morph.weights)


def feature_vectors(
    model: TextureModel, image: LoadedImage | torch.Tensor
) -> dict[str, torch.Tensor]:
    """Layer → (N, M) feature vectors of ``image``, one per position, in float32."""
    pixels = image.pixels if isinstance(image, LoadedImage) else image
    feats = model.features(pixels.unsqueeze(0).to(model.device))
    return {name: f[0].flatten(1).float() for name, f in feats.items()}


def gram(target: LossContext) -> Loss:
    """The paper's Gram loss; with a guide, one guided Gram term per region."""
    model = target.model
    if target.regions is None:
        return gram_loss(model, target.statistics)
    grams = [s.subset(model.layers).grams for s in target.regions]
    return GuidedGramLoss(grams, target.masks, model.layer_weights)


def tiled_gram(target: LossContext) -> Loss:
    """Gram matrices matched on every tile of a grid over the output, each tile at least
    the source's size (at this scale): as many whole source sizes as fit along each side.

    The targets are the source's Gram matrices without its border. With zero padding, the
    maps near an image's edge respond to the edge itself, and a whole-image Gram matrix
    counts those responses; every tile of the output, most of which touch no edge, would
    then have to make them up, and does so at its own edges: seams along the grid lines
    (measured at 512² from a 128² source: 1.15× the mean pixel difference elsewhere across
    them; without the border, 0.94×). So the source is mirrored outwards and each layer's
    maps of the mirrored image are cropped back to the source before the Gram matrices.

    Where no tile grid applies, this is :func:`gram`: an output less than twice the source
    along both sides (one tile), a spatial guide, or no single source image (several
    sources, saved statistics) whose size would set the tiles.
    """
    if target.regions is not None or target.image is None:
        return gram(target)
    source = target.image.pixels
    width, height = target.size or (source.shape[2], source.shape[1])
    tiles = (max(1, height // source.shape[1]), max(1, width // source.shape[2]))
    if tiles == (1, 1):
        return gram(target)
    targets = borderless_grams(target.model, source)
    return TiledGramLoss(targets, tiles, target.model.layer_weights)


def borderless_grams(model: TextureModel, source: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each layer's Gram matrix of ``source`` (C, H, W) over its own positions, taken from
    the maps of the source mirrored outwards by up to 64 px, so no map sees the border."""
    deepest = max(model.network.downsampling(name) for name in model.layers)
    margin = deepest * min(64 // deepest, (min(source.shape[1:]) - 1) // deepest)
    image = torch.nn.functional.pad(source[None], (margin,) * 4, mode="reflect")
    with torch.no_grad():
        maps = model.features(image.to(model.device))
    grams = {}
    for name, f in maps.items():
        m = margin // model.network.downsampling(name)
        grams[name] = gram_matrix(f[..., m : f.shape[-2] - m, m : f.shape[-1] - m].float())[0]
    return grams


def swd(target: LossContext) -> Loss:
    """Heitz et al.'s sliced Wasserstein loss (needs the source image; a morph's target
    is the barycentre of its two sources' feature distributions)."""
    target.unguided("swd")
    if target.morph is not None:
        return swd_morph_loss(target.model, target.morph, seed=target.seed)
    return swd_loss(target.model, target.source_image("swd"), seed=target.seed)


def gram_and_swd(target: LossContext) -> Loss:
    """Both, with equal weights."""
    target.unguided("gram+swd")
    return WeightedSum([gram_loss(target.model, target.statistics), swd(target)])


# ------------------------------------------------------- the terms of registry.STRUCTURES ----
# Shifted Gram matrices only on layers at least this coarse (pool1 and deeper on VGG):
# conv1_1 costs most (at 256²: 1.41× the time on grid_0053 with it, 1.26× without).
SHIFTED_GRAM_MIN_DOWNSAMPLING = 2
# Feature autocorrelations on layers at least this coarse (pool2 and deeper).
AUTOCORRELATION_MIN_DOWNSAMPLING = 4


def pixel_histogram(target: LossContext) -> Loss:
    """Each channel's pixel histogram against the source's (``histogram_weight``); a
    morph's target is the barycentre of its two sources' histograms."""
    if target.morph is not None:
        pixels = [image.pixels for image in target.morph.sources("histogram")]
        loss = PixelHistogramLoss(pixels, target.morph.weights)
    else:
        loss = PixelHistogramLoss(target.source_image("histogram").pixels)
    return loss.to(target.model.device)


def spectrum_constraint(target: LossContext) -> Loss:
    """Liu, Gousseau & Xia's spectrum constraint against the source's Fourier spectrum."""
    width, height = target.size  # type: ignore[misc]
    source = target.source_image("spectrum").pixels
    return SpectrumLoss(spectrum_target(source, width, height)).to(target.model.device)


def shifted_gram_matrices(target: LossContext) -> Loss:
    """Berger & Memisevic's shifted Gram matrices, at the source's lattice vectors."""
    image = target.source_image("shifted-gram").pixels
    lags = target.lattice.lags if target.lattice is not None else ()
    model = target.model
    feats = model.features(image[None].to(model.device))
    targets, shifts = {}, {}
    for name in model.layers:
        step = model.network.downsampling(name)
        if step < SHIFTED_GRAM_MIN_DOWNSAMPLING:
            continue
        _, _, h, w = feats[name].shape
        layer_shifts = sorted({(round(dy / step), round(dx / step)) for dy, dx in lags} - {(0, 0)})
        layer_shifts = [(dy, dx) for dy, dx in layer_shifts if abs(dy) < h / 2 and abs(dx) < w / 2]
        if layer_shifts:
            shifts[name] = layer_shifts
            with torch.no_grad():
                grams = [shifted_gram(feats[name].float(), s)[0] for s in layer_shifts]
            targets[name] = torch.stack(grams)
    if not targets:
        raise TexsynthError("shifted Gram matrices need a source with a lattice at this size")
    return ShiftedGramLoss(targets, shifts, model.layer_weights)


def feature_autocorrelation(target: LossContext) -> Loss:
    """Gonthier, Gousseau & Ladjal's autocorrelation of feature maps, on the layers from
    pool2 down, at lags up to a third of each layer's (smaller) side."""
    image = target.source_image("autocorrelation").pixels
    model = target.model
    with torch.no_grad():
        feats = model.features(image[None].to(model.device))
    width, height = target.size  # type: ignore[misc]
    targets = {}
    for name in model.layers:
        step = model.network.downsampling(name)
        if step < AUTOCORRELATION_MIN_DOWNSAMPLING:
            continue
        _, _, h, w = feats[name].shape
        max_lag = min(h, w, height // step, width // step) // 3
        if max_lag >= 1:
            targets[name] = autocorrelations(feats[name].float(), max_lag)[0]
    if not targets:
        raise TexsynthError("the feature autocorrelation needs larger images")
    return FeatureAutocorrelationLoss(targets, model.layer_weights)


# Pixels along each edge of a source replaced by their inner neighbours before its
# spectrum is tiled (spectrum_target).
SPECTRUM_BORDER = 2


def spectrum_target(source: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """A (C, height, width) image whose spectrum is the source's, for any output size.

    The source's periodic component (no border cross in its spectrum) is tiled over the
    output, or centre-cropped where the output is smaller, and the periodic component of
    that taken again (no seam where the output wraps). Tiling keeps a lattice's
    correlations across the whole output; zero-padding the source instead makes them fade
    with distance (measured: 0.74 vs 0.87 of a hexagonal lattice kept at 2.5× the size).

    The source's outer ``SPECTRUM_BORDER`` px are first replaced by the rows and columns
    just inside them: photographs often carry a one-pixel line at an edge (a white bottom
    row on sota-dev's img_12), and the periodic component turns such a jump into a smooth
    ramp across the whole image (amplitude 0.5 of the pixel range on img_12), which the
    spectrum term would then impose as large blocks.

    At the source's own size the target is the source itself, as Liu et al. and Gonthier et
    al. take it: the source is then one of the images the constraint allows (its periodic
    component is not: P(source) was 0.2 of the pixel range from it on img_12), and the
    synthesis gets the source's spectrum whole, the cross that its border puts on the axes
    included, which P–S statistics (circular, like every FFT) count.
    """
    if source.shape[1:] == (height, width):
        return source.float()
    b = SPECTRUM_BORDER if min(source.shape[1:]) > 16 * SPECTRUM_BORDER else 0
    if b:
        inner = source[:, b : source.shape[1] - b, b : source.shape[2] - b]
        source = torch.nn.functional.pad(inner[None], (b,) * 4, mode="replicate")[0]
    periodic = periodic_component(source.double())
    _, h, w = periodic.shape
    tiled = periodic.repeat(1, -(-height // h), -(-width // w))
    top, left = max(0, (h - height) // 2), max(0, (w - width) // 2)
    return periodic_component(tiled[:, top : top + height, left : left + width]).float()


def periodic_component(image: torch.Tensor) -> torch.Tensor:
    """Moisan's periodic component of (C, H, W) ``image`` (the image minus the smooth
    image that carries its border discontinuities), so that its FFT has no border cross."""
    _, h, w = image.shape
    v = torch.zeros_like(image)
    v[:, 0, :] = image[:, -1, :] - image[:, 0, :]
    v[:, -1, :] = -v[:, 0, :]
    v[:, :, 0] += image[:, :, -1] - image[:, :, 0]
    v[:, :, -1] -= image[:, :, -1] - image[:, :, 0]
    q = torch.arange(h, dtype=image.dtype).view(-1, 1)
    r = torch.arange(w, dtype=image.dtype).view(1, -1)
    denominator = 2 * torch.cos(2 * torch.pi * q / h) + 2 * torch.cos(2 * torch.pi * r / w) - 4
    denominator[0, 0] = 1.0
    smooth = torch.fft.fft2(v) / denominator
    smooth[:, 0, 0] = 0
    return image - torch.fft.ifft2(smooth).real
