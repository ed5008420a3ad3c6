"""Stage 4, losses: the terms a synthesis minimises (``terms``), the one place that builds
them for a recipe at one scale (``objective``: the factories of ``registry.LOSSES`` and
``registry.STRUCTURES``), and the same comparisons as quality scores (``metrics``).
Import names from their modules (``texsynth.losses.terms.GramLoss``).
"""
