"""Stage 4, losses: the terms a synthesis minimises (``terms``), the one place that builds
them for a recipe at one scale (``objective``: the factories of ``registry.LOSSES`` and
``registry.STRUCTURES``), and the same comparisons as quality scores (``metrics``).

The names of ``terms`` are importable from here, where they were before the packages.
"""

from __future__ import annotations

from ..image.lattice import autocorrelations  # its home before the twins were folded
from .terms import (
    IMAGE,
    CalibratedSum,
    FeatureAutocorrelationLoss,
    GramLoss,
    GuidedGramLoss,
    LayerLoss,
    Loss,
    ShiftedGramLoss,
    SlicedWassersteinLoss,
    SpectrumLoss,
    TiledGramLoss,
    WeightedSum,
    gram_layer_loss,
    random_unit_vectors,
    resample_sorted,
    shifted_gram,
)

__all__ = [
    "IMAGE",
    "CalibratedSum",
    "FeatureAutocorrelationLoss",
    "GramLoss",
    "GuidedGramLoss",
    "LayerLoss",
    "Loss",
    "ShiftedGramLoss",
    "SlicedWassersteinLoss",
    "SpectrumLoss",
    "TiledGramLoss",
    "WeightedSum",
    "autocorrelations",
    "gram_layer_loss",
    "random_unit_vectors",
    "resample_sorted",
    "shifted_gram",
]
