"""Edits of an image people already have: the hole of a
:class:`~texsynth.image.canvas.Canvas` is synthesised, and every other pixel is kept exactly.

The method, chosen by measurement (``benchmarks/edit.py``, docs/editing.md):

1. **A patch fill.** The canvas's start fills the hole from the image itself
   (:mod:`texsynth.image.shifts`): copies one shift away, a lattice vector on a periodic
   texture, stitched along the seams where the copies agree. It is real detail, never a
   blur, and it keeps lattices in phase.
2. **An optional refinement** (``refine`` iterations, default none): only the hole moves
   (:attr:`ScaleObjective.pinned`), against the kept surroundings, under the recipe's
   texture loss restricted to the hole and a ring around it (``EDIT_RING`` px): a guided
   Gram loss with the kept part's statistics (:func:`kept_statistics`), or those of
   ``sources``, plus CNNMRF-style matching of feature patches to the kept part's
   (:class:`~texsynth.losses.terms.PatchMatchLoss`). Measured, it lowers the hole's
   feature distance a little and raises the seam (it sharpens the boundary), so it is not
   the default.

``tile`` refines with the synthesis model's circular padding, so that the frame joins the
opposite edges.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from ..core.devices import check_memory
from ..core.edits import Edit
from ..core.errors import TexsynthError
from ..core.recipe import Recipe, Task, depth_choice, make_recipe, recorded_preset
from ..features.weights import Weights
from ..image.canvas import Canvas, canvas_for
from ..image.io import ImageLike
from ..image.material import SurfaceMap, check_sizes, made_material, map_memory, read_maps
from ..losses.terms import CalibratedSum, GuidedGramLoss, PatchMatchLoss, feature_patches
from ..optimize.lbfgs import Callback, StopRule
from ..statistics.gram import TextureStatistics, weighted_gram_matrix
from ..statistics.model import TextureModel
from .driver import ScaleSetup, run_plan, start_image
from .hooks import RunHooks
from .objectives import ScaleObjective
from .result import SynthesisResult, map_input
from .scales import Scale, halved
from .target import PreparedTarget, plan_for, prepare_target, scale_source

# The ring around the hole whose statistics are matched with it, in px at each scale.
EDIT_RING = 8
# Layers (by their downsampling) whose 3x3 feature patches are matched to the kept part's
# nearest ones, and the weight of that term against the Gram term at the start.
PATCH_DOWNSAMPLING = (4, 8)
PATCH_WEIGHT = 1.0
# Sides of a tile that is refined must be multiples of this (the VGG's downsampling).
TILE_MULTIPLE = 16


@dataclass(frozen=True)
class ScaledCanvas:
    """A canvas shrunk to one scale: (1, C, H, W) kept pixels and the (1, 1, H, W) hole."""

    pixels: torch.Tensor
    hole: torch.Tensor

    @property
    def hole_fraction(self) -> float:
        return float(self.hole.float().mean())


def scaled_canvas(canvas: Canvas, scale: Scale) -> ScaledCanvas:
    """``canvas`` at ``scale``: a pixel is kept when every full-size pixel under it is."""
    known = canvas.known[None].float()
    if not scale.halvings:
        return ScaledCanvas(canvas.pixels[None], canvas.hole[None, None])
    kept_share = halved(known, scale.halvings)
    sums = halved(canvas.pixels * known, scale.halvings)
    hole = kept_share < 0.999
    pixels = torch.where(hole, 0.0, sums / kept_share.clamp_min(1e-6))
    return ScaledCanvas(pixels[None], hole[None])


def kept_cells(hole: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(h, w): whether each cell of a layer's (h, w) grid holds only kept pixels, and the
    (h, w) share of kept pixels in each cell."""
    share = torch.nn.functional.adaptive_avg_pool2d((~hole).float(), shape)[0, 0]
    return share >= 0.999, share


