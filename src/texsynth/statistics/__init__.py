"""Stage 3, statistics: Gram matrices of feature maps and the files that keep them
(``gram``), the texture model that computes them from an image (``model``), and the
networks of ``registry.NETWORKS`` built into texture models (``networks``).

The names of ``gram`` are importable from here, where they were before the packages.
"""

from __future__ import annotations

from .gram import (
    FORMAT_VERSION,
    STATISTICS_SUFFIXES,
    StatisticsCache,
    TextureStatistics,
    gram_matrix,
    gram_parameter_count,
    is_statistics_file,
    pca_projection,
    pool_statistics,
    project_features,
    tile_gram_matrices,
)

__all__ = [
    "FORMAT_VERSION",
    "STATISTICS_SUFFIXES",
    "StatisticsCache",
    "TextureStatistics",
    "gram_matrix",
    "gram_parameter_count",
    "is_statistics_file",
    "pca_projection",
    "pool_statistics",
    "project_features",
    "tile_gram_matrices",
]
