"""The texture model: a network, a set of layers, and the statistics computed on them.

``TextureModel`` ties the pieces of the data flow together — image → features (VGG-19) →
statistics (Gram matrices) → loss — without knowing how the pixels will be updated.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import warnings
from collections.abc import Sequence

import torch
from torch import nn

from ..core.errors import SizeError, TexsynthError
from ..core.registry import DEFAULT_LAYERS, PRECISIONS
from ..features.network import (
    LAYER_CHANNELS,
    LAYER_NAMES,
    FeatureNetwork,
    PaddingMode,
    PoolKind,
    deepest_layer,
    layer_index,
    layer_sequence,
)
from ..features.weights import (
    Weights,
    build_network,
    load_weights,
)
from ..image.io import LoadedImage
from .gram import (
    TextureStatistics,
    gram_matrix,
    gram_parameter_count,
    pca_projection,
    project_features,
)


def validate_layers(
    layers: Sequence[str],
    layer_weights: Sequence[float] | None,
    known: Sequence[str] = LAYER_NAMES,
) -> dict[str, float]:
    """Check layer names (against ``known``) and weights; return layer → weight (default 1)."""
    if not layers:
        raise TexsynthError("at least one layer is needed")
    for name in layers:
        try:
            layer_index(name, known)
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
    if not any(w > 0 for w in layer_weights):
        raise TexsynthError(
            "the layer weights are all 0: nothing would be matched and the result would be "
            "noise; give at least one layer a weight above 0"
        )
    return dict(zip(layers, (float(w) for w in layer_weights), strict=True))


def parameter_count(layers: Sequence[str], channels: dict[str, int] | None = None) -> int:
    """Parameters of the Gram model on ``layers``: Σ N_l(N_l+1)/2 (176,640 for the default).

    ``channels`` gives N_l per layer (default: VGG-19's; a reduced model passes its k_l).
    """
    channels = channels if channels is not None else LAYER_CHANNELS
    return sum(gram_parameter_count(channels[name]) for name in layers)


def components_for_budget(layers: Sequence[str], budget: int, arch: str = "vgg19") -> int:
    """The largest k whose reduced model (min(k, N_l) components per layer) fits ``budget``.

    Used to pick the PCA size of the paper's reduced models (Fig. 3A) from a parameter
    budget; the exact count of the chosen model is ``parameter_count(layers, {l: min(k, N_l)})``.
    """
    full = dict(layer_sequence(arch))
    if budget < len(layers):
        raise TexsynthError(f"a budget of {budget} cannot keep one component in each layer")

    def count(k: int) -> int:
        return parameter_count(layers, {n: min(k, full[n]) for n in layers})

    k = 1
    while k < max(full[n] for n in layers) and count(k + 1) <= budget:
        k += 1
    return k


class TextureModel:
    """Gram-matrix texture model on named layers of a feature network (VGG-19 by default).

    Args:
        network: the feature extractor, a :class:`~texsynth.features.network.FeatureNetwork`
            (VGG, the multi-scale network, EfficientNet); it must reach the deepest layer.
        layers: layers whose Gram matrices describe the texture.
        layer_weights: w_l for each layer (default 1 each).
        weights_info: description of the weights, recorded in outputs for provenance.
        projections: optional layer → (k_l, N_l) matrix; the feature maps are projected onto
            its rows before the Gram matrix, leaving k_l(k_l+1)/2 parameters in that layer
            (the paper's reduced models, see :meth:`reduced`).
    """

    def __init__(
        self,
        network: FeatureNetwork,
        layers: Sequence[str] = DEFAULT_LAYERS,
        layer_weights: Sequence[float] | None = None,
        weights_info: dict[str, object] | None = None,
        projections: dict[str, torch.Tensor] | None = None,
    ) -> None:
        self.layer_weights = validate_layers(layers, layer_weights, known=_known_layers(network))
        self.layers = list(layers)
        self.network = network
        for name in self.layers:
            if name not in network.layer_names:
                raise TexsynthError(f"the network stops at {network.last_layer}, before {name}")
        self.weights_info = dict(weights_info or {})
        self.projections = dict(projections or {})
        for name, p in self.projections.items():
            if name not in self.layers or p.dim() != 2 or p.shape[1] != network.channels(name):
                raise TexsynthError(f"projection for {name} does not fit the layer")

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
        """Build the model on the weights' network (VGG-19, or VGG-16 for HED's weights),
        truncated after the deepest of ``layers``."""
        if not isinstance(weights, Weights):
            weights = load_weights(weights, verify=verify)
        names = [n for n, _ in layer_sequence(weights.arch)]
        validate_layers(layers, layer_weights, known=names)
        net = build_network(
            weights, last_layer=deepest_layer(layers, names), pool=pool, padding=padding
        )
        info = weights.describe() | {"pool": pool, "padding": padding}
        return cls(net.to(device), layers, layer_weights, weights_info=info)

    @torch.no_grad()
    def reduced(
        self, image: LoadedImage | torch.Tensor, components: int | dict[str, int]
    ) -> TextureModel:
        """This model with each layer's maps projected onto their first k principal components.

        The components come from a PCA over the positions of ``image``'s feature maps in that
        layer (the paper's Fig. 3A). ``components`` is one k for all layers (capped at the
        layer's N_l) or a layer → k mapping.
        """
        if self.projections:
            raise TexsynthError("this model is already reduced; reduce the full model")
        pixels = image.pixels if isinstance(image, LoadedImage) else image
        feats = self.features(pixels.unsqueeze(0).to(self.device))
        projections = {}
        for name in self.layers:
            k = components[name] if isinstance(components, dict) else components
            k = min(k, self.network.channels(name))
            projections[name] = pca_projection(feats[name][0], k).to(self.device)
        return TextureModel(
            self.network,
            self.layers,
            [self.layer_weights[n] for n in self.layers],
            self.weights_info,
            projections,
        )

    def with_padding(self, padding: PaddingMode) -> TextureModel:
        """The same model on a copy of its network with another padding mode.

        ``"circular"`` makes the model see the image as a torus, so a synthesis that matches
        its statistics wraps around without a seam (``synthesize(tileable=True)``).
        """
        if padding == self.network.padding:
            return self
        if not self.network.repaddable:
            raise TexsynthError(f"the {self.network.arch} network cannot change its padding")
        return TextureModel(
            self.network.with_padding(padding),
            self.layers,
            [self.layer_weights[n] for n in self.layers],
            self.weights_info | {"padding": padding},
            self.projections,
        )

    def with_precision(self, precision: str) -> TextureModel:
        """The same model with its network's convolutions in ``precision``
        (``"float32"`` or ``"bfloat16"``; VGG networks only for bfloat16).

        Features come out as float32 either way, so Gram matrices and losses accumulate in
        float32. Statistics a bfloat16 model computes are those of *its* (rounded) weights;
        matching them, rather than a float32 model's, keeps the optimum where float32 has it
        (a mismatch leaves a floor of about 10% on the loss).

        A bfloat16 network keeps its maps channels-last, the layout oneDNN and tensor cores
        convolve without reordering (0.75–0.82× the time of an evaluation, at 1024² and 256²,
        benchmarks/speed.py).
        """
        if precision not in PRECISIONS:
            raise TexsynthError(
                f"unknown precision {precision!r}; choose one of: {', '.join(PRECISIONS)}"
            )
        dtype = getattr(torch, precision)
        if dtype == self.dtype:
            return self
        if not self.network.native_bfloat16:
            raise TexsynthError(f"the {self.network.arch} network does not run in bfloat16")
        net = copy.deepcopy(self.network).to(dtype)
        if dtype == torch.bfloat16:
            net = net.to(memory_format=torch.channels_last)
        return TextureModel(
            net,
            self.layers,
            [self.layer_weights[n] for n in self.layers],
            self.weights_info | {"precision": precision},
            self.projections,
        )

    @property
    def signature(self) -> tuple:
        """Everything the statistics of an image depend on (weights, layers, pooling,
        padding, precision, projections); equal signatures give equal statistics."""
        projections = tuple(
            (name, hashlib.sha256(p.detach().cpu().float().numpy().tobytes()).hexdigest())
            for name, p in sorted(self.projections.items())
        )
        # Where the weights file lies does not matter, only what it holds.
        described = {k: v for k, v in self.weights_info.items() if k != "path"}
        info = json.dumps(described, sort_keys=True, default=str)
        if not self.weights_info.get("sha256"):
            # No file hash (random or hand-made networks): hash the weights themselves.
            digest = hashlib.sha256()
            for name, tensor in self.network.state_dict().items():
                digest.update(name.encode())
                digest.update(tensor.detach().cpu().float().numpy().tobytes())
            info += digest.hexdigest()
        return (type(self.network).__name__, info, tuple(self.layers), str(self.dtype), projections)

    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype the network computes in."""
        return next(self.network.parameters()).dtype

    @property
    def channels(self) -> dict[str, int]:
        """Number of maps each layer's Gram matrix is taken over (k_l for a reduced model)."""
        return {
            n: int(self.projections[n].shape[0])
            if n in self.projections
            else self.network.channels(n)
            for n in self.layers
        }

    @property
    def parameter_count(self) -> int:
        return parameter_count(self.layers, self.channels)

    @property
    def deepest_layer(self) -> str:
        return deepest_layer(self.layers, self.network.layer_names)

    @property
    def min_size(self) -> int:
        """Smallest image side (px) for which every used layer has at least one position."""
        return self.network.downsampling(self.deepest_layer)

    def estimate_memory_bytes(self, width: int, height: int) -> int:
        """Rough peak memory of one forward + backward pass (half as much in bfloat16)."""
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        return self.network.estimate_memory_bytes(
            width, height, self.deepest_layer, bytes_per_value=itemsize
        )

    def estimate_analysis_bytes(self, width: int, height: int) -> int:
        """Rough peak memory of a source's statistics at ``width``×``height``: the used
        layers' maps in this precision and in float32 (for their Gram matrices), and the
        largest of them once more while the next layer is computed."""
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        sizes = [
            self.network.channels(n) * (width * height) // self.network.downsampling(n) ** 2
            for n in self.layers
        ]
        return (sum(sizes) * (itemsize + 4) + max(sizes) * itemsize) + 3 * 4 * width * height

    def check_statistics(self, statistics: TextureStatistics, where: str) -> None:
        """Refuse statistics this model cannot match: made with another network, pooling
        or weights, or with Gram matrices of other sizes than its layers'. Another padding
        only shifts the border's share: a warning. Only what the statistics recorded is
        compared (hand-made statistics may record nothing)."""
        made_with = statistics.meta.get("weights", {})
        made_with = made_with if isinstance(made_with, dict) else {}
        for key, what in (("arch", "network"), ("pool", "pooling"), ("sha256", "weights")):
            if key in made_with and made_with[key] != self.weights_info.get(key):
                raise TexsynthError(
                    f"{where} was computed with {what} {str(made_with[key])[:16]!r}, this "
                    f"recipe uses {str(self.weights_info.get(key))[:16]!r}; analyze the source "
                    "again with this recipe's network and pooling"
                )
        padding = made_with.get("padding")
        if padding is not None and padding != self.weights_info.get("padding"):
            warnings.warn(
                f"the statistics were computed with padding {padding!r}, "
                f"this model uses {self.weights_info.get('padding')!r}",
                stacklevel=4,
            )
        for name, channels in self.channels.items():
            gram = statistics.grams.get(name)
            if gram is not None and tuple(gram.shape) != (channels, channels):
                raise TexsynthError(
                    f"{where}: the Gram matrix of {name} is {gram.shape[0]}x{gram.shape[1]}, "
                    f"but this model's {name} has {channels} maps"
                )

    def check_size(self, width: int, height: int, what: str) -> None:
        m = self.min_size
        if width < m or height < m:
            raise SizeError(
                f"{what} is {width}x{height} px; layers up to {self.deepest_layer} "
                f"need at least {m}x{m} px"
            )

    def features(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Feature maps of (B, C, H, W) images in [0, 1]; gray (C = 1) is replicated to RGB."""
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        feats = self.network(images.to(self.dtype), self.layers)
        if self.dtype in (torch.bfloat16, torch.float16):
            feats = {name: f.float() for name, f in feats.items()}
        for name, p in self.projections.items():
            feats[name] = project_features(feats[name], p)
        return feats

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
            **({"reduced_to": self.channels} if self.projections else {}),
        }
        return TextureStatistics(grams, flat.min(1).values, flat.max(1).values, meta)


def _known_layers(network: nn.Module) -> list[str]:
    # A VGG truncated early still names its layers in the full architecture's order, so
    # that asking for a layer beyond the cut says "the network stops at …" rather than
    # "unknown layer".
    arch = getattr(network, "arch", None)
    if arch in ("vgg19", "vgg16"):
        return [n for n, _ in layer_sequence(arch)]
    return list(network.layer_names)
