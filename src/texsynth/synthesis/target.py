"""What a run matches, once its sources are read: the texture model in its precision, the
sources' statistics (pooled, per region of a guide, or mixed for a morph), the output size
and the plan of scales (:func:`prepare_target`, :func:`plan_for`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..core.devices import check_memory, resolve_device
from ..core.errors import ImageError, SizeError, TexsynthError
from ..core.options import image_size
from ..core.provenance import fingerprint
from ..core.recipe import Recipe
from ..core.registry import NETWORKS
from ..features.generator import Generator, is_generator_file, source_image
from ..features.network import fast_bfloat16
from ..features.weights import Weights
from ..image.color import luminance
from ..image.io import (
    BUILTIN_PREFIX,
    ImageLike,
    LoadedImage,
    load_image,
    load_label_map,
    resample,
)
from ..image.lattice import Lattice, find_lattice
from ..losses.objective import Morph
from ..losses.terms import Loss
from ..statistics.gram import (
    StatisticsCache,
    TextureStatistics,
    is_statistics_file,
    pool_statistics,
)
from ..statistics.model import TextureModel
from .result import ModelFacts
from .scales import Scale, halved, plan_scales

Source = ImageLike | LoadedImage | TextureStatistics
Size = int | tuple[int, int] | None
# Recipe fields that a prebuilt model= fixes.
MODEL_FIELDS = ("network", "layers", "layer_weights", "pool")


@dataclass
class PreparedTarget:
    """Everything a synthesis matches, once its sources are read."""

    stats_model: TextureModel  # computes the sources' statistics (zero padding)
    synth_model: TextureModel  # computes the synthesis's features (circular when tileable)
    statistics: TextureStatistics  # the full-size target (of the luminance, for colours)
    image: LoadedImage | None  # the one source image, if there is exactly one
    color_source: LoadedImage | None  # that image before any luminance conversion
    regions: list[TextureStatistics] | None  # guidance: each region's statistics …
    labels: torch.Tensor | None  # … and the label map's region indices
    width: int
    height: int
    recorded_sources: tuple[str, ...]
    guide_name: str | None
    lattice: Lattice | None = None  # the source's, when a structure term may need it
    calibration: dict[str, float] = field(default_factory=dict)  # shared by the scales
    inputs: tuple[dict[str, Any], ...] = ()  # each input file's size and sha256
    morph: Morph | None = None  # a morph's two source images and its mix
    depth: int = 8  # bits per sample of the deepest source image's file

    def single_source_size(self) -> tuple[int, int] | None:
        if self.image is None or self.regions is not None:
            return None
        return self.image.width, self.image.height

    def facts(self, loss: Loss, optimizer: str) -> ModelFacts:
        m = self.synth_model
        return ModelFacts(
            tuple(m.layers), tuple(m.layer_weights[k] for k in m.layers),
            _precision_name(m), m.network.padding, m.parameter_count, m.weights_info,
            type(loss).__name__, optimizer, str(m.device),
        )  # fmt: skip


def prepare_target(
    source: Source | Sequence[Source],
    size: Size,
    recipe: Recipe,
    guide: ImageLike | None = None,
    device: str | torch.device = "cpu",
    weights: Weights | str | os.PathLike | None = None,
    verify: bool = True,
    model: TextureModel | None = None,
    force: bool = False,
    cache: StatisticsCache | None = None,
    mix: float | None = None,
) -> PreparedTarget:
    """Read the sources, build the model in its precision, and compute the statistics
    (pooled for several sources; interpolated by ``mix`` for a morph of two)."""
    dev = resolve_device(device)
    sources = list(source) if isinstance(source, (list, tuple)) else [source]
    if not sources:
        raise TexsynthError("no source given")
    model = _base_model(recipe, model, weights, verify, dev)
    images_only = not any(_is_statistics(s) for s in sources)
    model = model.with_precision(resolve_precision(recipe.precision, dev, model, images_only))
    read = [_load_source(s) for s in sources]
    for item, given in zip(read, sources, strict=True):
        _check_source(model, item, recipe.source_scale, _describe(given), dev, force)
    loaded = _same_colour_mode([_rescaled(item, recipe.source_scale) for item in read])
    image = loaded[0] if len(loaded) == 1 and isinstance(loaded[0], LoadedImage) else None
    _needs_one_image(recipe, image)
    color_source = image
    if recipe.preserve_colors:  # from here on the source is its luminance
        image = loaded[0] = LoadedImage(luminance(image.pixels), image.name)  # type: ignore[union-attr]
    stats = [_statistics(model, s, cache) for s in loaded]
    morph = None
    if mix is not None:
        _check_mix(recipe, len(stats), guide)
        images = all(isinstance(s, LoadedImage) for s in loaded)
        morph = Morph(mix, (loaded[0], loaded[1]) if images else None)  # type: ignore[arg-type]
    weights = None if morph is None else morph.weights
    statistics = stats[0] if len(stats) == 1 else pool_statistics(stats, weights)
    labels = regions = None
    if guide is not None:
        labels, values = load_label_map(guide)
        size = size or (int(labels.shape[1]), int(labels.shape[0]))
        regions = _one_per_region(stats, values)
    width, height = _output_size(size, statistics)
    model.check_size(width, height, "output size")
    check_memory(model.estimate_memory_bytes(width, height), width, height, dev, force)
    synth_model = model.with_padding("circular") if recipe.tileable else model
    recorded = tuple(_describe(s) for s in sources)
    guide_name = None if guide is None else _describe(guide)
    lattice = find_lattice(image.pixels) if image and recipe.structure != "off" else None
    inputs = _input_files(sources, read, guide, labels)
    return PreparedTarget(
        model, synth_model, statistics, image, color_source, regions, labels, width, height,
        recorded, guide_name, lattice, inputs=inputs, morph=morph,
        depth=max((s.depth for s in read if isinstance(s, LoadedImage)), default=8),
    )  # fmt: skip


def _check_source(
    model: TextureModel,
    source: LoadedImage | TextureStatistics,
    factor: float,
    name: str,
    device: torch.device,
    force: bool,
) -> None:
    """Refuse, before any work, statistics the model cannot match and a source whose
    analysis (after resampling by ``factor``) would not fit in memory."""
    if isinstance(source, TextureStatistics):
        model.check_statistics(source, name)
        return
    width, height = (max(1, round(side * factor)) for side in (source.width, source.height))
    need = model.estimate_analysis_bytes(width, height)
    check_memory(need, width, height, device, force, f"analysis of source {name}")


def _input_files(
    sources: Sequence[Source],
    read: Sequence[LoadedImage | TextureStatistics],
    guide: ImageLike | None,
    labels: torch.Tensor | None,
) -> tuple[dict[str, Any], ...]:
    """The fingerprint of every input that is a file (sources, then the guide)."""
    found = []
    for given, item in zip(sources, read, strict=True):
        if _is_file(given):
            image = item if isinstance(item, LoadedImage) else None
            pixels = (image.width, image.height) if image else None
            sha256 = image.sha256 if image else None  # of the bytes decoded: not read again
            found.append(fingerprint(given, "source", pixels, sha256))  # type: ignore[arg-type]
    if guide is not None and _is_file(guide) and labels is not None:
        found.append(fingerprint(guide, "guide", (int(labels.shape[1]), int(labels.shape[0]))))  # type: ignore[arg-type]
    return tuple(found)


def _is_file(source: Any) -> bool:
    if isinstance(source, str) and source.startswith(BUILTIN_PREFIX):
        return False
    return isinstance(source, (str, os.PathLike)) and Path(source).is_file()


def _base_model(
    recipe: Recipe,
    model: TextureModel | None,
    weights: Weights | str | os.PathLike | None,
    verify: bool,
    device: torch.device,
) -> TextureModel:
    if model is not None:
        model.network.to(device)
        return model
    build = NETWORKS[recipe.network]
    return build(recipe.layers, recipe.layer_weights, recipe.pool, weights, device, verify)


def resolve_precision(
    precision: str, device: torch.device, model: TextureModel, image_sources: bool
) -> str:
    """``"auto"`` → bfloat16 where it is native and its statistics can be computed (the
    sources are images, the network runs it natively), else float32; other values pass through
    (:meth:`TextureModel.with_precision` rejects unknown ones)."""
    if precision != "auto":
        return precision
    native = fast_bfloat16(device) and model.network.native_bfloat16
    return "bfloat16" if native and image_sources else "float32"


def _precision_name(model: TextureModel) -> str:
    return str(model.dtype).removeprefix("torch.")


def _is_statistics(source: Source) -> bool:
    if isinstance(source, TextureStatistics):
        return True
    return isinstance(source, (str, os.PathLike)) and is_statistics_file(source)


def _load_source(source: Source) -> LoadedImage | TextureStatistics:
    if isinstance(source, (TextureStatistics, LoadedImage)):
        return source
    if _is_statistics(source):
        return TextureStatistics.load(source)  # type: ignore[arg-type]
    return source_image(source)


def generator_start(target: PreparedTarget, recipe: Recipe, seed: int) -> torch.Tensor:
    """The start of ``start: generator``: the sample of the one ``.gen`` source for
    ``seed`` at the output size, (C, H, W)."""
    gens = [s for s in target.recorded_sources if is_generator_file(s)]
    if len(target.recorded_sources) != 1 or not gens:
        raise TexsynthError("start: generator needs one source, a .gen file of texsynth train")
    sample = Generator.load(gens[0]).sample(1, (target.width, target.height), seed, recipe.tileable)
    return sample[0]


def _rescaled(
    source: LoadedImage | TextureStatistics, factor: float
) -> LoadedImage | TextureStatistics:
    """The source resampled by ``factor`` (antialiased), so its features change size."""
    if factor == 1:
        return source
    if isinstance(source, TextureStatistics):
        raise TexsynthError("source_scale needs source images, not statistics")
    _, h, w = source.pixels.shape
    height, width = max(1, round(h * factor)), max(1, round(w * factor))

    def scaled(values: torch.Tensor | None) -> torch.Tensor | None:
        return None if values is None else resample(values, height, width)

    alpha = scaled(None if source.alpha is None else source.alpha[None])
    return dataclasses.replace(
        source, pixels=scaled(source.pixels), alpha=None if alpha is None else alpha[0],
        unblended=scaled(source.unblended), sha256=None,
    )  # fmt: skip


def _same_colour_mode(
    loaded: list[LoadedImage | TextureStatistics],
) -> list[LoadedImage | TextureStatistics]:
    """Grey examples become colour when any example has colour."""
    if len({item.grayscale for item in loaded}) < 2:
        return loaded
    if any(isinstance(item, TextureStatistics) for item in loaded):
        raise TexsynthError("cannot mix grey and colour statistics files")
    return [
        LoadedImage(im.pixels.expand(3, -1, -1).contiguous(), im.name) if im.grayscale else im
        for im in loaded  # type: ignore[union-attr]
    ]


def _needs_one_image(recipe: Recipe, image: LoadedImage | None) -> None:
    if image is not None:
        return
    if recipe.hist_match:
        raise ImageError("histogram matching needs a single source image, not statistics")
    if recipe.preserve_colors:
        raise ImageError("colour preservation needs a single source image, not statistics")


def _check_mix(recipe: Recipe, sources: int, guide: ImageLike | None) -> None:
    """A morph takes two sources, no guide and no structure term (the losses that cannot
    interpolate their statistics say so when they are built)."""
    if sources != 2:
        raise TexsynthError(f"--mix morphs between two sources; {sources} given")
    if guide is not None:
        raise TexsynthError("--mix and --guide cannot be combined")
    if recipe.structure == "on":
        raise TexsynthError(
            "a morph (--mix) cannot interpolate a structure term: the two sources' lattices "
            "differ; use --structure auto or off"
        )


def _statistics(
    model: TextureModel, source: LoadedImage | TextureStatistics, cache: StatisticsCache | None
) -> TextureStatistics:
    if isinstance(source, TextureStatistics):
        return source
    # Without a shared cache there is nothing to reuse: skip hashing the image.
    return model.statistics(source) if cache is None else cache.statistics(model, source)


def _one_per_region(stats: list[TextureStatistics], values: list[int]) -> list[TextureStatistics]:
    if len(values) != len(stats):
        raise TexsynthError(
            f"the label map has {len(values)} regions but {len(stats)} sources were given; "
            "give one source per region, in the order of the regions' grey values"
        )
    return stats


def _output_size(size: Size, statistics: TextureStatistics) -> tuple[int, int]:
    if size is None:
        recorded = statistics.meta.get("source_size")
        if not recorded:
            raise SizeError("statistics without a recorded source size need an explicit size")
        size = tuple(recorded)  # type: ignore[assignment]
    try:
        return image_size(size)
    except ValueError as exc:
        raise SizeError(f"size: {exc}") from None


def _describe(source: Any) -> str:
    """How a run's sidecar names a source or guide: files by their absolute path."""
    if isinstance(source, str) and source.startswith(BUILTIN_PREFIX):
        return source
    if isinstance(source, (str, os.PathLike)):
        return str(Path(source).resolve())
    if isinstance(source, LoadedImage):
        return source.name
    if isinstance(source, TextureStatistics):
        return str(source.meta.get("source") or "<statistics>")
    return f"<{type(source).__name__}>"


