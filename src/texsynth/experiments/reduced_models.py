"""Fig. 3A of the paper: how many parameters the texture model needs.

The table counts the parameters (unique Gram entries, Σ N_l(N_l+1)/2) of every model of
the layer progression. The reduced models keep the paper's five layers but project each
layer's feature maps onto their first k principal components (PCA over the positions of
the source's maps) before the Gram matrix, so each layer keeps k(k+1)/2 numbers; k is the
largest that fits each parameter budget, and the exact count is reported.
"""

from __future__ import annotations

from pathlib import Path

from ..features.weights import load_weights
from ..statistics.model import (
    DEFAULT_LAYERS,
    TextureModel,
    components_for_budget,
    parameter_count,
)
from .common import (
    FigureRecord,
    Settings,
    Source,
    column_label,
    finish,
    grid_cells,
    image_grid,
    load_sources,
    optimiser_caption,
    progress_bar,
    synthesize_grid,
    tabulate,
)
from .layer_progression import progression

NAME = "parameters"
TITLE = "Parameters of the texture model and PCA-reduced models (Gatys et al. 2015, Fig. 3A)"


def parameter_table() -> list[dict[str, object]]:
    """Parameter count of each model of the layer progression."""
    return [
        {"top_layer": top, "layers": layers, "parameters": parameter_count(layers)}
        for top, layers in progression()
    ]


def run(settings: Settings, folder: Path) -> FigureRecord:
    sources = load_sources(settings.sources, settings.size, settings.non_textures)
    weights = load_weights(settings.weights)
    full = TextureModel.from_weights(weights, DEFAULT_LAYERS, device=settings.device)
    budgets = sorted(set(settings.budgets))
    plan = [(b, components_for_budget(DEFAULT_LAYERS, b)) for b in budgets]
    components = {f"k={k}": k for _, k in plan}

    def model_for(row: str, src: Source) -> TextureModel:
        k = components[row]
        # A budget that keeps every map is the paper's full model: no projection.
        if all(k >= full.network.channels(n) for n in full.layers):
            return full
        return full.reduced(src.pixels, k)

    def describe(row: str, model: TextureModel) -> dict[str, object]:
        budget = next(b for b, k in plan if f"k={k}" == row)
        return {
            "budget": budget,
            "components": components[row],
            "components_per_layer": [model.channels[n] for n in model.layers],
        }

    with progress_bar(len(plan) * len(sources), NAME, settings.progress) as bar:
        runs = synthesize_grid(
            list(components),
            sources,
            settings,
            model_for,
            {"gram_error_full_model": full},
            bar,
            describe,
        )
    rows = tabulate(runs, folder)
    labels = []
    for budget, k in plan:
        count = next(r.extra["parameters"] for r in runs if r.row == f"k={k}")
        note = "\n(full model)" if count == full.parameter_count else ""
        labels.append(f"budget {budget:,}\nk = {k}\n{count:,} parameters{note}")
    labels.append("source")
    cells = grid_cells(runs, list(components), sources)
    table = parameter_table()
    table_cells = [["top layer", "layers", "parameters"]] + [
        [t["top_layer"], _span(t["layers"]), f"{t['parameters']:,}"] for t in table
    ]
    caption = (
        "Top: the texture model keeps the five layers conv1_1, pool1 … pool4 but projects each "
        "layer's feature maps onto their first k principal components (scikit-learn PCA over "
        "the positions of the source's maps) before the Gram matrix, leaving min(k, N_l)"
        "(min(k, N_l)+1)/2 parameters per layer; k is the largest that fits the budget and the "
        "row gives the exact count. A source has at most M_l − 1 directions of variance in a "
        "layer of M_l positions; beyond that the basis is completed with directions in which "
        "the source does not vary. "
        f"{settings.size}×{settings.size} px, {settings.iters} L-BFGS iterations, normalised "
        "VGG-19. Bottom: parameters of the models of the layer progression (Fig. 2)."
    )
    caption += " " + optimiser_caption(settings)
    fig = image_grid(
        cells, labels, [column_label(s) for s in sources], TITLE, caption, table=table_cells
    )
    return finish(
        NAME,
        TITLE,
        caption,
        folder,
        fig,
        rows,
        settings,
        {
            "progression_parameters": table,
            "reduced_models": [{"budget": b, "components": k} for b, k in plan],
        },
    )


def _span(layers: list[str]) -> str:
    return layers[0] if len(layers) == 1 else f"{layers[0]} … {layers[-1]} ({len(layers)} layers)"
