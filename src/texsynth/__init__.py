"""texsynth: texture synthesis with convolutional neural networks.

Implements Gatys, Ecker & Bethge (2015), "Texture Synthesis Using Convolutional Neural
Networks": Gram matrices of normalised VGG-19 feature maps as a texture model, and
synthesis by L-BFGS on the pixels of a white-noise image.
"""

__version__ = "0.1.0"

from .errors import TexsynthError
from .image_io import load_image, save_image
from .losses import GramLoss, WeightedSum, gram_layer_loss
from .metrics import relative_gram_error, relative_gram_errors
from .network import VGG, VGG19, MultiScaleNet
from .optimize import ScipyLBFGSB, TorchLBFGS
from .recipe import PRESETS, Recipe, Task, load_recipe, load_run, make_recipe
from .registry import DEFAULT_LAYERS, LOSSES, NETWORKS, OPTIMIZERS
from .result import SynthesisResult
from .statistics import TextureStatistics, gram_matrix, gram_parameter_count
from .synthesis import synthesize
from .texture_model import TextureModel, components_for_budget, parameter_count
from .weights import load_hed_weights, load_weights, normalize_weights, random_weights

__all__ = [
    "DEFAULT_LAYERS",
    "LOSSES",
    "NETWORKS",
    "OPTIMIZERS",
    "PRESETS",
    "VGG",
    "VGG19",
    "GramLoss",
    "MultiScaleNet",
    "Recipe",
    "ScipyLBFGSB",
    "SynthesisResult",
    "Task",
    "TexsynthError",
    "TextureModel",
    "TextureStatistics",
    "TorchLBFGS",
    "WeightedSum",
    "__version__",
    "components_for_budget",
    "gram_layer_loss",
    "gram_matrix",
    "gram_parameter_count",
    "load_hed_weights",
    "load_image",
    "load_recipe",
    "load_run",
    "load_weights",
    "make_recipe",
    "normalize_weights",
    "parameter_count",
    "random_weights",
    "relative_gram_error",
    "relative_gram_errors",
    "save_image",
    "synthesize",
]
