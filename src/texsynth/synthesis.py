"""Texture synthesis: start from white noise and optimise the pixels.

``synthesize`` is the one entry point of the Python API; the CLI is a thin layer over it.
It builds (or takes) a :class:`TextureModel`, computes or loads the source's statistics,
draws seeded white noise within the source's per-channel pixel range, and hands the
objective to an optimiser (SciPy L-BFGS-B by default, as in the paper).
"""

from __future__ import annotations

import os
import platform
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import __version__
from .color import colorize, luminance
from .errors import ImageError, SizeError, TexsynthError
from .image_io import ImageLike, LoadedImage, load_image, load_label_map, save_image, to_pil
from .losses import GuidedGramLoss
from .network import VGG, fast_bfloat16
from .optimize import Callback, Optimizer, ScipyLBFGSB, TorchLBFGS
from .statistics import (
    StatisticsCache,
    TextureStatistics,
    is_statistics_file,
    pool_statistics,
)
from .texture_model import DEFAULT_LAYERS, TextureModel
from .weights import Weights

Source = ImageLike | LoadedImage | TextureStatistics
Size = int | tuple[int, int] | None


@dataclass(frozen=True)
class Preset:
    """Defaults for how a synthesis runs; every field can be overridden per call.

    ``scales="auto"`` picks as many coarse-to-fine scales (up to 4) as keep the coarsest
    image and the correspondingly shrunk source at least 64 px on their shorter side.
    ``precision="auto"`` picks bfloat16 convolutions where the hardware runs them natively
    (AVX-512 BF16 / AMX CPUs, CUDA GPUs) and the source image is at hand, else float32.
    ``coarse_iters=None`` runs ``iters`` iterations at every scale.
    """

    name: str
    description: str
    iters: int
    optimizer: str  # "scipy" (ScipyLBFGSB) or "torch" (TorchLBFGS)
    precision: str  # "float32", "bfloat16" or "auto"
    scales: int | str
    coarse_iters: int | None
    tol: float

    def make_optimizer(self) -> Optimizer:
        return ScipyLBFGSB() if self.optimizer == "scipy" else TorchLBFGS()


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            "default",
            "fast: torch L-BFGS, bfloat16 where native, coarse-to-fine, stops when stalled",
            iters=300,
            optimizer="torch",
            precision="auto",
            scales="auto",
            coarse_iters=100,
            tol=1e-3,
        ),
        Preset(
            "paper",
            "faithful: the authors' recipe (SciPy L-BFGS-B, float32, one scale, white noise)",
            iters=500,
            optimizer="scipy",
            precision="float32",
            scales=1,
            coarse_iters=None,
            tol=0.0,
        ),
        Preset(
            "draft",
            "a quick preview: the default preset with a third of the iterations",
            iters=100,
            optimizer="torch",
            precision="auto",
            scales="auto",
            coarse_iters=40,
            tol=1e-3,
        ),
    )
}

# The coarsest scale chosen by scales="auto" keeps at least this many pixels per side.
AUTO_SCALE_MIN_SIDE = 64
AUTO_SCALE_MAX = 4


def get_preset(name: str) -> Preset:
    if name not in PRESETS:
        raise TexsynthError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def auto_scales(
    width: int, height: int, source_size: Sequence[int] | None, multiple: int = 1
) -> int:
    """Number of coarse-to-fine scales for ``scales="auto"`` (1 without a source image).

    ``multiple``: every scale's sides must be multiples of it (tileable syntheses).
    """
    if not source_size:
        return 1
    side = min(width, height, *source_size)

    def fits(scales: int) -> bool:
        factor = 2 ** (scales - 1)
        step = multiple * factor
        exact = multiple == 1 or (width % step == 0 and height % step == 0)
        return side // factor >= AUTO_SCALE_MIN_SIDE and exact

    scales = 1
    while scales < AUTO_SCALE_MAX and fits(scales + 1):
        scales += 1
    return scales


