"""Stage 4, losses: the terms a synthesis minimises (``terms``) and the one place that
builds them for a recipe at one scale (``objective``: the factories of ``registry.LOSSES``
and ``registry.STRUCTURES``). Quality scores live in ``texsynth.evaluation``.
Import names from their modules (``texsynth.losses.terms.GramLoss``).
"""
