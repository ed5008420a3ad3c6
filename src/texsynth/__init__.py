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
Modules that lived at the top level before the stages keep their old import paths
(``texsynth.image_io`` is ``texsynth.image.io``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
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
    "relative_gram_error": "losses.metrics",
    "relative_gram_errors": "losses.metrics",
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
    "make_metamer": "synthesis.metamer",
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


# Old module path → where the module lives now. The same module object answers to both.
MOVED: dict[str, str] = {
    f"{__name__}.{old}": f"{__name__}.{new}"
    for old, new in {
        "errors": "core.errors",
        "options": "core.options",
        "registry": "core.registry",
        "recipe": "core.recipe",
        "devices": "core.devices",
        "files": "core.files",
        "provenance": "core.provenance",
        "job_index": "core.job_index",
        "image_io": "image.io",
        "color": "image.color",
        "patterns": "image.patterns",
        "lattice": "image.lattice",
        "network": "features.network",
        "efficientnet": "features.efficientnet",
        "weights": "features.weights",
        "texture_model": "statistics.model",
        "networks": "statistics.networks",
        "objective": "losses.objective",
        "metrics": "losses.metrics",
        "scales": "synthesis.scales",
        "result": "synthesis.result",
    }.items()
}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old module path as the module at its new place."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: Any) -> Any:
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module: Any) -> None:
        pass  # already executed at its new place


sys.meta_path.append(_MovedModules())


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'texsynth' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    return __all__
