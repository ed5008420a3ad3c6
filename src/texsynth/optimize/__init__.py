"""Stage 5, the pixel update: L-BFGS optimisers of the pixels under box bounds, and the
rules that stop them (``lbfgs``). Import names from ``texsynth.optimize.lbfgs``.
"""
