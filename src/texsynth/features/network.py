"""Feature networks: VGG-19 (the paper's), VGG-16, and a single-layer multi-scale network.

Layer names follow the paper: ``conv1_1`` … ``conv5_4`` (outputs *after* the ReLU, as the
texture model uses them) and ``pool1`` … ``pool5``. Every network takes RGB images in
[0, 1]; a fixed 1×1 ``preprocess`` convolution maps them to whatever input space the
weights were trained in (mean-subtracted BGR×255 for Caffe-derived weights, ImageNet
mean/std-normalised RGB for torchvision weights).

Gatys et al. replace max pooling by average pooling, which gives smoother gradients and
better syntheses; ``pool="avg"`` is the default, ``pool="max"`` the original VGG.

What a texture model needs of its network is :class:`FeatureNetwork`: the layers and
their sizes, the forward pass, and flags for what the network can do (a texture model
asks those, never the network's class).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn

from ..core.registry import POOLS

# (block, number of convolutions, output channels) of each architecture.
ARCHITECTURES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "vgg19": ((1, 2, 64), (2, 2, 128), (3, 4, 256), (4, 4, 512), (5, 4, 512)),
    "vgg16": ((1, 2, 64), (2, 2, 128), (3, 3, 256), (4, 3, 512), (5, 3, 512)),
}


@runtime_checkable
class FeatureNetwork(Protocol):
    """A feature network a :class:`~texsynth.statistics.model.TextureModel` can use.

    Capabilities: ``input_range`` is the pixel range it takes (every network here maps
    [0, 1] RGB to its training input itself); ``pool`` names its pooling (``"none"``
    where it has none to choose); ``repaddable`` says :meth:`with_padding` works (circular
    padding, for tileable output); ``native_bfloat16`` that it runs in bfloat16 with
    channels-last maps (the fast precision).
    """

    arch: str
    last_layer: str
    layer_names: tuple[str, ...]  # in forward order
    pool: str
    padding: str
    input_range: tuple[float, float]
    repaddable: bool
    native_bfloat16: bool

    def with_padding(self, padding: PaddingMode) -> FeatureNetwork:
        """A copy with another padding mode (only where ``repaddable``)."""
        ...

    def channels(self, layer: str) -> int: ...

    def downsampling(self, layer: str) -> int: ...

    def estimate_memory_bytes(
        self, width: int, height: int, last_layer: str, batch: int = 1, bytes_per_value: int = 4
    ) -> int: ...

    def __call__(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]: ...


def layer_sequence(arch: str = "vgg19") -> list[tuple[str, int]]:
    """All named layers of ``arch`` in forward order, each with its number of output channels."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; known: {', '.join(ARCHITECTURES)}")
    layers: list[tuple[str, int]] = []
    for block, n_convs, channels in ARCHITECTURES[arch]:
        layers += [(f"conv{block}_{i}", channels) for i in range(1, n_convs + 1)]
        layers.append((f"pool{block}", channels))
    return layers


LAYER_CHANNELS: dict[str, int] = dict(layer_sequence("vgg19"))
LAYER_NAMES: tuple[str, ...] = tuple(LAYER_CHANNELS)
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))


def conv_names(arch: str = "vgg19") -> tuple[str, ...]:
    return tuple(n for n, _ in layer_sequence(arch) if n.startswith("conv"))


PoolKind = str  # one of registry.POOLS
PaddingMode = Literal["zeros", "circular"]


def layer_index(name: str, names: Sequence[str] = LAYER_NAMES) -> int:
    """Position of a named layer in the forward order; raises ``ValueError`` for unknown names."""
    try:
        return list(names).index(name)
    except ValueError:
        raise ValueError(f"unknown layer {name!r}; known layers: {', '.join(names)}") from None


def deepest_layer(names: Iterable[str], order: Sequence[str] = LAYER_NAMES) -> str:
    """The layer among ``names`` that comes last in the forward order ``order``."""
    return max(names, key=lambda n: layer_index(n, order))


def downsampling_factor(layer: str, names: Sequence[str] = LAYER_NAMES) -> int:
    """How many input pixels one position of ``layer`` spans along each axis (2 per pool)."""
    n_pools = sum(1 for n in names[: layer_index(layer, names) + 1] if n.startswith("pool"))
    return 2**n_pools


