"""Texture synthesis: start from white noise and optimise the pixels.

``synthesize`` is the one entry point of the Python API; the CLI and batch runs call it.
It runs named stages:

1. :func:`prepare_target`: the texture model in its precision, the sources' statistics,
   the output size;
2. :func:`plan_scales` (coarse-to-fine, in :mod:`texsynth.synthesis.scales`);
3. for each scale, :func:`build_objective` (the recipe's loss against the source at that
   scale) and :func:`run_scale` (the optimiser, from white noise or the previous scale);
4. :func:`finish`: colours and histograms.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..core.devices import check_memory, resolve_device
from ..core.errors import ImageError, OutputError, SizeError, TexsynthError
from ..core.files import OutputAppeared, reason
from ..core.options import image_size
from ..core.provenance import fingerprint
from ..core.recipe import PRESETS, Recipe, Task, make_recipe, preset_name
from ..core.registry import LOSSES, NETWORKS, OPTIMIZERS, STRUCTURES
from ..features.generator import Generator, is_generator_file, source_image
from ..features.network import fast_bfloat16
from ..features.weights import Weights
from ..image.color import colorize, luminance
from ..image.io import (
    BUILTIN_PREFIX,
    ImageLike,
    LoadedImage,
    load_image,
    load_label_map,
    resample,
    save_image,
)
from ..image.lattice import Lattice, find_lattice
from ..losses.objective import Morph, ObjectiveTarget, pixel_histogram
from ..losses.terms import IMAGE, CalibratedSum, Loss
from ..optimize.lbfgs import Callback, Optimizer, StopRule
from ..statistics.gram import (
    StatisticsCache,
    TextureStatistics,
    is_statistics_file,
    pool_statistics,
)
from ..statistics.model import TextureModel
from .result import ModelFacts, ScaleRecord, SynthesisResult
from .scales import Scale, halved, plan_scales, upsample

Source = ImageLike | LoadedImage | TextureStatistics
Size = int | tuple[int, int] | None
# Recipe fields that a prebuilt model= fixes.
MODEL_FIELDS = ("network", "layers", "layer_weights", "pool")

__all__ = ["PRESETS", "SynthesisResult", "synthesize"]


def synthesize(
    source: Source | Sequence[Source],
    size: Size = None,
    recipe: Recipe | str = "default",
    *,
    seed: int = 0,
    guide: ImageLike | None = None,
    mix: float | None = None,
    init: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
    weights: Weights | str | os.PathLike | None = None,
    verify_weights: bool = True,
    model: TextureModel | None = None,
    statistics_cache: StatisticsCache | None = None,
    callback: Callback | None = None,
    snapshot_every: int = 0,
    snapshot_dir: str | os.PathLike | None = None,
    progress: bool = False,
    force: bool = False,
    overwrite: bool = False,
    **overrides: Any,
) -> SynthesisResult:
    """Synthesise a texture like ``source`` by ``recipe`` (a :class:`Recipe` or a preset's
    name), any recipe field overridden by keyword: ``synthesize(src, 256, iters=100)``.

    ``source``: an image (path, ``builtin:NAME``, PIL image, array, tensor) or saved
    statistics, or a list: examples of one texture (pooled), or one per region of ``guide``
    (a label map; region r, in the order of its values, gets ``source[r]``), or two
    sources and ``mix`` (0 to 1): a morph whose Gram matrices are ``(1 - mix)`` times the
    first source's plus ``mix`` times the second's (SWD and histogram targets: the
    barycentres of the two sources' distributions). ``size``:
    (width, height) or one number; default the source's or the guide's. ``init``: a
    (C, H, W) start instead of white noise. ``model``: a prebuilt :class:`TextureModel`
    (it fixes network, layers, pooling). ``statistics_cache``: share the sources'
    statistics between syntheses. ``callback(iteration, loss, image)`` runs after every
    iteration of every scale (the image's shape tells the scale; True ends that scale);
    ``snapshot_every`` saves every k-th image to ``snapshot_dir``; ``progress`` shows one
    bar over all scales; ``force`` runs past the memory estimate; ``overwrite`` lets
    snapshots replace files of the same name (else such a file is refused at the start).
    """
    if model is not None and any(overrides.get(k) is not None for k in MODEL_FIELDS):
        raise TexsynthError(f"model= fixes {', '.join(MODEL_FIELDS)}; give them to the model")
    base = preset_name(recipe) if isinstance(recipe, Recipe) else recipe
    recipe = make_recipe(recipe, **overrides)
    hooks = RunHooks(callback, snapshot_every, snapshot_dir, progress, overwrite)
    target = prepare_target(
        source, size, recipe, guide, device, weights, verify_weights, model, force,
        statistics_cache, mix,
    )  # fmt: skip
    plan = plan_for(target, recipe)
    if recipe.start == "generator" and init is None:
        init = generator_start(target, recipe, seed)
    optimizer: Optimizer = OPTIMIZERS[recipe.optimizer]()
    records: list[ScaleRecord] = []
    x = None
    # The first scale's loss is built before the progress bar, so a loss that cannot be
    # built (SWD of saved statistics) is one line on stderr, not a line after a bar.
    objective = build_objective(target, recipe, plan[0], seed, statistics_cache)
    with hooks.over(plan):
        for index, scale in enumerate(plan):
            if index:
                objective = build_objective(target, recipe, scale, seed, statistics_cache)
            x0 = start_image(objective, scale, x, init, seed)
            on_iteration = hooks.at(index)
            x, record = run_scale(objective, x0, scale, stop_rule(recipe), optimizer, on_iteration)
            records.append(record)
    image = finish(x, target, recipe)
    task = Task(
        target.recorded_sources, (target.width, target.height), seed, target.guide_name, mix
    )
    facts = target.facts(objective.loss, recipe.optimizer)
    preset = base if base in PRESETS else None
    return SynthesisResult(image, recipe, task, records, facts, preset, target.inputs)


# --------------------------------------------------------------------------- targets ----
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
            pixels = (item.width, item.height) if isinstance(item, LoadedImage) else None
            found.append(fingerprint(given, "source", pixels))  # type: ignore[arg-type]
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
    pixels = resample(source.pixels, max(1, round(h * factor)), max(1, round(w * factor)))
    return LoadedImage(pixels, source.name)


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


# ------------------------------------------------------------------------ objectives ----
@dataclass
class ScaleObjective:
    """The loss at one scale, as the optimiser calls it: pixels → scalar."""

    loss: Loss
    model: TextureModel
    statistics: TextureStatistics  # the source's at this scale: pixel bounds and channels

    redraw_every: int = 0  # iterations between redraws of a stochastic loss (0: never)
    # An edit's kept pixels at this scale, (1, C, H, W), and its (1, 1, H, W) hole: the
    # loss sees them in place of x outside the hole, so their gradient is zero and they
    # never move (texsynth.synthesis.edit).
    kept: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.kept is not None:
            pixels, hole = self.kept
            x = torch.where(hole, x, pixels)
        return self.loss(self.model.features(x) | {IMAGE: x}).sum()

    def redraw(self, iteration: int) -> bool:
        """After ``iteration``: redraw a stochastic loss's random numbers when due; True
        when the function changed (the optimiser then restarts its curvature memory)."""
        due = self.redraw_every and iteration % self.redraw_every == 0
        if not (due and self.loss.stochastic):
            return False
        self.loss.resample()
        return True

    @property
    def bounds(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel pixel bounds, (1, C, 1, 1) on the model's device."""
        lower, upper = self.statistics.pixel_min.float(), self.statistics.pixel_max.float()
        shape = (1, -1, 1, 1)
        return lower.view(shape).to(self.model.device), upper.view(shape).to(self.model.device)

    @property
    def channels(self) -> int:
        return 1 if self.statistics.grayscale else 3


def build_objective(
    target: PreparedTarget,
    recipe: Recipe,
    scale: Scale,
    seed: int,
    cache: StatisticsCache | None = None,
) -> ScaleObjective:
    """The recipe's loss against the source shrunk to ``scale``.

    The source's statistics come from the zero-padded model at every scale, also for
    tileable output: the source itself does not wrap around.
    """
    statistics, image = scale_source(target, scale, cache)
    masks = None
    if target.labels is not None:
        masks = _region_masks(target.labels, len(target.regions), scale)  # type: ignore[arg-type]
    lattice = _halved_lattice(target.lattice, scale.halvings)
    context = ObjectiveTarget(
        target.stats_model, statistics, image, seed, target.regions, masks, scale.size, lattice,
        target.morph if not scale.halvings else None,
    )  # fmt: skip
    loss = LOSSES[recipe.loss](context)
    if _structure_at(recipe, target, scale):
        structure = STRUCTURES[recipe.structure_loss](context)
        fixed = recipe.structure_weighting == "fixed"
        calibration = None if fixed else target.calibration
        loss = CalibratedSum(loss, structure, recipe.structure_weight, calibration)
    if recipe.histogram_weight > 0 and (recipe.histogram_scales == "all" or not scale.halvings):
        histogram = pixel_histogram(context)
        loss = CalibratedSum(
            loss, histogram, recipe.histogram_weight, target.calibration, "histogram"
        )
    device = target.synth_model.device
    return ScaleObjective(loss.to(device), target.synth_model, statistics, recipe.redraw_every)


def _structure_at(recipe: Recipe, target: PreparedTarget, scale: Scale) -> bool:
    """Whether the recipe's structure term applies at ``scale``."""
    wanted = recipe.structure == "on" or (recipe.structure == "auto" and target.lattice)
    return bool(wanted) and (recipe.structure_scales == "all" or scale.halvings > 0)


def _halved_lattice(lattice: Lattice | None, halvings: int) -> Lattice | None:
    if lattice is None or not halvings:
        return lattice
    lags = tuple((round(dy / 2**halvings), round(dx / 2**halvings)) for dy, dx in lattice.lags)
    return Lattice(lags, lattice.prominence)


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


def _region_masks(labels: torch.Tensor, regions: int, scale: Scale) -> torch.Tensor:
    masks = torch.stack([(labels == r).float() for r in range(regions)])
    size = (scale.height, scale.width)
    return torch.nn.functional.interpolate(masks[None], size=size, mode="nearest")[0]


# ------------------------------------------------------------------------- iterating ----
def white_noise(
    channels: int, height: int, width: int, lower: torch.Tensor, upper: torch.Tensor, seed: int
) -> torch.Tensor:
    """Seeded uniform white noise in each channel's [lower, upper], shape (1, C, H, W).

    Drawn on the CPU with its own generator, so the start is the same on every device.
    """
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand((1, channels, height, width), generator=gen)
    return lower.view(1, -1, 1, 1) + u * (upper - lower).view(1, -1, 1, 1)


def start_image(
    objective: ScaleObjective,
    scale: Scale,
    previous: torch.Tensor | None,
    init: torch.Tensor | None,
    seed: int,
) -> torch.Tensor:
    """The previous scale's result upsampled; at the first scale ``init`` or white noise."""
    lower, upper = (b.cpu() for b in objective.bounds)
    if previous is not None:
        init = previous[0].detach().cpu().clamp(0, 1)
    if init is None:
        noise = white_noise(objective.channels, scale.height, scale.width, lower, upper, seed)
        return noise.to(objective.model.device)
    x = init.detach().float().cpu()
    if x.dim() != 3:
        raise ImageError(f"an initial image must be (C, H, W), not {tuple(x.shape)}")
    if x.shape[0] != objective.channels:
        x = x.mean(0, keepdim=True) if objective.channels == 1 else x[:1].expand(3, -1, -1)
    return upsample(x, scale.width, scale.height).clamp(lower, upper).to(objective.model.device)


def stop_rule(recipe: Recipe) -> StopRule:
    """The recipe's stop rule, the same at every scale."""
    return StopRule(tol=recipe.tol, change=recipe.stop_change)


def run_scale(
    objective: ScaleObjective,
    x0: torch.Tensor,
    scale: Scale,
    stop: StopRule,
    optimizer: Optimizer,
    on_iteration: Callback,
) -> tuple[torch.Tensor, ScaleRecord]:
    """Optimise the pixels at one scale; the result and what happened."""
    lower, upper = objective.bounds
    start = time.perf_counter()
    result = optimizer.minimize(
        objective, x0, lower, upper, max_iter=scale.iters, stop=stop, callback=on_iteration
    )
    record = ScaleRecord(
        scale.size, result.loss_history, result.iterations, result.evaluations,
        result.stop_reason, time.perf_counter() - start, type(objective.loss).__name__,
    )  # fmt: skip
    return result.x, record


def finish(x: torch.Tensor, target: PreparedTarget, recipe: Recipe) -> torch.Tensor:
    """The final pixels, coloured and histogram-matched as the recipe asks."""
    pixels = x[0].detach().cpu().clamp(0, 1)
    if recipe.preserve_colors:
        pixels = colorize(pixels, target.color_source.pixels)  # type: ignore[union-attr]
    if recipe.hist_match:
        pixels = match_histograms(pixels, target.color_source.pixels)  # type: ignore[union-attr]
    return pixels


def match_histograms(image: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Per-channel histogram matching of (C, H, W) ``image`` to ``reference`` (scikit-image)."""
    from skimage.exposure import match_histograms as _match

    out = _match(image.cpu().numpy(), reference.cpu().numpy(), channel_axis=0)
    return torch.from_numpy(out).float().clamp(0, 1)


# ----------------------------------------------------------- callback, snapshots, bar ----
class RunHooks:
    """What watches a synthesis: the user's callback, snapshots, and one progress bar."""

    def __init__(
        self,
        callback: Callback | None,
        snapshot_every: int,
        snapshot_dir: str | os.PathLike | None,
        progress: bool,
        overwrite: bool = False,
    ) -> None:
        if snapshot_every < 0:
            raise TexsynthError("snapshot_every must be >= 0")
        if snapshot_every and snapshot_dir is None:
            raise TexsynthError("snapshots need a snapshot folder")
        self.callback = callback
        self.snapshot_every = snapshot_every
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.progress = progress
        self.overwrite = overwrite
        self.plan: list[Scale] = []
        self.bar: Any = None

    @contextlib.contextmanager
    def over(self, plan: list[Scale]) -> Iterator[RunHooks]:
        """Watch the scales of ``plan``; the bar counts every scale's iteration budget."""
        from tqdm.auto import tqdm

        self.plan = plan
        if self.snapshot_every:
            self._check_snapshot_dir()
        total = sum(s.iters for s in plan)
        self.bar = tqdm(total=total, desc="synthesis", unit="it", disable=not self.progress)
        try:
            yield self
        finally:
            self.bar.close()

    def at(self, index: int) -> Callback:
        """The per-iteration hook of scale ``index``."""
        scale = self.plan[index]
        self.bar.update(sum(s.iters for s in self.plan[:index]) - self.bar.n)  # skip the rest
        prefix = "" if len(self.plan) == 1 else f"scale{index + 1}_"

        def on_iteration(iteration: int, value: float, x: torch.Tensor) -> bool | None:
            self.bar.update(1)
            self.bar.set_postfix(size=f"{scale.width}x{scale.height}", loss=f"{value:.4g}")
            if self.snapshot_every and iteration % self.snapshot_every == 0:
                self._snapshot(x, f"{prefix}iter_{iteration:05d}.png")
            return self.callback(iteration, value, x) if self.callback is not None else None

        return on_iteration

    def _names(self) -> list[str]:
        """Every snapshot this plan may write."""
        names = []
        for index, scale in enumerate(self.plan):
            prefix = "" if len(self.plan) == 1 else f"scale{index + 1}_"
            names += [
                f"{prefix}iter_{i:05d}.png" for i in range(1, scale.iters + 1)
                if i % self.snapshot_every == 0
            ]  # fmt: skip
        return names

    def _check_snapshot_dir(self) -> None:
        """Make the folder; refuse, before any work, snapshots that would replace files."""
        folder = self.snapshot_dir
        assert folder is not None
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"snapshot folder is a file: {folder}")
        taken = [n for n in self._names() if (folder / n).exists()] if folder.is_dir() else []
        if taken and not self.overwrite:
            raise OutputError(
                f"{folder} already holds snapshots ({taken[0]} …); pass --overwrite to replace "
                "them, or choose another --snapshot-dir"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot make snapshot folder {folder}: {reason(exc)}") from None

    def _snapshot(self, x: torch.Tensor, name: str) -> None:
        try:
            save_image(x[0].clamp(0, 1), self.snapshot_dir / name, self.overwrite)  # type: ignore[operator]
        except OutputAppeared as exc:  # a file made meanwhile is kept; so is the snapshot
            warnings.warn(str(exc), stacklevel=2)
