"""Stage 5, the pixel update: L-BFGS optimisers of the pixels under box bounds, and the
rules that stop them (``lbfgs``). The names are importable from here.
"""

from __future__ import annotations

from .lbfgs import (
    Callback,
    Objective,
    OptimizationResult,
    Optimizer,
    ScipyLBFGSB,
    StopRule,
    TorchLBFGS,
    stalled,
    value_and_grad,
)

__all__ = [
    "Callback",
    "Objective",
    "OptimizationResult",
    "Optimizer",
    "ScipyLBFGSB",
    "StopRule",
    "TorchLBFGS",
    "stalled",
    "value_and_grad",
]
