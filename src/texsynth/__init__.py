"""texsynth: texture synthesis with convolutional neural networks.

Implements Gatys, Ecker & Bethge (2015), "Texture Synthesis Using Convolutional Neural
Networks": Gram matrices of normalised VGG-19 feature maps as a texture model, and
synthesis by L-BFGS on the pixels of a white-noise image.

The package is laid out the way data flows (docs/design.md): ``core`` (options, recipes,
registries, files), then ``image`` → ``features`` → ``statistics`` → ``losses`` →
``optimize`` → ``synthesis``, and on top the tools (``batch``, ``report``,
``experiments``) and the command line (``cli``). A module imports only from its own
stage or the stages before it (tests/test_layout.py).

The public names below are imported on first use (PEP 562), so that the torch-free parts
(recipes, options, registries, the command line's help) start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name → the module that defines it.
_PUBLIC: dict[str, str] = {
    "TexsynthError": "core.errors",
    "load_image": "image.io",
    "save_image": "image.io",
    "GramLoss": "losses.terms",
    "WeightedSum": "losses.terms",
    "gram_layer_loss": "losses.terms",
    "relative_gram_error": "evaluation.metrics",
    "relative_gram_errors": "evaluation.metrics",
    "VGG": "features.network",
    "VGG19": "features.network",
    "MultiScaleNet": "features.network",
    "ScipyLBFGSB": "optimize.lbfgs",
    "TorchLBFGS": "optimize.lbfgs",
    "PRESETS": "core.recipe",
    "Recipe": "core.recipe",
    "Task": "core.recipe",
    "load_recipe": "core.sidecar",
    "load_run": "core.sidecar",
    "make_recipe": "core.recipe",
    "DEFAULT_LAYERS": "core.registry",
    "LOSSES": "core.registry",
    "NETWORKS": "core.registry",
    "OPTIMIZERS": "core.registry",
    "SynthesisResult": "synthesis.result",
    "TextureStatistics": "statistics.gram",
    "gram_matrix": "statistics.gram",
    "gram_parameter_count": "statistics.gram",
    "synthesize": "synthesis.run",
    "edit_image": "synthesis.edit",
    "Edit": "core.edits",
    "Generator": "features.generator",
    "Training": "core.training",
    "train_generator": "synthesis.train",
    "Metamer": "core.stimuli",
    "Control": "core.stimuli",
    "Equalization": "core.stimuli",
    "make_metamer": "stimuli.metamer",
    "make_control": "stimuli.controls",
    "equalize_set": "stimuli.equalize",
    "TextureModel": "statistics.model",
    "components_for_budget": "statistics.model",
    "parameter_count": "statistics.model",
    "load_hed_weights": "features.weights",
    "load_weights": "features.weights",
    "normalize_weights": "features.weights",
    "random_weights": "features.weights",
}

__all__ = ["__version__", *sorted(_PUBLIC)]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'texsynth' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return __all__