def resolve_precision(
    precision: str, device: torch.device, model: TextureModel, image_sources: bool
) -> str:
    """``"auto"`` → bfloat16 where it is native and its statistics can be computed (the
    sources are images, the network a VGG), else float32; other values pass through
    (:meth:`TextureModel.with_precision` rejects unknown ones)."""
    if precision != "auto":
        return precision
    native = fast_bfloat16(device) and isinstance(model.network, VGG)
    return "bfloat16" if native and image_sources else "float32"


@dataclass
class SynthesisResult:
    """A synthesised texture and the record of how it was made."""

    image: torch.Tensor  # (C, H, W) in [0, 1]
    loss_history: list[float]
    iterations: int
    evaluations: int
    stop_reason: str
    seed: int
    wall_time: float
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def initial_loss(self) -> float:
        return self.loss_history[0]

    @property
    def final_loss(self) -> float:
        return self.loss_history[-1]

    @property
    def width(self) -> int:
        return int(self.image.shape[2])

    @property
    def height(self) -> int:
        return int(self.image.shape[1])

    def to_pil(self):
        return to_pil(self.image)

    def save(self, path: str | os.PathLike) -> None:
        save_image(self.image, path)

    def record(self) -> dict[str, Any]:
        """Everything needed to reproduce and judge this run (the CLI's JSON sidecar)."""
        return {
            "texsynth_version": __version__,
            "parameters": self.parameters,
            "seed": self.seed,
            "size": [self.width, self.height],
            "iterations": self.iterations,
            "evaluations": self.evaluations,
            "stop_reason": self.stop_reason,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "loss_history": self.loss_history,
            "wall_time_s": self.wall_time,
            "versions": {
                "python": platform.python_version(),
                "torch": torch.__version__,
            },
        }


def parse_size(size: Size, default: tuple[int, int]) -> tuple[int, int]:
    """``None`` → default, ``n`` → (n, n), ``(width, height)`` as given."""
    if size is None:
        return default
    if isinstance(size, int):
        size = (size, size)
    width, height = (int(v) for v in size)
    if width <= 0 or height <= 0:
        raise SizeError(f"size must be positive, got {width}x{height}")
    return width, height


def available_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    # MemAvailable counts reclaimable page cache, which free-page counts miss.
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(
    width: int, height: int, model: TextureModel, device: torch.device, force: bool
) -> int:
    """Refuse (unless ``force``) sizes whose estimated memory exceeds what the device has free."""
    need = model.estimate_memory_bytes(width, height)
    have = available_memory_bytes(device)
    if need > 0.9 * have and not force:
        raise SizeError(
            f"a {width}x{height} synthesis needs about {need / 2**30:.1f} GiB, but only "
            f"{have / 2**30:.1f} GiB is free on {device}; choose a smaller size or pass --force"
        )
    return need


def resolve_device(device: str | torch.device) -> torch.device:
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise TexsynthError(f"unknown device {device!r}; use cpu or cuda") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TexsynthError("device cuda requested, but no CUDA GPU is available to torch")
    return dev


def white_noise(
    channels: int, height: int, width: int, lower: torch.Tensor, upper: torch.Tensor, seed: int
) -> torch.Tensor:
    """Seeded uniform white noise in each channel's [lower, upper], shape (1, C, H, W).

    Drawn on the CPU with its own generator, so the start is the same on every device.
    """
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand((1, channels, height, width), generator=gen)
    return lower.view(1, -1, 1, 1) + u * (upper - lower).view(1, -1, 1, 1)


