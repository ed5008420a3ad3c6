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
from .statistics import TextureStatistics, gram_matrix, gram_parameter_count
from .synthesis import PRESETS, SynthesisResult, synthesize
from .texture_model import DEFAULT_LAYERS, TextureModel, components_for_budget, parameter_count
from .weights import load_hed_weights, load_weights, normalize_weights, random_weights

__all__ = [
    "DEFAULT_LAYERS",
    "PRESETS",
    "VGG",
    "VGG19",
    "GramLoss",
    "MultiScaleNet",
    "ScipyLBFGSB",
    "SynthesisResult",
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
    "load_weights",
    "normalize_weights",
    "parameter_count",
    "random_weights",
    "relative_gram_error",
    "relative_gram_errors",
    "save_image",
    "synthesize",
]
