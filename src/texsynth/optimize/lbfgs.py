"""The optimisation loop: pixels are updated to minimise a differentiable objective.

The loop knows nothing of textures: it takes ``objective(x) -> scalar`` and box bounds,
and reports progress. Two optimisers offer the same ``minimize`` method:

- ``ScipyLBFGSB``: the authors' choice (SciPy's L-BFGS-B with pixel bounds, 20 correction
  pairs, no tolerance-based stopping), used by the faithful ``paper`` preset. It runs one
  fixed function per scale: a stochastic loss's directions are not redrawn.
- An objective may redraw its random numbers (``redraw(iteration) -> bool``); the torch
  optimiser then re-evaluates and drops its curvature pairs.
- ``TorchLBFGS``: projected L-BFGS in torch, on the pixels' own device and dtype. Per
  iteration it reaches the same loss as SciPy's (measured in ``benchmarks/speed.py``), but
  skips the float64 NumPy round trip and SciPy's single-threaded bookkeeping, whose
  OpenBLAS threads also compete with torch's for the cores; on a GPU the pixels never leave
  the device. It is hand-written because neither library fits: ``torch.optim.LBFGS`` has no
  bounds, and its strong-Wolfe line search stalled on clamped pixels in our trials.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import scipy.optimize
import torch

from ..core.errors import TexsynthError

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


def stalled(history: list[float], tol: float, window: int = 10) -> bool:
    """True when the loss fell by less than a fraction ``tol`` over ``window`` iterations."""
    if tol <= 0 or len(history) <= window:
        return False
    before, now = history[-window - 1], history[-1]
    return before <= 0 or (before - now) / before < tol


@dataclass(frozen=True)
class StopRule:
    """When a run has gone far enough, checked every iteration.

    Args:
        tol: stop when the loss fell by less than this fraction over ``window`` iterations.
        change: stop when ``window`` iterations moved the pixels by less than this many grey
            levels (of 255), on average: the image no longer changes visibly.
        window: iterations compared by both rules.

    A rule whose threshold is 0 is off.
    """

    tol: float = 0.0
    change: float = 0.0
    window: int = 10

    def watch(self, x0: torch.Tensor) -> Callable[[list[float], torch.Tensor], str | None]:
        """A check for one run from ``x0``: ``check(history, x)`` gives the reason to stop."""
        snapshot = x0.detach().clone() if self.change > 0 else None

        def check(history: list[float], x: torch.Tensor) -> str | None:
            nonlocal snapshot
            if stalled(history, self.tol, self.window):
                return "tolerance"
            iteration = len(history) - 1
            if snapshot is None or iteration % self.window:
                return None
            moved = float((x - snapshot).abs().mean()) * 255
            snapshot = x.detach().clone()
            return "settled" if moved < self.change else None

        return check


class Optimizer(Protocol):
    """What ``registry.OPTIMIZERS`` entries build: pixels in, optimised pixels out."""

    def minimize(
        self,
        objective: Objective,
        x0: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        max_iter: int,
        stop: StopRule = StopRule(),
        callback: Callback | None = None,
    ) -> OptimizationResult: ...


def redrawn(objective: Objective, iteration: int) -> bool:
    """Whether a stochastic objective drew new random numbers after ``iteration``: an
    objective may have ``redraw(iteration) -> bool`` (a plain function has not)."""
    redraw = getattr(objective, "redraw", None)
    return bool(redraw(iteration)) if redraw is not None else False


def value_and_grad(objective: Objective, x: torch.Tensor) -> tuple[float, torch.Tensor]:
    """The objective at ``x`` and its gradient; a non-finite loss ends the run with one line."""
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = objective(x)
        (grad,) = torch.autograd.grad(loss, x)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise TexsynthError("the loss became non-finite; try other layer weights or sizes")
    return value, grad.detach()


class ScipyLBFGSB:
    """SciPy's L-BFGS-B on float64 copies of the pixels (as in the authors' code)."""

    def __init__(self, maxcor: int = 20) -> None:
        self.maxcor = maxcor

    def minimize(
        self,
        objective: Objective,
        x0: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        max_iter: int,
        stop: StopRule = StopRule(),
        callback: Callback | None = None,
    ) -> OptimizationResult:
        shape, device, dtype = x0.shape, x0.device, x0.dtype
        evaluations = 0

        def fun(x_flat: np.ndarray) -> tuple[float, np.ndarray]:
            nonlocal evaluations
            evaluations += 1
            x = torch.from_numpy(x_flat).to(device=device, dtype=dtype).view(shape)
            value, grad = value_and_grad(objective, x)
            return value, grad.cpu().double().numpy().ravel()

        x_start = x0.detach().cpu().double().numpy().ravel()
        initial_loss, _ = fun(x_start)
        history = [initial_loss]
        if max_iter == 0:  # SciPy would still take one step
            return OptimizationResult(x0.detach().clone(), history, 0, evaluations, "max_iter")
        bounds = scipy.optimize.Bounds(
            lower.expand(shape).cpu().double().numpy().ravel(),
            upper.expand(shape).cpu().double().numpy().ravel(),
        )
        stop_reason = "max_iter"
        check = stop.watch(x0.cpu())

        def on_iteration(intermediate_result: scipy.optimize.OptimizeResult) -> None:
            nonlocal stop_reason
            history.append(float(intermediate_result.fun))
            iteration = len(history) - 1
            # The pixels as a tensor only for those who look at them (not the paper preset).
            x = (
                torch.from_numpy(intermediate_result.x).to(dtype=dtype).view(shape)
                if callback is not None or stop.change > 0
                else x0
            )
            if callback is not None and callback(iteration, history[-1], x):
                stop_reason = "callback"
                raise StopIteration
            reason = check(history, x)
            if reason is not None:
                stop_reason = reason
                raise StopIteration

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
        if stop_reason == "max_iter" and len(history) - 1 < max_iter:
            stop_reason = f"scipy: {res.message}"
        x = torch.from_numpy(res.x).to(device=device, dtype=dtype).view(shape)
        return OptimizationResult(x, history, len(history) - 1, evaluations, stop_reason)


class TorchLBFGS:
    """Projected L-BFGS with box bounds, all in torch.

    Each iteration takes the L-BFGS direction (two-loop recursion over the last ``history``
    pairs, Nocedal & Wright Alg. 7.4) on the *free* pixels — those not held at a bound by a
    gradient pointing outwards — and backtracks along the projected path
    ``clamp(x + t·d)`` from t = 1 until the Armijo condition holds. Usually the first
    trial is accepted: one evaluation per iteration. The very first step has no curvature
    yet and is scaled to move pixels by ``first_step`` on average; an objective whose
    ``moving_share`` says that only part of the pixels can move (an edit's hole) scales it
    by that share, since the mean runs over every pixel.

    Args:
        history: number of correction pairs kept (SciPy's ``maxcor``; 20 as the paper).
        first_step: mean absolute pixel change of the first, steepest-descent step.
    """

    def __init__(self, history: int = 20, first_step: float = 0.01) -> None:
        if history < 1:
            raise TexsynthError(f"L-BFGS needs at least one correction pair, got {history}")
        self.history = history
        self.first_step = first_step

    def minimize(
        self,
        objective: Objective,
        x0: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        max_iter: int,
        stop: StopRule = StopRule(),
        callback: Callback | None = None,
    ) -> OptimizationResult:
        evaluations = 0

        def evaluate(x: torch.Tensor) -> tuple[float, torch.Tensor]:
            nonlocal evaluations
            evaluations += 1
            return value_and_grad(objective, x)

        first_step = self.first_step * getattr(objective, "moving_share", 1.0)
        x = torch.maximum(torch.minimum(x0.detach().clone(), upper), lower)
        value, grad = evaluate(x)
        history = [value]
        pairs: list[tuple[torch.Tensor, torch.Tensor, float]] = []  # (s, y, 1 / yᵀs)
        stop_reason = "max_iter"
        check = stop.watch(x)
        for iteration in range(1, max_iter + 1):
            free = ~(((x <= lower) & (grad > 0)) | ((x >= upper) & (grad < 0)))
            step = self._direction(torch.where(free, grad, 0), pairs, first_step)
            step = torch.where(free, step, 0)
            accepted = self._line_search(evaluate, x, value, grad, step, lower, upper)
            if accepted is None and pairs:
                # A stale curvature model can point nowhere useful: restart from the gradient.
                pairs.clear()
                step = torch.where(free, self._direction(grad, pairs, first_step), 0)
                accepted = self._line_search(evaluate, x, value, grad, step, lower, upper)
            if accepted is None:
                stop_reason = "no further decrease along the projected gradient"
                break
            x_new, value, grad_new = accepted
            s, y = x_new - x, grad_new - grad
            sy = float((s * y).sum())
            # Keep only pairs with positive curvature, so the inverse Hessian stays positive.
            if sy > 1e-10 * float((y * y).sum()):
                pairs.append((s, y, 1.0 / sy))
                if len(pairs) > self.history:
                    pairs.pop(0)
            x, grad = x_new, grad_new
            history.append(value)
            if callback is not None and callback(iteration, value, x):
                stop_reason = "callback"
                break
            reason = check(history, x)
            if reason is not None:
                stop_reason = reason
                break
            if redrawn(objective, iteration):
                # Another function from here on: its value and gradient, and no curvature
                # pairs of the old one (Heitz et al. restart L-BFGS at each redraw).
                value, grad = evaluate(x)
                pairs.clear()
        return OptimizationResult(x, history, len(history) - 1, evaluations, stop_reason)

    def _direction(
        self,
        grad: torch.Tensor,
        pairs: list[tuple[torch.Tensor, torch.Tensor, float]],
        first_step: float,
    ) -> torch.Tensor:
        """−H·grad by the two-loop recursion (steepest descent, scaled to ``first_step``,
        without pairs)."""
        if not pairs:
            mean_abs = grad.abs().mean().clamp_min(torch.finfo(grad.dtype).tiny)
            return grad * (-first_step / mean_abs)
        q = grad.clone()
        alphas = []
        for s, y, rho in reversed(pairs):
            alpha = rho * float((s * q).sum())
            q.sub_(y, alpha=alpha)
            alphas.append(alpha)
        s, y, _ = pairs[-1]
        q.mul_(float((s * y).sum()) / float((y * y).sum()))  # initial H = γI, γ = sᵀy / yᵀy
        for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
            beta = rho * float((y * q).sum())
            q.add_(s, alpha=alpha - beta)
        return q.neg_()

    @staticmethod
    def _line_search(
        evaluate: Callable[[torch.Tensor], tuple[float, torch.Tensor]],
        x: torch.Tensor,
        value: float,
        grad: torch.Tensor,
        step: torch.Tensor,
        lower: torch.Tensor,
        upper: torch.Tensor,
        c1: float = 1e-4,
        max_trials: int = 12,
    ) -> tuple[torch.Tensor, float, torch.Tensor] | None:
        """Backtracking on the projected path until f(x⁺) ≤ f(x) + c1·gradᵀ(x⁺ − x)."""
        if float((grad * step).sum()) >= 0:
            return None
        t = 1.0
        for _ in range(max_trials):
            x_new = torch.maximum(torch.minimum(x + t * step, upper), lower)
            decrease = float((grad * (x_new - x)).sum())
            if decrease >= 0:  # the projection left nothing of the step
                return None
            new_value, new_grad = evaluate(x_new)
            # Strictly lower as well: once c1·decrease falls below the loss's rounding, the
            # Armijo test alone accepts a step that changes nothing, and a run at its float
            # floor then spends every trial of every iteration standing still.
            if new_value < value and new_value <= value + c1 * decrease:
                return x_new, new_value, new_grad
            t *= 0.5 if t > 0.1 else 0.1
        return None
