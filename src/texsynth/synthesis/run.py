"""Texture synthesis: start from white noise and optimise the pixels.

``synthesize`` is the one entry point of the Python API; the CLI and batch runs call it.
It runs named stages, each in its own module:

1. :func:`~.target.prepare_target`: the texture model in its precision, the sources'
   statistics, the output size, and :func:`~.target.plan_for` the coarse-to-fine plan;
2. :func:`~.driver.run_plan` (the driver the edits and the metamer share): at each scale
   :func:`~.objectives.build_objective` (the recipe's loss against the source at that
   scale) from :func:`~.driver.start_image` (white noise or the previous scale);
3. :func:`finish`: colours and histograms.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import torch

from ..core.devices import check_memory
from ..core.errors import TexsynthError
from ..core.recipe import (
    MORPH_LOSS,
    PRESETS,
    Recipe,
    Task,
    depth_choice,
    make_recipe,
    recorded_preset,
)
from ..features.weights import Weights
from ..image.color import colorize
from ..image.io import ImageLike
from ..image.material import (
    Material,
    SurfaceMap,
    as_map,
    made_material,
    map_memory,
    read_maps,
    resampled_map,
    writes_more,
)
from ..image.places import nearest_places
from ..optimize.lbfgs import Callback
from ..statistics.gram import StatisticsCache
from ..statistics.model import TextureModel
from .driver import ScaleSetup, run_plan, start_image, stop_rule
from .hooks import RunHooks
from .objectives import build_objective
from .result import SynthesisResult, map_input
from .scales import Scale
from .target import (
    MODEL_FIELDS,
    PreparedTarget,
    Size,
    Source,
    generator_start,
    plan_for,
    prepare_target,
)

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
    maps: Sequence[str] = (),
    depth: int | None = None,
    **overrides: Any,
) -> SynthesisResult:
    """Synthesise a texture like ``source`` by ``recipe`` (a :class:`Recipe` or a preset's
    name), any recipe field overridden by keyword: ``synthesize(src, 256, iters=100)``.

    ``source``: an image (path, ``builtin:NAME``, PIL image, array, tensor) or saved
    statistics, or a list: examples of one texture (pooled), or one per region of ``guide``
    (a label map; region r, in the order of its values, gets ``source[r]``), or two
    sources and ``mix`` (0 to 1): a morph whose Gram matrices are ``(1 - mix)`` times the
    first source's plus ``mix`` times the second's (SWD and histogram targets: the
    barycentres of the two sources' distributions); from a preset name with no ``loss``
    given, a morph's loss is ``MORPH_LOSS`` (swd, the barycentre). ``size``:
    (width, height) or one number; default the source's or the guide's. ``init``: a
    (C, H, W) start instead of white noise. ``model``: a prebuilt :class:`TextureModel`
    (it fixes network, layers, pooling). ``statistics_cache``: share the sources'
    statistics between syntheses. ``callback(iteration, loss, image)`` runs after every
    iteration of every scale (the image's shape tells the scale; True ends that scale);
    ``snapshot_every`` saves every k-th image to ``snapshot_dir``; ``progress`` shows one
    bar over all scales; ``force`` runs past the memory estimate; ``overwrite`` lets
    snapshots replace files of the same name (else such a file is refused at the start).
    ``maps``: the other maps of the one source image's surface (normal, height …), each
    made from the source patch nearest each output pixel (``result.material``,
    docs/materials.md); ``depth``: bits per sample of the outputs (None: each input's).
    """
    if model is not None and any(overrides.get(k) is not None for k in MODEL_FIELDS):
        raise TexsynthError(f"model= fixes {', '.join(MODEL_FIELDS)}; give them to the model")
    preset = recorded_preset(recipe)
    if mix is not None and isinstance(recipe, str) and overrides.get("loss") is None:
        overrides["loss"] = MORPH_LOSS  # recorded in the recipe, so a replay is the same
    recipe = make_recipe(recipe, **overrides)
    hooks = RunHooks(callback, snapshot_every, snapshot_dir, progress, overwrite)
    target = prepare_target(
        source, size, recipe, guide, device, weights, verify_weights, model, force,
        statistics_cache, mix,
    )  # fmt: skip
    plan = plan_for(target, recipe)
    if recipe.start == "generator" and init is None:
        init = generator_start(target, recipe, seed)

    def prepare(index: int, scale: Scale, previous: torch.Tensor | None) -> ScaleSetup:
        objective = build_objective(target, recipe, scale, seed, statistics_cache)
        start = start_image(objective, scale, previous, init, seed)
        return ScaleSetup(objective, start, stop_rule(recipe))

    found = source_maps(target, recipe, maps, force)
    x, records, objective = run_plan(plan, prepare, recipe.optimizer, hooks)
    image = finish(x, target, recipe)
    task = Task(
        target.recorded_sources, (target.width, target.height), seed, target.guide_name, mix,
        tuple(m.path for m in found), depth_choice(depth),
    )  # fmt: skip
    facts = target.facts(objective.loss, recipe.optimizer)
    material = synthesised_material(image, target, found, depth, recipe.tileable)
    inputs = (*target.inputs, *(map_input(m) for m in found))
    return SynthesisResult(image, recipe, task, records, facts, preset, inputs, material=material)


def source_maps(
    target: PreparedTarget, recipe: Recipe, maps: Sequence[str], force: bool
) -> list[SurfaceMap]:
    """The other maps of the one source image, read and checked before the synthesis, at
    the source's working size (``source_scale``; a normal map resampled as vectors)."""
    if not maps:
        return []
    source = target.color_source
    if source is None or target.regions is not None or target.morph is not None:
        raise TexsynthError(
            "--maps are the other maps of one source image; give one source, with no "
            "--guide and no --mix"
        )
    size = (source.width, source.height)
    read_size = tuple(target.inputs[0].get("pixels", size)) if target.inputs else size
    width, height = target.width, target.height
    check_memory(map_memory(len(maps), width, height), width, height, torch.device("cpu"),
                 force, "material maps")  # fmt: skip
    found = read_maps(tuple(maps), read_size)  # type: ignore[arg-type]
    return [m if m.size == size else resampled_map(m, source.height, source.width)
            for m in found]  # fmt: skip


def synthesised_material(
    image: torch.Tensor,
    target: PreparedTarget,
    maps: list[SurfaceMap],
    depth: int | None,
    tileable: bool,
) -> Material | None:
    """What a synthesis writes beyond its 8-bit image: the source's depth and alpha, and
    its maps, each read at the source patch nearest each output pixel (several sources:
    the deepest one's depth, no alpha)."""
    source = target.color_source
    if source is None or target.regions is not None or target.morph is not None:
        deep = depth or target.depth
        return None if deep == 8 else Material(SurfaceMap("", image, deep, False, False))
    surface = as_map(source, source.name, normal=False)
    if not writes_more(surface, maps, depth):
        return None  # before the search for places, which only the maps and alpha need
    places = nearest_places(image, source.pixels, wrap=tileable)
    return made_material(image, surface, places, maps, depth)


def run_synthesis(
    settings: None, recipe: Recipe | str, *, task: Task, **options: Any
) -> SynthesisResult:
    """A synthesis as its kind of run is made (texsynth.core.kinds): the task's sources,
    size, seed, guide and mix; it has no settings of its own."""
    return synthesize(list(task.sources), task.size, recipe, seed=task.seed, guide=task.guide,
                      mix=task.mix, maps=task.maps, depth=task.output_depth(),
                      **options)  # fmt: skip


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
