"""The texture model: a network, a set of layers, and the statistics computed on them.

``TextureModel`` ties the pieces of the data flow together — image → features (VGG-19) →
statistics (Gram matrices) → loss — without knowing how the pixels will be updated.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from .errors import SizeError, TexsynthError
from .image_io import LoadedImage
from .losses import GramLoss
from .network import (
    LAYER_CHANNELS,
    VGG19,
    PaddingMode,
    PoolKind,
    deepest_layer,
    downsampling_factor,
    layer_index,
)
from .statistics import TextureStatistics, gram_matrix, gram_parameter_count
from .weights import Weights, build_network, load_weights

# The paper's model: conv1_1 and the four pooling layers, equally weighted.
DEFAULT_LAYERS: tuple[str, ...] = ("conv1_1", "pool1", "pool2", "pool3", "pool4")


def validate_layers(
    layers: Sequence[str], layer_weights: Sequence[float] | None
) -> dict[str, float]:
    """Check layer names and weights; return layer → weight (default 1 each)."""
    if not layers:
        raise TexsynthError("at least one layer is needed")
    for name in layers:
        try:
            layer_index(name)
        except ValueError as exc:
            raise TexsynthError(str(exc)) from None
    if len(set(layers)) != len(layers):
        raise TexsynthError(f"layers are repeated: {', '.join(layers)}")
    if layer_weights is None:
        return {name: 1.0 for name in layers}
    if len(layer_weights) != len(layers):
        raise TexsynthError(
            f"got {len(layer_weights)} layer weights for {len(layers)} layers ({', '.join(layers)})"
        )
    if any(not (w >= 0 and w < float("inf")) for w in layer_weights):
        raise TexsynthError("layer weights must be finite and non-negative")
    return dict(zip(layers, (float(w) for w in layer_weights), strict=True))


def parameter_count(layers: Sequence[str]) -> int:
    """Parameters of the Gram model on ``layers``: Σ N_l(N_l+1)/2 (176,640 for the default)."""
    return sum(gram_parameter_count(LAYER_CHANNELS[name]) for name in layers)


class TextureModel:
    """Gram-matrix texture model on named layers of a VGG-19.

    Args:
        network: the feature extractor; it must reach the deepest of ``layers``.
        layers: layers whose Gram matrices describe the texture.
        layer_weights: w_l for each layer (default 1 each).
        weights_info: description of the weights, recorded in outputs for provenance.
    """

    def __init__(
        self,
        network: VGG19,
        layers: Sequence[str] = DEFAULT_LAYERS,
        layer_weights: Sequence[float] | None = None,
        weights_info: dict[str, object] | None = None,
    ) -> None:
        self.layer_weights = validate_layers(layers, layer_weights)
        self.layers = list(layers)
        if layer_index(deepest_layer(self.layers)) > layer_index(network.last_layer):
            raise TexsynthError(
                f"the network stops at {network.last_layer}, before {deepest_layer(self.layers)}"
            )
        self.network = network
        self.weights_info = dict(weights_info or {})

    @classmethod
    def from_weights(
        cls,
        weights: Weights | str | os.PathLike | None = None,
        layers: Sequence[str] = DEFAULT_LAYERS,
        layer_weights: Sequence[float] | None = None,
        pool: PoolKind = "avg",
        padding: PaddingMode = "zeros",
        device: str | torch.device = "cpu",
        verify: bool = True,
    ) -> TextureModel:
        """Build the model on a VGG-19 truncated after the deepest of ``layers``."""
        validate_layers(layers, layer_weights)
        if not isinstance(weights, Weights):
            weights = load_weights(weights, verify=verify)
        net = build_network(weights, last_layer=deepest_layer(layers), pool=pool, padding=padding)
        info = weights.describe() | {"pool": pool, "padding": padding}
        return cls(net.to(device), layers, layer_weights, weights_info=info)

    @property
    def device(self) -> torch.device:
        return self.network.preprocess.weight.device

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.layers)

    @property
    def min_size(self) -> int:
        """Smallest image side (px) for which every used layer has at least one position."""
        return downsampling_factor(deepest_layer(self.layers))

    def check_size(self, width: int, height: int, what: str) -> None:
        m = self.min_size
        if width < m or height < m:
            raise SizeError(
                f"{what} is {width}x{height} px; layers up to {deepest_layer(self.layers)} "
                f"need at least {m}x{m} px"
            )

    def features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Feature maps of (B, C, H, W) images in [0, 1]; gray (C = 1) is replicated to RGB."""
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        return self.network(images, self.layers)

    @torch.no_grad()
    def statistics(
        self, image: LoadedImage | torch.Tensor, name: str | None = None
    ) -> TextureStatistics:
        """Gram matrices of one image, (C, H, W) in [0, 1], with its pixel range and provenance."""
        pixels = image.pixels if isinstance(image, LoadedImage) else image
        name = name or (image.name if isinstance(image, LoadedImage) else "<tensor>")
        self.check_size(int(pixels.shape[2]), int(pixels.shape[1]), f"source image {name}")
        feats = self.features(pixels.unsqueeze(0).to(self.device))
        grams = {k: gram_matrix(f)[0].float() for k, f in feats.items()}
        flat = pixels.reshape(pixels.shape[0], -1)
        meta = {
            "source": name,
            "source_size": [int(pixels.shape[2]), int(pixels.shape[1])],
            "layers": list(self.layers),
            "weights": self.weights_info,
        }
        return TextureStatistics(grams, flat.min(1).values, flat.max(1).values, meta)

    def loss(self, target: TextureStatistics) -> GramLoss:
        """The paper's loss Σ_l w_l E_l against ``target``, on this model's layers."""
        grams = target.subset(self.layers).grams
        return GramLoss({k: g.to(self.device) for k, g in grams.items()}, self.layer_weights)
