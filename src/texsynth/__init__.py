"""texsynth: texture synthesis with convolutional neural networks.

Implements Gatys, Ecker & Bethge (2015), "Texture Synthesis Using Convolutional Neural
Networks": Gram matrices of normalised VGG-19 feature maps as a texture model, and
synthesis by L-BFGS on the pixels of a white-noise image.

The public names below are imported on first use (PEP 562), so that the torch-free parts
(recipes, options, registries, the command line's help) start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Public name → the module that defines it.
_PUBLIC: dict[str, str] = {
    "TexsynthError": "errors",
    "load_image": "image_io",
    "save_image": "image_io",
    "GramLoss": "losses",
    "WeightedSum": "losses",
    "gram_layer_loss": "losses",
    "relative_gram_error": "metrics",
    "relative_gram_errors": "metrics",
    "VGG": "network",
    "VGG19": "network",
    "MultiScaleNet": "network",
    "ScipyLBFGSB": "optimize",
    "TorchLBFGS": "optimize",
    "PRESETS": "recipe",
    "Recipe": "recipe",
    "Task": "recipe",
    "load_recipe": "recipe",
    "load_run": "recipe",
    "make_recipe": "recipe",
    "DEFAULT_LAYERS": "registry",
    "LOSSES": "registry",
    "NETWORKS": "registry",
    "OPTIMIZERS": "registry",
    "SynthesisResult": "result",
    "TextureStatistics": "statistics",
    "gram_matrix": "statistics",
    "gram_parameter_count": "statistics",
    "synthesize": "synthesis",
    "TextureModel": "texture_model",
    "components_for_budget": "texture_model",
    "parameter_count": "texture_model",
    "load_hed_weights": "weights",
    "load_weights": "weights",
    "normalize_weights": "weights",
    "random_weights": "weights",
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
