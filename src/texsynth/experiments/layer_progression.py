"""Fig. 2 of the paper: what the texture model captures as higher layers are added.

Rows are texture models whose top-most layer is conv1_1, pool1, …, pool4 (each matching
the Gram matrices of all lower layers of the default set too), then the Portilla–Simoncelli
model (plenoptic, grey) and the sources. Columns are source images, one of them a
photograph that is not a texture.
"""

from __future__ import annotations

from pathlib import Path

from ..evaluation.metrics import relative_gram_error
from ..features.weights import load_weights
from ..statistics.model import DEFAULT_LAYERS, TextureModel
from .common import (
    FigureRecord,
    Run,
    Settings,
    column_label,
    finish,
    grid_cells,
    image_grid,
    load_sources,
    optimiser_caption,
    progress_bar,
    quiet_stderr,
    synthesize_grid,
    tabulate,
)
from .ps_synthesis import ps_synthesize, to_gray

NAME = "layers"
TITLE = "Texture models of increasing depth (Gatys et al. 2015, Fig. 2)"
PS_ROW = "portilla_simoncelli"


def progression(layers: tuple[str, ...] = DEFAULT_LAYERS) -> list[tuple[str, list[str]]]:
    """(top layer, layers up to and including it) for each model of the progression."""
    return [(top, list(layers[: i + 1])) for i, top in enumerate(layers)]


def run(settings: Settings, folder: Path) -> FigureRecord:
    sources = load_sources(settings.sources, settings.size, settings.non_textures)
    weights = load_weights(settings.weights)
    models = {
        top: TextureModel.from_weights(weights, layers, device=settings.device)
        for top, layers in progression()
    }
    # The full model judges every row, including the ones that did not optimise for it.
    judge = models[DEFAULT_LAYERS[-1]]
    total = (len(models) + 1) * len(sources)
    with progress_bar(total, NAME, settings.progress) as bar:
        runs = synthesize_grid(
            list(models),
            sources,
            settings,
            lambda top, _src: models[top],
            {"gram_error_full_model": judge},
            bar,
            describe=lambda top, _model: {"top_layer": top},
        )
        n_scales = 0
        for src in sources:
            with quiet_stderr():
                ps = ps_synthesize(
                    src.pixels, settings.iters, settings.seed, device=settings.device
                )
            n_scales = ps.n_scales
            gray_target = judge.statistics(to_gray(src.pixels))
            runs.append(
                Run(
                    PS_ROW,
                    src,
                    ps.image,
                    extra={
                        "top_layer": None,
                        "initial_loss": ps.loss_history[0],
                        "final_loss": ps.loss_history[-1],
                        # plenoptic counts optimiser steps of up to 10 L-BFGS iterations.
                        "ps_steps": len(ps.loss_history) - 1,
                        "wall_s": round(ps.wall_time, 2),
                        "ps_scales": ps.n_scales,
                        "gram_error_full_model": relative_gram_error(judge, ps.image, gray_target),
                    },
                )
            )
            bar.update()

    rows = tabulate(runs, folder)
    row_names = [*models, PS_ROW]
    counts = {top: m.parameter_count for top, m in models.items()}
    labels = [f"{top}\n{counts[top]:,} parameters" for top in models]
    labels += ["Portilla–Simoncelli\n(plenoptic, grey)", "source"]
    cells = grid_cells(runs, row_names, sources)
    non_textures = [s.label for s in sources if not s.texture]
    caption = (
        f"Syntheses from white noise by Gram-matrix models on the normalised VGG-19 (average "
        f"pooling) whose top-most layer is the one named; each also matches all lower layers "
        f"of the set conv1_1, pool1 … pool4. {settings.size}×{settings.size} px, "
        f"{settings.iters} L-BFGS iterations, seed {settings.seed}. "
        + (
            f"{', '.join(non_textures)} is a photograph, not a texture: higher layers keep "
            "more of its local object structure but not its layout. "
            if non_textures
            else ""
        )
        + f"Portilla–Simoncelli row: plenoptic's implementation ({n_scales} scales, "
        "4 orientations), which works on one channel, so it is shown in grey (colour sources "
        "converted to luminance); same number of L-BFGS iterations. The CSV gives each "
        "synthesis's relative Gram error under the full model (pool4), a held-out measure "
        "for the shallower rows."
    )
    caption += " " + optimiser_caption(settings)
    fig = image_grid(cells, labels, [column_label(s) for s in sources], TITLE, caption)
    return finish(NAME, TITLE, caption, folder, fig, rows, settings, {"parameter_counts": counts})
