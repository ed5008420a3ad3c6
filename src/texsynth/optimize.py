"""The optimisation loop: pixels are updated to minimise a differentiable objective.

The loop knows nothing of textures: it takes ``objective(x) -> scalar`` and box bounds,
and reports progress. ``ScipyLBFGSB`` is the authors' choice (SciPy's L-BFGS-B with pixel
bounds, 20 correction pairs, no tolerance-based stopping); other optimisers plug in by
offering the same ``minimize`` method.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.optimize
import torch

from .errors import TexsynthError

Objective = Callable[[torch.Tensor], torch.Tensor]
# callback(iteration, loss, x) -> True to stop early
Callback = Callable[[int, float, torch.Tensor], "bool | None"]


@dataclass
class OptimizationResult:
    x: torch.Tensor
    loss_history: list[float]  # loss_history[0] is the loss at the start, then one per iteration
    iterations: int
    evaluations: int
    stop_reason: str
    extra: dict[str, object] = field(default_factory=dict)


class Optimizer(Protocol):
    name: str

    def minimize(
        self,
        objective: Objective,
        x0: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        max_iter: int,
        tol: float = 0.0,
        callback: Callback | None = None,
        progress: bool = False,
    ) -> OptimizationResult: ...


def stalled(history: list[float], tol: float, window: int = 10) -> bool:
    """True when the loss fell by less than a fraction ``tol`` over ``window`` iterations."""
    if tol <= 0 or len(history) <= window:
        return False
    before, now = history[-window - 1], history[-1]
    return before <= 0 or (before - now) / before < tol


class ScipyLBFGSB:
    """SciPy's L-BFGS-B on float64 copies of the pixels (as in the authors' code)."""

    name = "scipy-lbfgsb"

    def __init__(self, maxcor: int = 20) -> None:
        self.maxcor = maxcor

    def minimize(
        self,
        objective: Objective,
        x0: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        max_iter: int,
        tol: float = 0.0,
        callback: Callback | None = None,
        progress: bool = False,
    ) -> OptimizationResult:
        from tqdm.auto import tqdm

        shape, device, dtype = x0.shape, x0.device, x0.dtype
        evaluations = 0

        def fun(x_flat: np.ndarray) -> tuple[float, np.ndarray]:
            nonlocal evaluations
            evaluations += 1
            x = (
                torch.from_numpy(x_flat)
                .to(device=device, dtype=dtype)
                .view(shape)
                .requires_grad_(True)
            )
            loss = objective(x)
            (grad,) = torch.autograd.grad(loss, x)
            value = float(loss.detach())
            if not np.isfinite(value):
                raise TexsynthError("the loss became non-finite; try other layer weights or sizes")
            return value, grad.detach().cpu().double().numpy().ravel()

        x_start = x0.detach().cpu().double().numpy().ravel()
        initial_loss, _ = fun(x_start)
        history = [initial_loss]
        if max_iter == 0:  # SciPy would still take one step
            return OptimizationResult(x0.detach().clone(), history, 0, evaluations, "max_iter")
        bounds = scipy.optimize.Bounds(
            lower.expand(shape).cpu().double().numpy().ravel(),
            upper.expand(shape).cpu().double().numpy().ravel(),
        )
        bar = tqdm(total=max_iter, desc="synthesis", unit="it", disable=not progress, leave=False)
        stop_reason = "max_iter"

        def on_iteration(intermediate_result: scipy.optimize.OptimizeResult) -> None:
            nonlocal stop_reason
            history.append(float(intermediate_result.fun))
            iteration = len(history) - 1
            bar.update(1)
            bar.set_postfix(loss=f"{history[-1]:.4g}")
            if callback is not None:
                x = torch.from_numpy(intermediate_result.x).to(dtype=dtype).view(shape)
                if callback(iteration, history[-1], x):
                    stop_reason = "callback"
                    raise StopIteration
            if stalled(history, tol):
                stop_reason = "tolerance"
                raise StopIteration

        try:
            res = scipy.optimize.minimize(
                fun,
                x_start,
                jac=True,
                method="L-BFGS-B",
                bounds=bounds,
                callback=on_iteration,
                options={
                    "maxiter": max_iter,
                    "maxcor": self.maxcor,
                    "ftol": 0.0,
                    "gtol": 0.0,
                    "maxfun": max(15000, 5 * max_iter),
                },
            )
        finally:
            bar.close()
        if stop_reason == "max_iter" and len(history) - 1 < max_iter:
            stop_reason = f"scipy: {res.message}"
        x = torch.from_numpy(res.x).to(device=device, dtype=dtype).view(shape)
        return OptimizationResult(x, history, len(history) - 1, evaluations, stop_reason)
