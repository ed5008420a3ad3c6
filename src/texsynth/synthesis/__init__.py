"""Stage 6, synthesis: the named stages of one run (``run``: targets, scales, objectives,
iterations, finishing), the coarse-to-fine plan (``scales``), and the result with its
sidecar (``result``). Import names from their modules (``texsynth.synthesis.run``), or the
public ones from ``texsynth``.
"""
