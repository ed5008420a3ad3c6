"""Metamers with spatial pooling (Freeman & Simoncelli 2011; CNN statistics as Wallis et
al. 2019): an image whose Gram statistics match the original's inside every pooling window
of :mod:`texsynth.image.windows`, made as a synthesis is (L-BFGS on the pixels from white
noise, or from ``init``), with the fovea kept as in the image.

The windows' size grows with eccentricity, scaled by S: the larger S, the less of the
image's arrangement survives in the periphery. The sidecar records every window's relative
Gram error at the end, with its eccentricity.
"""

from __future__ import annotations

import dataclasses
import os
import statistics as stats
from pathlib import Path
from typing import Any

import torch

from ..core.devices import check_memory
from ..core.errors import TexsynthError
from ..core.provenance import fingerprint
from ..core.recipe import Recipe, Task, make_recipe, recorded_preset
from ..core.stimuli import Metamer
from ..image.io import load_image
from ..image.material import as_map, made_material
from ..image.shifts import identity_places
from ..image.windows import PoolingWindows, SparseWindows
from ..losses.pooled import PooledGramLoss, window_errors, window_grams
from ..statistics.model import TextureModel
from ..synthesis.driver import ScaleSetup, run_plan, start_image, stop_rule
from ..synthesis.hooks import RunHooks
from ..synthesis.objectives import ScaleObjective
from ..synthesis.result import SynthesisResult
from ..synthesis.scales import Scale
from ..synthesis.target import plan_for, prepare_target


def make_metamer(
    metamer: Metamer,
    recipe: Recipe | str = "default",
    *,
    seed: int = 0,
    device: str | torch.device = "cpu",
    weights: Any = None,
    verify_weights: bool = True,
    model: TextureModel | None = None,
    progress: bool = False,
    force: bool = False,
    **overrides: Any,
) -> SynthesisResult:
    """The metamer ``metamer`` describes, by the recipe's network, layers, optimiser and
    iterations (its texture loss is replaced by the pooled Gram loss); ``model``: a prebuilt
    :class:`TextureModel`, as for ``synthesize``."""
    if metamer.image is None or metamer.scaling is None:
        raise TexsynthError("a metamer needs an image and a scaling (--scaling S)")
    preset = recorded_preset(recipe)
    given = make_recipe(recipe, **overrides)  # recorded as given: replays the same
    recipe = dataclasses.replace(given, scales=1, structure="off")
    target = prepare_target(metamer.image, None, recipe, None, device, weights, verify_weights,
                            model, force)  # fmt: skip
    source = target.image.pixels  # type: ignore[union-attr]
    _, height, width = source.shape
    fixation = metamer.fixation or (width / 2, height / 2)
    geometry = PoolingWindows(width, height, metamer.scaling, fixation)
    model = target.stats_model
    windows = {n: geometry.at(model.network.downsampling(n)) for n in model.layers}
    check_memory(_memory_bytes(model, windows, width, height), width, height,
                 model.device, force, "metamer")  # fmt: skip
    source_grams = _source_window_grams(model, source, windows)
    periphery = ~geometry.fovea()[None, None].to(model.device)  # what moves
    objective = ScaleObjective(
        PooledGramLoss(source_grams, windows, model.layer_weights).to(model.device), model,
        target.statistics, pinned=(source[None].to(model.device), periphery),
    )  # fmt: skip
    scale = plan_for(target, recipe)[-1]
    init = None if metamer.init is None else _init_pixels(metamer.init, source)

    def prepare(index: int, scale: Scale, previous: torch.Tensor | None) -> ScaleSetup:
        return ScaleSetup(
            objective, start_image(objective, scale, None, init, seed), stop_rule(recipe)
        )

    hooks = RunHooks(None, 0, None, progress)
    x, (record,), _ = run_plan([scale], prepare, recipe.optimizer, hooks)
    image = torch.where(periphery, x, source[None].to(x.device))[0].detach().cpu().clamp(0, 1)
    section = _section(metamer, geometry, model, image, source, source_grams, windows)
    task = Task(target.recorded_sources, (width, height), seed)
    facts = target.facts(objective.loss, recipe.optimizer)
    inputs = list(target.inputs)
    if metamer.init is not None and Path(metamer.init).is_file():
        inputs.append(fingerprint(metamer.init, "init", (width, height)))
    result = SynthesisResult(image, given, task, [record], facts, preset, tuple(inputs),
                             "metamer", section)  # fmt: skip
    if target.color_source is not None:  # the fovea kept at the image's depth, with its alpha
        surface = as_map(target.color_source, target.color_source.name, normal=False)
        result.material = made_material(image, surface, identity_places(height, width), [],
                                        None, periphery[0, 0].cpu())  # fmt: skip
    return result


def run_metamer(
    metamer: Metamer, recipe: Recipe | str, *, task: Task, **options: Any
) -> SynthesisResult:
    """A metamer as its kind of run is made (texsynth.core.kinds): the task's seed."""
    return make_metamer(metamer, recipe, seed=task.seed, **options)


def _source_window_grams(
    model: TextureModel, source: torch.Tensor, windows: dict[str, SparseWindows]
) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        feats = model.features(source[None].to(model.device))
        return {n: window_grams(feats[n].float(), windows[n])[0] for n in model.layers}


def _memory_bytes(
    model: TextureModel, windows: dict[str, SparseWindows], width: int, height: int
) -> int:
    """The synthesis's own estimate, plus the windows, their target Gram matrices, and the
    largest window's gathered features (kept for the backward pass, at every layer)."""
    network = model.network
    extra = 0
    for name, w in windows.items():
        channels, count = network.channels(name), w.start.numel() - 1
        widest = int(w.start.diff().max())
        extra += w.nbytes + count * channels * channels * 4 * 2
        extra += 3 * channels * int(w.index.numel()) * 4 + channels * widest * 4
    return model.estimate_memory_bytes(width, height) + extra


def _init_pixels(path: str | os.PathLike, source: torch.Tensor) -> torch.Tensor:
    pixels = load_image(path).pixels
    if pixels.shape[1:] != source.shape[1:]:
        raise TexsynthError(
            f"the --init image is {pixels.shape[2]}x{pixels.shape[1]}, the image "
            f"{source.shape[2]}x{source.shape[1]}; they must have one size"
        )
    return pixels


def _section(
    metamer: Metamer,
    geometry: PoolingWindows,
    model: TextureModel,
    image: torch.Tensor,
    source: torch.Tensor,
    source_grams: dict[str, torch.Tensor],
    windows: dict[str, SparseWindows],
) -> dict[str, Any]:
    """The sidecar's metamer section: the windows, and how well each was matched."""
    with torch.no_grad():
        feats = model.features(image[None].to(model.device))
    errors = window_errors(feats, source_grams, windows).tolist()
    fovea = geometry.fovea()
    difference = (image - source).abs()
    return metamer.as_dict() | {
        "fixation": list(geometry.fixation),
        "windows": geometry.count, "rings": geometry.rings, "sectors": geometry.sectors,
        "fovea_radius_px": geometry.fovea_radius,
        "window_eccentricity_px": geometry.eccentricities(),
        "window_gram_error": errors,
        "median_window_gram_error": stats.median(e for e in errors if e == e),
        "fovea_max_pixel_error": float(difference[:, fovea].max()) if fovea.any() else 0.0,
        "periphery_rms_pixel_difference": float(difference[:, ~fovea].pow(2).mean().sqrt()),
    }  # fmt: skip