class VGG(nn.Module):
    """A VGG feature extractor (``arch`` "vgg19" or "vgg16"), truncated after ``last_layer``.

    Args:
        last_layer: deepest layer to build; everything after it is dropped to save memory.
        pool: ``"avg"`` (Gatys et al.) or ``"max"`` (original VGG).
        padding: ``"zeros"`` (the paper) or ``"circular"`` (for tileable textures).
        arch: ``"vgg19"`` (the paper's network) or ``"vgg16"``.
    """

    input_range = (0.0, 1.0)
    repaddable = True
    native_bfloat16 = True

    def __init__(
        self,
        last_layer: str = "pool4",
        pool: PoolKind = "avg",
        padding: PaddingMode = "zeros",
        arch: str = "vgg19",
    ) -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")
        if padding not in ("zeros", "circular"):
            raise ValueError(f"padding must be 'zeros' or 'circular', not {padding!r}")
        sequence = layer_sequence(arch)
        all_names = [n for n, _ in sequence]
        self.arch = arch
        self.pool = pool
        self.padding = padding
        self.last_layer = last_layer
        self.layer_names: tuple[str, ...] = tuple(
            all_names[: layer_index(last_layer, all_names) + 1]
        )
        self._channels = dict(sequence)
        self.preprocess = nn.Conv2d(3, 3, kernel_size=1)
        self.convs = nn.ModuleDict()
        in_channels = 3
        for name in self.layer_names:
            if name.startswith("conv"):
                out_channels = self._channels[name]
                self.convs[name] = nn.Conv2d(
                    in_channels, out_channels, kernel_size=3, padding=1, padding_mode=padding
                )
                in_channels = out_channels
        for p in self.parameters():
            p.requires_grad_(False)

    def with_padding(self, padding: PaddingMode) -> VGG:
        """A copy with another padding mode (same weights, dtype and memory layout)."""
        if padding == self.padding:
            return self
        net = VGG(self.last_layer, self.pool, padding, arch=self.arch)
        net.load_state_dict(self.state_dict())
        weight = next(self.parameters())
        return net.to(weight.device, weight.dtype, memory_format=self.memory_format).eval()

    def channels(self, layer: str) -> int:
        return self._channels[layer]

    def downsampling(self, layer: str) -> int:
        return downsampling_factor(layer, self.layer_names)

    @property
    def memory_format(self) -> torch.memory_format:
        """The layout of the weights (``net.to(memory_format=…)``), which the maps follow."""
        first = next(iter(self.convs.values())).weight
        if first.is_contiguous(memory_format=torch.channels_last) and not first.is_contiguous():
            return torch.channels_last
        return torch.contiguous_format

    def estimate_memory_bytes(
        self, width: int, height: int, last_layer: str, batch: int = 1, bytes_per_value: int = 4
    ) -> int:
        return estimate_memory_bytes(
            width, height, last_layer, batch, bytes_per_value, arch=self.arch
        )

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        """Feature maps of ``layers`` for a batch of RGB images in [0, 1], shape (B, 3, H, W).

        Stops after the deepest requested layer.
        """
        wanted = set(layers)
        for name in wanted:
            if name not in self.layer_names:
                raise ValueError(
                    f"layer {name!r} is not in this network (built up to {self.last_layer})"
                )
        stop = deepest_layer(wanted, self.layer_names)
        x = self.preprocess(image.contiguous(memory_format=self.memory_format))
        out: dict[str, torch.Tensor] = {}
        for name in self.layer_names:
            if name.startswith("conv"):
                x = F.relu(self.convs[name](x))
            elif self.pool == "avg":
                x = F.avg_pool2d(x, kernel_size=2, stride=2)
            else:
                x = F.max_pool2d(x, kernel_size=2, stride=2)
            if name in wanted:
                out[name] = x
            if name == stop:
                break
        return out


class VGG19(VGG):
    """The paper's network: VGG-19 (see :class:`VGG`)."""

    def __init__(
        self, last_layer: str = "pool4", pool: PoolKind = "avg", padding: PaddingMode = "zeros"
    ) -> None:
        super().__init__(last_layer, pool, padding, arch="vgg19")


def activation_elements(width: int, height: int, last_layer: str, arch: str = "vgg19") -> int:
    """Number of activation values of all layers up to ``last_layer`` for one image."""
    sequence = layer_sequence(arch)
    names = [n for n, _ in sequence]
    total, w, h = 0, width, height
    for name, channels in sequence[: layer_index(last_layer, names) + 1]:
        if name.startswith("pool"):
            w, h = w // 2, h // 2
        total += channels * w * h
    return total