def kept_weights(hole: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    """(h, w) weights of a layer's positions: 1 where the position's cell holds only kept
    pixels; where no cell does (a deep layer at a coarse scale), each cell's kept share."""
    whole, share = kept_cells(hole, shape)
    return whole.float() if whole.any() else share


@torch.no_grad()
def kept_statistics(
    feats: dict[str, torch.Tensor], part: ScaledCanvas, name: str
) -> TextureStatistics:
    """Gram matrices of the kept positions (:func:`kept_weights`) of the canvas's ``feats``."""
    grams = {}
    for layer, f in feats.items():
        weights = kept_weights(part.hole, tuple(f.shape[-2:])).to(f.device)
        if not weights.any():
            raise TexsynthError(
                f"too little of {name} is kept to describe its texture at {layer}; "
                "give --source images of the texture, or a smaller hole"
            )
        grams[layer] = weighted_gram_matrix(f, weights)[0].float()
    kept = part.pixels[0][:, ~part.hole[0, 0]]
    return TextureStatistics(grams, kept.min(1).values, kept.max(1).values, {"source": name})


def ring_mask(hole: torch.Tensor, ring: int) -> torch.Tensor:
    """(1, H, W): the hole grown by ``ring`` px, where the loss compares statistics."""
    grown = torch.nn.functional.max_pool2d(hole.float(), 2 * ring + 1, stride=1, padding=ring)
    return grown[0]


def edit(
    canvas: Canvas,
    recipe: Recipe | str = "default",
    *,
    sources: Sequence[ImageLike] = (),
    seed: int = 0,
    device: str | torch.device = "cpu",
    weights: Weights | str | os.PathLike | None = None,
    verify_weights: bool = True,
    progress: bool = False,
    force: bool = False,
    refine: int = 0,
    record: dict[str, Any] | None = None,
    callback: Callback | None = None,
    **overrides: Any,
) -> SynthesisResult:
    """Synthesise the hole of ``canvas`` and keep every other pixel exactly.

    The hole starts as the canvas's patch fill (or white noise where it has none);
    ``refine`` iterations of the texture loss then move it, at full size (without
    ``refine`` and ``sources`` the patch fill is the result, made without the network). The
    texture is the kept part's, or that of ``sources`` when given. ``record`` is what the
    sidecar says of the edit (kind, image, mask, anchor …). Recipe fields may be overridden
    by keyword as in ``synthesize``; the structure terms and the tiled Gram loss do not
    apply to edits (the loss is :class:`GuidedGramLoss` over the hole). ``callback`` is
    called after every iteration of the refinement, as ``synthesize``'s.
    """
    preset = recorded_preset(recipe)
    recipe = make_recipe(recipe, **overrides)
    if not canvas.known.any() and not sources:
        raise TexsynthError("the mask covers the whole image; give --source images of the texture")
    size = (canvas.width, canvas.height)
    if canvas.start is not None and not refine and not sources:
        # The patch fill is the result: no network, no weights (nothing would move it).
        image = canvas.composite(canvas.start.float().clamp(0, 1))
        return SynthesisResult(image, recipe, Task((), size, seed, None), [], None, preset,
                               (), "edit", record or {})  # fmt: skip
    given = list(sources) or [canvas.kept_image()]
    target = prepare_target(given, size, recipe, None, device, weights, verify_weights, None, force)
    plan = plan_for(target, recipe)
    if canvas.start is not None:  # a start with real detail needs no coarser scales
        plan = [dataclasses.replace(plan[-1], iters=refine)]
    hooks = RunHooks(callback, 0, None, progress and sum(s.iters for s in plan) > 0)

    def prepare(index: int, scale: Scale, previous: torch.Tensor | None) -> ScaleSetup:
        part = scaled_canvas(canvas, scale)
        objective = _objective(target, recipe, scale, part, bool(sources), canvas.name)
        objective = _bounds_with(objective, canvas.start)
        start = _start(objective, scale, part, previous, canvas.start, seed)
        return ScaleSetup(
            objective, start, StopRule(recipe.tol, recipe.stop_change * part.hole_fraction)
        )

    x, records, objective = run_plan(plan, prepare, recipe.optimizer, hooks)
    image = canvas.composite(x[0].detach().cpu().clamp(0, 1))
    recorded = target.recorded_sources if sources else ()
    task = Task(recorded, size, seed, None)
    facts = target.facts(objective.loss, recipe.optimizer)
    inputs = target.inputs if sources else ()
    return SynthesisResult(
        image, recipe, task, records, facts, preset, inputs, "edit", record or {}
    )


def edit_image(
    edit_of: Edit,
    recipe: Recipe | str = "default",
    *,
    sources: Sequence[ImageLike] = (),
    size: tuple[int, int] | None = None,
    seed: int = 0,
    maps: Sequence[str] = (),
    depth: int | None = None,
    **options: Any,
) -> SynthesisResult:
    """The edit ``edit_of`` made to its image (``size``: ``extend``'s canvas); ``options``
    go to :func:`edit` (device, weights, progress, recipe fields …). The sidecar's edit
    section records the edit's fields and the sha256 of its image and mask files.
    ``maps``: the other maps of the image's surface, each filled from the same places as
    the image (docs/materials.md); ``depth``: bits per sample of the outputs (None: each
    input's)."""
    found = _edited_maps(maps, edit_of, sources, size, bool(options.get("force")))
    canvas = canvas_for(edit_of, size, bool(options.get("force")))
    if canvas.surface is not None:
        check_sizes(found, canvas.surface.size)
    if edit_of.kind == "tile" and edit_of.refine:  # refinement wraps around too
        _check_tile_refinement(canvas)
        options["tileable"] = True
    record = dict(canvas.record)
    result = edit(
        canvas, recipe, sources=sources, seed=seed, refine=edit_of.refine, record=record, **options
    )
    if canvas.surface is not None and canvas.places is not None:
        copied = not edit_of.refine and not sources
        new = torch.zeros_like(canvas.hole) if copied else canvas.hole
        result.material = made_material(result.image, canvas.surface, canvas.places, found,
                                        depth, new)  # fmt: skip
        result.task = dataclasses.replace(result.task, maps=tuple(m.path for m in found),
                                          depth=depth_choice(depth))  # fmt: skip
        result.inputs = (*result.inputs, *(map_input(m) for m in found))
    return result


def _edited_maps(
    maps: Sequence[str],
    edit_of: Edit,
    sources: Sequence[ImageLike],
    size: tuple[int, int] | None,
    force: bool,
) -> list[SurfaceMap]:
    """The other maps of the image, read and checked before any work; they follow the
    patch fill's copies, which a refinement or other sources would leave."""
    if not maps:
        return []
    if edit_of.refine or sources:
        given = "--refine" if edit_of.refine else "--source"
        raise TexsynthError(
            f"--maps fills each map from the same places of the image as the patch fill; "
            f"{given} makes new pixels that no map has, so drop one of them"
        )
    found = read_maps(tuple(maps))
    width, height = size or found[0].size
    check_memory(map_memory(len(found), width, height), width, height, torch.device("cpu"),
                 force, "material maps")  # fmt: skip
    return found


def _check_tile_refinement(canvas: Canvas) -> None:
    """A CNN refinement of a tile wraps around through circular padding, which needs sides
    that are multiples of the network's downsampling; the patch fill alone needs nothing."""
    if canvas.width % TILE_MULTIPLE or canvas.height % TILE_MULTIPLE:
        raise TexsynthError(
            f"tile --refine needs sides (width x height) that are multiples of {TILE_MULTIPLE} "
            f"px, not {canvas.width}x{canvas.height}; without --refine any size tiles"
        )


def _objective(
    target: PreparedTarget,
    recipe: Recipe,
    scale: Scale,
    part: ScaledCanvas,
    from_sources: bool,
    name: str,
) -> ScaleObjective:
    model = target.stats_model
    feats = None
    if not from_sources or PATCH_WEIGHT > 0:  # one look at the canvas serves both
        with torch.no_grad():
            feats = model.features(part.pixels.to(model.device))
    if from_sources:
        statistics = scale_source(target, scale, None)[0]
    else:
        statistics = kept_statistics(feats, part, name)  # type: ignore[arg-type]
    grams = statistics.subset(model.layers).grams
    device = target.synth_model.device
    region = ring_mask(part.hole, EDIT_RING)
    loss = GuidedGramLoss([grams], region, model.layer_weights)
    patches = kept_patches(model, feats, part) if feats is not None and PATCH_WEIGHT > 0 else {}
    if patches:
        matched = PatchMatchLoss(patches, region, model.layer_weights)
        loss = CalibratedSum(loss, matched, PATCH_WEIGHT, target.calibration)
    pinned = (part.pixels.to(device), part.hole.to(device))
    return ScaleObjective(
        loss.to(device), target.synth_model, statistics, 0, pinned, part.hole_fraction
    )


@torch.no_grad()
def kept_patches(
    model: TextureModel, feats: dict[str, torch.Tensor], part: ScaledCanvas
) -> dict[str, torch.Tensor]:
    """Layer → (D, M) 3×3 patches of the canvas's ``feats`` whose nine cells are all kept,
    on the layers of ``PATCH_DOWNSAMPLING``."""
    found = {}
    for name in model.layers:
        if model.network.downsampling(name) not in PATCH_DOWNSAMPLING:
            continue
        f = feats[name].float()
        whole, _ = kept_cells(part.hole, tuple(f.shape[-2:]))
        eroded = -torch.nn.functional.max_pool2d(-whole[None].float(), 3, 1, 1)[0]
        usable = eroded.flatten() > 0
        if usable.any():
            found[name] = feature_patches(f)[0][:, usable.to(f.device)]
    return found


def _start(
    objective: ScaleObjective,
    scale: Scale,
    part: ScaledCanvas,
    previous: torch.Tensor | None,
    start: torch.Tensor | None,
    seed: int,
) -> torch.Tensor:
    """A synthesis's start (:func:`start_image`: the canvas's start or white noise, then the
    previous scale's result) in the hole, the kept pixels in place."""
    x = start_image(objective, scale, previous, start, seed)
    return torch.where(part.hole.to(x.device), x, part.pixels.to(x.device))


def _bounds_with(objective: ScaleObjective, start: torch.Tensor | None) -> ScaleObjective:
    """``objective`` whose pixel bounds also hold the canvas's patch fill: it is the image's
    own pixels (a tile's band may hold colours its kept middle lacks), never clamped away."""
    if start is None:
        return objective
    stats = objective.statistics
    lower = torch.minimum(stats.pixel_min, start.amin((1, 2)).to(stats.pixel_min))
    upper = torch.maximum(stats.pixel_max, start.amax((1, 2)).to(stats.pixel_max))
    widened = dataclasses.replace(stats, pixel_min=lower, pixel_max=upper)
    return dataclasses.replace(objective, statistics=widened)


def run_edit(edit_of: Edit, recipe: Recipe | str, *, task: Task, **options: Any) -> SynthesisResult:
    """An edit as its kind of run is made (texsynth.core.kinds): the task's sources, size
    and seed."""
    return edit_image(edit_of, recipe, sources=list(task.sources), size=task.size,
                      seed=task.seed, maps=task.maps, depth=task.output_depth(),
                      **options)  # fmt: skip
