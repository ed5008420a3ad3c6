"""Quality scores, the judges of ``texsynth evaluate`` and of the benchmarks (``metrics``):
the same comparisons as the losses where they overlap (Gram error, sliced Wasserstein
distance), and judges no synthesis optimises (Portilla–Simoncelli statistics, lattice
retention, copies, seams). A tool on top of synthesis: nothing below it imports it.
"""