def estimate_memory_bytes(
    width: int,
    height: int,
    last_layer: str,
    batch: int = 1,
    bytes_per_value: int = 4,
    arch: str = "vgg19",
) -> int:
    """Rough peak memory of one forward + backward pass.

    Autograd keeps each conv output and its ReLU for the backward pass, which then holds
    gradients of similar size: about four copies of all activations, plus the weights.
    """
    sequence = layer_sequence(arch)
    names = [n for n, _ in sequence]
    n_weights, in_channels = 0, 3
    for name, channels in sequence[: layer_index(last_layer, names) + 1]:
        if name.startswith("conv"):
            n_weights += (in_channels * 9 + 1) * channels
            in_channels = channels
    activations = activation_elements(width, height, last_layer, arch)
    return (4 * batch * activations + n_weights) * bytes_per_value


# Ustyuzhaninov, Brendel, Gatys & Bethge 2017 ("What does it take to generate natural
# textures?"): one convolutional layer with filters of eight sizes, 128 maps each.
MULTISCALE_SIZES: tuple[int, ...] = (3, 5, 7, 11, 15, 23, 37, 55)
MULTISCALE_LAYER = "multiscale"
# Up to this size a direct convolution is cheaper than the FFT on a CPU.
DIRECT_MAX_SIZE = 11
# The Caffe VGG mean in BGR order.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


