"""Stage 3, statistics: Gram matrices of feature maps and the files that keep them
(``gram``), the texture model that computes them from an image (``model``), and the
networks of ``registry.NETWORKS`` built into texture models (``networks``). Import names
from their modules (``texsynth.statistics.gram.TextureStatistics``).
"""