def match_histograms(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per-channel histogram matching of (C, H, W) ``image`` to ``reference`` (scikit-image)."""
    from skimage.exposure import match_histograms as _match

    out = _match(image.cpu().numpy(), reference.cpu().numpy(), channel_axis=0)
    return torch.from_numpy(out).float().clamp(0, 1)


def shrink(pixels: torch.Tensor, factor: int) -> torch.Tensor:
    """(C, H, W) reduced by ``factor`` along each side, antialiased."""
    _, h, w = pixels.shape
    out = torch.nn.functional.interpolate(
        pixels[None],
        size=(max(1, h // factor), max(1, w // factor)),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    )
    return out[0].clamp(0, 1)


def _initial_image(
    init: torch.Tensor,
    channels: int,
    height: int,
    width: int,
    lower: torch.Tensor,
    upper: torch.Tensor,
) -> torch.Tensor:
    """``init`` as a (1, C, H, W) start: resized, channels adapted, within the bounds."""
    x = init.detach().float().cpu()
    if x.dim() != 3:
        raise ImageError(f"an initial image must be (C, H, W), not {tuple(x.shape)}")
    if x.shape[0] != channels:
        x = x.mean(0, keepdim=True) if channels == 1 else x[:1].expand(3, -1, -1)
    x = torch.nn.functional.interpolate(
        x[None], size=(height, width), mode="bilinear", align_corners=False
    )
    return x.clamp(lower.view(1, -1, 1, 1), upper.view(1, -1, 1, 1))


def _scale_record(result: SynthesisResult) -> dict[str, Any]:
    return {
        "size": [result.width, result.height],
        "iterations": result.iterations,
        "initial_loss": result.initial_loss,
        "final_loss": result.final_loss,
        "wall_time_s": result.wall_time,
    }


def _is_statistics(source: Source) -> bool:
    if isinstance(source, TextureStatistics):
        return True
    return isinstance(source, (str, os.PathLike)) and is_statistics_file(source)


def _statistics(
    model: TextureModel, image: LoadedImage, cache: StatisticsCache | None
) -> TextureStatistics:
    # Without a shared cache there is nothing to reuse: skip hashing the image.
    return model.statistics(image) if cache is None else cache.statistics(model, image)


def _source_statistics(
    source: Source, model: TextureModel, cache: StatisticsCache | None, color: bool | None = None
) -> tuple[TextureStatistics, LoadedImage | None]:
    if isinstance(source, TextureStatistics):
        return source, None
    if _is_statistics(source):
        return TextureStatistics.load(source), None  # type: ignore[arg-type]
    image = source if isinstance(source, LoadedImage) else load_image(source)
    if color and image.grayscale:
        image = LoadedImage(image.pixels.expand(3, -1, -1).contiguous(), image.name)
    return _statistics(model, image, cache), image


def _all_statistics(
    sources: Sequence[Source], model: TextureModel, cache: StatisticsCache | None
) -> tuple[list[TextureStatistics], list[LoadedImage | None]]:
    """Statistics of every source; grey examples become colour when any source has colour."""
    first = [_source_statistics(s, model, cache) for s in sources]
    if len(sources) == 1 or len({st.grayscale for st, _ in first}) == 1:
        return [st for st, _ in first], [im for _, im in first]
    if any(im is None for _, im in first):
        raise TexsynthError("cannot mix grey and colour statistics files")
    pairs = [_source_statistics(im, model, cache, color=True) for _, im in first]
    return [st for st, _ in pairs], [im for _, im in pairs]


def _guided_loss(
    labels: torch.Tensor,
    values: list[int],
    stats: list[TextureStatistics],
    model: TextureModel,
    width: int,
    height: int,
) -> nn.Module:
    if len(values) != len(stats):
        raise TexsynthError(
            f"the label map has {len(values)} regions but {len(stats)} sources were given; "
            "give one source per region, in the order of the regions' grey values"
        )
    masks = torch.stack([(labels == r).float() for r in range(len(values))])
    masks = torch.nn.functional.interpolate(masks[None], size=(height, width), mode="nearest")[0]
    targets = [s.subset(model.layers).grams for s in stats]
    return GuidedGramLoss(targets, masks, model.layer_weights)


def synthesize(
    source: Source | Sequence[Source],
    size: Size = None,
    *,
    layers: Sequence[str] = DEFAULT_LAYERS,
    layer_weights: Sequence[float] | None = None,
    iters: int | None = None,
    seed: int = 0,
    pool: str = "avg",
    weights: Weights | str | os.PathLike | None = None,
    verify_weights: bool = True,
    tol: float | None = None,
    hist_match: bool = False,
    tileable: bool = False,
    preserve_colors: bool = False,
    guide: ImageLike | None = None,
    scales: int | str | None = None,
    coarse_iters: int | None = None,
    init: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
    callback: Callback | None = None,
    snapshot_every: int = 0,
    snapshot_dir: str | os.PathLike | None = None,
    progress: bool = False,
    force: bool = False,
    model: TextureModel | None = None,
    loss: nn.Module | str | None = None,
    optimizer: Optimizer | None = None,
    precision: str | None = None,
    preset: str = "default",
    statistics_cache: StatisticsCache | None = None,
) -> SynthesisResult:
    """Synthesise a texture like ``source``.

    Args:
        source: an image (path, ``builtin:NAME``, PIL image, array, tensor) or saved
            :class:`TextureStatistics` (object or file), or a list of them: several examples
            of one texture (their statistics are pooled) or, with ``guide``, one texture per
            region.
        size: output ``(width, height)`` or one number for a square; default the source's size.
        layers, layer_weights: the texture model (default: the paper's five layers, weight 1).
        iters: maximum number of optimiser iterations (at the full scale).
        seed: seed of the white-noise start; a seeded run is bit-reproducible on one machine.
        pool: ``"avg"`` (paper) or ``"max"``.
        weights: weights file or :class:`Weights` (default: normalised VGG-19, hash-checked).
        tol: stop once the loss falls by less than this fraction over 10 iterations (0: never).
        hist_match: match each channel's histogram to the source's afterwards.
        tileable: make the result wrap around seamlessly (circular padding in the network
            while synthesising; the source's statistics are taken with zero padding, as the
            source itself does not wrap). Width and height must be multiples of the
            model's downsampling (16 for pool4), so that pooling wraps exactly too.
        preserve_colors: synthesise the luminance only and colour it with the source's
            chroma for each luminance (see :mod:`texsynth.color`). Needs the source image.
        guide: a label map (image or (H, W) array): each distinct value is a region, and
            region r (in the order of the values) gets the texture of ``source[r]``
            (spatially guided Gram loss, Gatys et al. 2017). The output size defaults to
            the label map's.
        scales: coarse-to-fine: synthesise first at 1/2^(scales−1) of the size against the
            source shrunk by the same factor, then upsample and refine at each finer scale.
            Needs the source image. ``"auto"``: see :class:`Preset`.
        coarse_iters: iterations at each coarser scale (default: ``iters``).
        init: start from this (C, H, W) image in [0, 1] (resized to the output size)
            instead of white noise.
        device: ``"cpu"`` or ``"cuda"``.
        callback: ``callback(iteration, loss, image)`` after every iteration; return True to stop.
        snapshot_every, snapshot_dir: save the image every k iterations into a folder.
        progress: show a progress bar with iteration and loss.
        force: run even when the memory estimate exceeds what is free.
        model: a prebuilt :class:`TextureModel` (overrides layers, weights, pool).
        loss: ``"gram"`` (the paper's, default), ``"swd"`` (sliced Wasserstein, Heitz et al.
            2021; needs the source image) or ``"gram+swd"``; or any loss module, which
            receives the model's features. A module with ``resample()`` has it called after
            every iteration (the SWD loss redraws its directions).
        optimizer: an object with ``minimize(...)`` (default: the preset's,
            :class:`~texsynth.optimize.TorchLBFGS` or :class:`ScipyLBFGSB`).
        precision: ``"float32"``, ``"bfloat16"`` (the network's convolutions; Gram matrices
            stay float32) or ``"auto"``. Losses are reported in the model's precision.
        preset: ``"default"`` (fast), ``"paper"`` (the authors' recipe, unchanged by any
            speed work) or ``"draft"``; see :data:`PRESETS`. ``iters``, ``tol``, ``scales``,
            ``coarse_iters``, ``precision`` and ``optimizer`` left at ``None`` come from it.
        statistics_cache: a :class:`~texsynth.statistics.StatisticsCache` to take the
            sources' statistics (at every scale) from, and to add new ones to; share one
            between syntheses of the same sources.
    """
    settings = get_preset(preset)
    iters = settings.iters if iters is None else iters
    tol = settings.tol if tol is None else tol
    scales = settings.scales if scales is None else scales
    coarse_iters = settings.coarse_iters if coarse_iters is None else coarse_iters
    coarse_iters = iters if coarse_iters is None else coarse_iters
    precision = settings.precision if precision is None else precision
    optimizer = optimizer or settings.make_optimizer()
    if iters < 0 or coarse_iters < 0:
        raise TexsynthError(f"iterations must be >= 0, got {min(iters, coarse_iters)}")
    if scales != "auto" and (not isinstance(scales, int) or scales < 1):
        raise TexsynthError(f"scales must be >= 1 or 'auto', got {scales!r}")
    if snapshot_every < 0:
        raise TexsynthError("snapshot_every must be >= 0")
    dev = resolve_device(device)
    if model is None:
        model = TextureModel.from_weights(
            weights, layers, layer_weights, pool=pool, device=dev, verify=verify_weights
        )
    else:
        model.network.to(dev)
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    if not sources:
        raise TexsynthError("no source given")
    image_sources = not any(_is_statistics(s) for s in sources)
    precision = resolve_precision(precision, dev, model, image_sources)
    # Statistics are computed by the model in its precision (see TextureModel.with_precision).
    model = model.with_precision(precision)
    all_stats, all_images = _all_statistics(sources, model, statistics_cache)
    if len(sources) == 1:
        target, image = all_stats[0], all_images[0]
    else:
        # Several examples: pooled statistics; no single source image for the features
        # that need one (histograms, colours, SWD, coarse-to-fine).
        target, image = pool_statistics(all_stats), None
    if guide is not None:
        guide_labels, guide_values = load_label_map(guide)
        if size is None:
            size = (int(guide_labels.shape[1]), int(guide_labels.shape[0]))
    # Compare only what the statistics recorded (hand-made statistics may record nothing).
    made_with = target.meta.get("weights", {})
    for key in ("sha256", "pool", "padding"):
        if key in made_with and made_with[key] != model.weights_info.get(key):
            warnings.warn(
                f"the statistics were computed with {key} {made_with.get(key)!r}, "
                f"this model uses {model.weights_info.get(key)!r}",
                stacklevel=2,
            )
    if hist_match and image is None:
        raise ImageError("histogram matching needs a single source image, not statistics")
    color_source = image
    if preserve_colors:
        if image is None:
            raise ImageError("colour preservation needs a single source image, not statistics")
        # From here on the source is its luminance; colour returns at the end.
        image = LoadedImage(luminance(image.pixels), image.name)
        target = _statistics(model, image, statistics_cache)
    default_size = tuple(target.meta.get("source_size", ())) or None
    if size is None and default_size is None:
        raise SizeError("statistics without a recorded source size need an explicit size")
    width, height = parse_size(size, default_size)  # type: ignore[arg-type]
    model.check_size(width, height, "output size")
    check_memory(width, height, model, dev, force)
    # Targets come from the source as it is (zero padding), also for tileable output.
    if guide is not None:
        if not (loss is None or loss == "gram"):
            raise TexsynthError("spatial guidance works with the Gram loss only")
        objective_loss = _guided_loss(guide_labels, guide_values, all_stats, model, width, height)
    elif loss is None or isinstance(loss, str):
        objective_loss = model.named_loss(loss or "gram", target, image, seed)
    else:
        objective_loss = loss
    objective_loss = objective_loss.to(dev)
    if tileable:
        step = model.min_size
        if width % step or height % step:
            raise SizeError(
                f"a tileable {width}x{height} texture needs sides that are multiples of "
                f"{step} px (the downsampling up to {model.deepest_layer})"
            )
        model = model.with_padding("circular")

    def objective(x: torch.Tensor) -> torch.Tensor:
        return objective_loss(model.features(x)).sum()

    channels = 1 if target.grayscale else 3
    lower, upper = target.pixel_min.float(), target.pixel_max.float()
    coarse: list[dict[str, Any]] = []
    coarse_time = 0.0
    named_loss = loss is None or isinstance(loss, str)
    if scales == "auto":
        usable = image is not None and named_loss and guide is None
        source_size = list(image.pixels.shape[:0:-1]) if usable else None  # type: ignore[union-attr]
        scales = auto_scales(width, height, source_size, model.min_size if tileable else 1)
    if scales > 1:
        if image is None or not named_loss:
            raise TexsynthError("coarse-to-fine needs a single source image and a named loss")
        factor = 2 ** (scales - 1)
        small = (width // factor, height // factor)
        if min(small) < model.min_size:
            raise SizeError(
                f"{scales} scales shrink {width}x{height} to {small[0]}x{small[1]} px, below "
                f"the {model.min_size} px that layers up to {model.deepest_layer} need"
            )
        # The coarser scales are ordinary syntheses of a shrunken source; each result,
        # upsampled, starts the next finer scale.
        rough = synthesize(
            shrink(image.pixels, 2),
            (width // 2, height // 2),
            model=model,
            iters=coarse_iters,
            coarse_iters=coarse_iters,
            seed=seed,
            tol=tol,
            tileable=tileable,
            scales=scales - 1,
            precision=precision,
            optimizer=optimizer,
            preset=preset,
            statistics_cache=statistics_cache,
            init=init,
            device=dev,
            progress=progress,
            loss=loss,
            force=force,
        )
        coarse = [*rough.parameters.get("coarse_scales", []), _scale_record(rough)]
        coarse_time = rough.wall_time  # includes the scales below it
        init = rough.image
    if init is not None:
        x0 = _initial_image(init, channels, height, width, lower, upper).to(dev)
    else:
        x0 = white_noise(channels, height, width, lower, upper, seed).to(dev)

    snapshot_path = Path(snapshot_dir) if snapshot_dir else None
    if snapshot_every and snapshot_path is None:
        raise TexsynthError("snapshots need a snapshot folder")
    if snapshot_path is not None:
        snapshot_path.mkdir(parents=True, exist_ok=True)

    def on_iteration(iteration: int, value: float, x: torch.Tensor) -> bool | None:
        if hasattr(objective_loss, "resample"):
            objective_loss.resample()
        if snapshot_every and iteration % snapshot_every == 0:
            save_image(x[0].clamp(0, 1), snapshot_path / f"iter_{iteration:05d}.png")  # type: ignore[operator]
        return callback(iteration, value, x) if callback is not None else None

    start = time.perf_counter()
    result = optimizer.minimize(
        objective,
        x0,
        lower.view(1, -1, 1, 1).to(dev),
        upper.view(1, -1, 1, 1).to(dev),
        max_iter=iters,
        tol=tol,
        callback=on_iteration,
        progress=progress,
    )
    wall = time.perf_counter() - start + coarse_time
    pixels = result.x[0].detach().cpu().clamp(0, 1)
    if preserve_colors:
        pixels = colorize(pixels, color_source.pixels)  # type: ignore[union-attr]
    if hist_match:
        pixels = match_histograms(pixels, color_source.pixels)  # type: ignore[union-attr]
    parameters = {
        "source": target.meta.get("source"),
        "size": [width, height],
        "layers": list(model.layers),
        "layer_weights": [model.layer_weights[k] for k in model.layers],
        "iters": iters,
        "tol": tol,
        "pool": model.network.pool,
        "padding": model.network.padding,
        "hist_match": hist_match,
        "tileable": tileable,
        "preserve_colors": preserve_colors,
        "sources": len(sources),
        "guided": guide is not None,
        "preset": preset,
        "precision": precision,
        "scales": scales,
        "coarse_iters": coarse_iters if scales > 1 else None,
        "coarse_scales": coarse,
        "device": str(dev),
        "optimizer": optimizer.name,
        "grayscale": pixels.shape[0] == 1,
        "model_parameters": model.parameter_count,
        "weights": model.weights_info,
        "loss": type(objective_loss).__name__,
    }
    return SynthesisResult(
        image=pixels,
        loss_history=result.loss_history,
        iterations=result.iterations,
        evaluations=result.evaluations,
        stop_reason=result.stop_reason,
        seed=seed,
        wall_time=wall,
        parameters=parameters,
    )