def fast_bfloat16(device: torch.device | str) -> bool:
    """Whether bfloat16 convolutions run natively (faster than float32) on ``device``.

    True on CUDA GPUs that support bfloat16 and on x86 CPUs with AVX-512 BF16 or AMX;
    elsewhere bfloat16 is emulated and slower than float32.
    """
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def caffe_preprocess(
    mean_bgr: Sequence[float] = CAFFE_MEAN_BGR,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Caffe preprocessing as a 1×1 conv: RGB in [0, 1] → BGR×255 minus ``mean_bgr``."""
    weight = torch.zeros(3, 3, 1, 1)
    for out_c, in_c in enumerate((2, 1, 0)):
        weight[out_c, in_c] = 255.0
    return weight, -torch.tensor([float(m) for m in mean_bgr])


def kernel_spectrum(weight: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """rfft2 of the flipped kernels, zero-padded to ``size`` (cross-correlation as convolution)."""
    return torch.fft.rfft2(torch.flip(weight, dims=(-2, -1)), s=size)


def fft_conv2d_same(
    x: torch.Tensor, weight: torch.Tensor, spectrum: torch.Tensor | None = None
) -> torch.Tensor:
    """Zero-padded 'same' 2-D cross-correlation through the FFT (what ``F.conv2d`` computes).

    For the 55×55 filters of the multi-scale network the FFT costs a fraction of a direct
    convolution. ``x`` is (B, C, H, W), ``weight`` (N, C, k, k) with odd k; ``spectrum`` is
    :func:`kernel_spectrum` of ``weight`` at the padded size, if already known.
    """
    k = weight.shape[-1]
    half = k // 2
    h, w = x.shape[-2:]
    # Padding by k−1 in total makes the circular convolution equal the linear one on the
    # central H×W window.
    size = (h + 2 * half, w + 2 * half)
    xf = torch.fft.rfft2(F.pad(x, (half, half, half, half)), s=size)
    kf = spectrum if spectrum is not None else kernel_spectrum(weight, size)
    # Sum over the few input channels by hand: einsum turns this contraction into one tiny
    # matrix product per frequency, which is many times slower.
    yf = sum(xf[:, c, None] * kf[None, :, c] for c in range(x.shape[1]))
    y = torch.fft.irfft2(yf, s=size)
    return y[..., k - 1 : k - 1 + h, k - 1 : k - 1 + w]


class MultiScaleNet(nn.Module):
    """Single-layer random multi-scale network of Ustyuzhaninov et al. 2017.

    One layer (named ``"multiscale"``) of ``channels`` ReLU maps for each filter size in
    ``sizes`` (3…55 px, 128 each: 1,024 maps), zero-padded so all maps share the image grid;
    the texture model takes one Gram matrix over all of them. The weights are random and
    never trained: i.i.d. Gaussian with variance 2 / fan-in (Kaiming), each filter made
    zero-mean over its support so it responds to structure rather than brightness, zero
    bias, on Caffe-preprocessed input (mean-subtracted BGR×255). That input scale matters in
    practice: on [0, 1]-scaled input the loss and its gradient are so small (≈10⁻⁶) that
    L-BFGS-B's first step falls below float32 resolution and the synthesis never moves.
    """

    pool = "none"
    padding: PaddingMode = "zeros"
    input_range = (0.0, 1.0)
    repaddable = False
    native_bfloat16 = False

    def __init__(
        self,
        sizes: Sequence[int] = MULTISCALE_SIZES,
        channels: int = 128,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if any(s % 2 == 0 or s < 1 for s in sizes):
            raise ValueError("filter sizes must be odd and positive")
        self.sizes = tuple(sorted(int(s) for s in sizes))
        self.maps_per_size = int(channels)
        self.seed = seed
        self.arch = "multiscale"
        self.last_layer = MULTISCALE_LAYER
        self.layer_names: tuple[str, ...] = (MULTISCALE_LAYER,)
        self.preprocess = nn.Conv2d(3, 3, kernel_size=1)
        weight, bias = caffe_preprocess()
        self.preprocess.weight.data.copy_(weight)
        self.preprocess.bias.data.copy_(bias)
        gen = torch.Generator().manual_seed(seed)
        for size in self.sizes:
            w = torch.randn(channels, 3, size, size, generator=gen) * (2.0 / (3 * size**2)) ** 0.5
            self.register_buffer(f"kernel_{size}", w - w.mean(dim=(1, 2, 3), keepdim=True))
        # Small filters are cheapest as direct convolutions; the large ones share one bank,
        # centred in the largest support, so one FFT convolution computes all their maps.
        self.direct_sizes = tuple(s for s in self.sizes if s <= DIRECT_MAX_SIZE)
        self.fft_sizes = tuple(s for s in self.sizes if s > DIRECT_MAX_SIZE)
        if self.fft_sizes:
            self.register_buffer("fft_bank", self._bank(self.fft_sizes))
        self._spectra: dict[tuple, torch.Tensor] = {}
        for p in self.parameters():
            p.requires_grad_(False)

    def kernel(self, size: int) -> torch.Tensor:
        return getattr(self, f"kernel_{size}")

    def _bank(self, sizes: Sequence[int]) -> torch.Tensor:
        kmax = max(sizes)
        bank = torch.zeros(len(sizes) * self.maps_per_size, 3, kmax, kmax)
        for i, size in enumerate(sizes):
            lo = (kmax - size) // 2
            rows = slice(i * self.maps_per_size, (i + 1) * self.maps_per_size)
            bank[rows, :, lo : lo + size, lo : lo + size] = self.kernel(size)
        return bank

    @property
    def filters(self) -> torch.Tensor:
        """All filters, in map order, centred in the largest support: (N, 3, k, k)."""
        return self._bank(self.sizes)

    def channels(self, layer: str) -> int:
        return len(self.sizes) * self.maps_per_size

    def downsampling(self, layer: str) -> int:
        return 1

    def estimate_memory_bytes(
        self, width: int, height: int, last_layer: str, batch: int = 1, bytes_per_value: int = 4
    ) -> int:
        k = max(self.sizes)
        padded = (width + k) * (height + k)
        # Complex spectra of the padded maps, the maps themselves and their gradients.
        n = self.channels(MULTISCALE_LAYER)
        return batch * n * (4 * padded + 4 * width * height) * bytes_per_value

    def forward(self, image: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
        for name in layers:
            if name != MULTISCALE_LAYER:
                raise ValueError(f"layer {name!r} is not in the multi-scale network")
        x = self.preprocess(image)
        maps = [
            F.conv2d(x, self.kernel(size).to(x.dtype), padding=size // 2)
            for size in self.direct_sizes
        ]
        if self.fft_sizes:
            half = max(self.fft_sizes) // 2
            size = (x.shape[-2] + 2 * half, x.shape[-1] + 2 * half)
            key = (size, x.dtype, x.device)
            # The filters never change, so their spectrum is computed once per image size.
            if key not in self._spectra:
                self._spectra = {key: kernel_spectrum(self.fft_bank.to(x.dtype), size)}
            maps.append(fft_conv2d_same(x, self.fft_bank, spectrum=self._spectra[key]))
        return {MULTISCALE_LAYER: F.relu(torch.cat(maps, dim=1))}