def plan_for(target: PreparedTarget, recipe: Recipe) -> list[Scale]:
    """The scales a synthesis of ``target`` by ``recipe`` runs at, coarsest first; one
    scale from a generator's sample, which has its structure already."""
    scales = 1 if recipe.start == "generator" else recipe.scales
    return plan_scales(
        target.width, target.height, scales, recipe.iters, recipe.coarse_iters,
        target.single_source_size(), target.stats_model.min_size, recipe.tileable,
        recipe.iters_side,
    )  # fmt: skip


def scale_source(
    target: PreparedTarget, scale: Scale, cache: StatisticsCache | None
) -> tuple[TextureStatistics, LoadedImage | None]:
    """The source's statistics and image at ``scale`` (shrunk as planned)."""
    if not scale.halvings:
        return target.statistics, target.image
    image = load_image(halved(target.image.pixels, scale.halvings))  # type: ignore[union-attr]
    return _statistics(target.stats_model, image, cache), image


def warm_statistics(
    source: Source | Sequence[Source],
    size: Size,
    recipe: Recipe,
    cache: StatisticsCache,
    guide: ImageLike | None = None,
    device: str | torch.device = "cpu",
    weights: Weights | str | os.PathLike | None = None,
    model: TextureModel | None = None,
) -> TextureModel:
    """Fill ``cache`` with every statistic a synthesis of ``source`` by ``recipe`` will ask
    for, at every scale (batch runs do this once per source before their jobs start).

    Returns the network's model as built, to pass back as ``model`` for the next recipe
    with the same network, layers and pooling.
    """
    model = model or _base_model(recipe, None, weights, True, resolve_device(device))
    target = prepare_target(source, size, recipe, guide, device, weights, True, model, True, cache)
    for scale in plan_for(target, recipe):
        scale_source(target, scale, cache)
    return model
