"""The pixel optimisers: the torch projected L-BFGS against SciPy's L-BFGS-B."""

import numpy as np
import pytest
import scipy.optimize
import torch

from texsynth.losses.objective import gram_loss
from texsynth.optimize.lbfgs import ScipyLBFGSB, StopRule, TorchLBFGS
from texsynth.statistics.model import TextureModel


@pytest.fixture(scope="module")
def model(vgg_weights) -> TextureModel:
    return TextureModel.from_weights(vgg_weights, layers=["conv1_1", "pool1", "pool2"])


def bounded_quadratic(n: int = 30, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(n, n, generator=gen, dtype=torch.float64)
    a = q @ q.T / n + 0.1 * torch.eye(n, dtype=torch.float64)
    b = torch.randn(n, generator=gen, dtype=torch.float64)
    return a, b


def test_torch_lbfgs_solves_a_bound_constrained_quadratic_like_scipy():
    a, b = bounded_quadratic()
    lower = torch.full((30,), -0.3, dtype=torch.float64)
    upper = torch.full((30,), 0.5, dtype=torch.float64)

    def f(x):
        return 0.5 * x @ a @ x - b @ x

    x0 = torch.zeros(30, dtype=torch.float64)
    ours = TorchLBFGS().minimize(f, x0, lower, upper, max_iter=200)
    ref = scipy.optimize.minimize(
        lambda v: (0.5 * v @ a.numpy() @ v - b.numpy() @ v, a.numpy() @ v - b.numpy()),
        np.zeros(30),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-0.3, 0.5)] * 30,
        options={"ftol": 0, "gtol": 1e-12, "maxiter": 1000},
    )
    assert ((ours.x >= lower) & (ours.x <= upper)).all()
    assert np.abs(ours.x.numpy() - ref.x).max() < 1e-5
    assert ((ours.x == lower) | (ours.x == upper)).any()  # some bounds are active
    assert ours.loss_history == sorted(ours.loss_history, reverse=True)


def test_torch_lbfgs_minimises_rosenbrock_and_stops_when_nothing_decreases():
    def rosenbrock(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    big = torch.full((2,), 10.0, dtype=torch.float64)
    x0 = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    result = TorchLBFGS().minimize(rosenbrock, x0, -big, big, max_iter=500)
    assert torch.allclose(result.x, torch.ones(2, dtype=torch.float64), atol=1e-6)
    assert result.stop_reason != "max_iter" and result.iterations < 500
    # Started at a corner the gradient pushes against: nothing to do.
    at_bound = TorchLBFGS().minimize(lambda x: x.sum(), -big, -big, big, max_iter=5)
    assert at_bound.iterations == 0 and "no further decrease" in at_bound.stop_reason


class _FlatLoss(torch.autograd.Function):
    """A loss at its float floor: its value no longer changes, its gradient is not zero."""

    @staticmethod
    def forward(ctx, x):
        return torch.tensor(1e4, dtype=torch.float64)

    @staticmethod
    def backward(ctx, grad):
        return torch.ones(10, 10) * grad


def test_torch_lbfgs_stops_at_a_float_floor_instead_of_standing_still():
    """Tiny steps pass the Armijo test when c1·decrease is below the loss's rounding; such a
    run used to accept them, at every trial's cost, until max_iter (figure layers --paper:
    chelsea at pool3 ran 400 iterations of 10 evaluations each, at a constant loss)."""
    lower, upper = torch.full((10, 10), -1e3), torch.full((10, 10), 1e3)
    result = TorchLBFGS().minimize(_FlatLoss.apply, torch.zeros(10, 10), lower, upper, 50)
    assert result.stop_reason == "no further decrease along the projected gradient"
    assert result.iterations == 0
    assert result.evaluations <= 13


@pytest.mark.parametrize("optimizer", [TorchLBFGS(), ScipyLBFGSB()])
def test_the_stop_rule_ends_a_run_once_the_image_stops_changing(optimizer):
    # Pixels (in [0, 1]) drawn slowly towards a target image: the ill-conditioned
    # quadratic keeps moving them long after the loss looks flat.
    gen = torch.Generator().manual_seed(0)
    target = torch.rand(1, 1, 16, 16, generator=gen, dtype=torch.float64)
    scales = torch.logspace(0, -4, 256, dtype=torch.float64).view(1, 1, 16, 16)

    def loss(x):
        return (scales * (x - target) ** 2).sum()

    x0 = torch.full_like(target, 0.5)
    lo, hi = torch.zeros(()), torch.ones(())
    runs = {
        change: optimizer.minimize(loss, x0, lo, hi, max_iter=400, stop=StopRule(change=change))
        for change in (0.0, 0.5, 5.0)
    }
    assert runs[0.0].stop_reason == "max_iter"
    assert runs[5.0].stop_reason == runs[0.5].stop_reason == "settled"
    assert runs[5.0].iterations < runs[0.5].iterations < 400
    assert runs[0.5].iterations % 10 == 0  # checked every 10 iterations
    # What "settled" means: the last 10 iterations moved pixels < 0.5 grey levels on average.
    again = optimizer.minimize(loss, x0, lo, hi, max_iter=runs[0.5].iterations - 10)
    assert float((runs[0.5].x - again.x).abs().mean()) * 255 < 0.5


def test_torch_lbfgs_keeps_pace_with_scipy_per_iteration(small_color, model):
    loss = gram_loss(model, model.statistics(small_color))

    def objective(x):
        return loss(model.features(x)).sum()

    x0 = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(0))
    lo, hi = torch.zeros(1, 3, 1, 1), torch.ones(1, 3, 1, 1)
    ours = TorchLBFGS().minimize(objective, x0, lo, hi, max_iter=40)
    ref = ScipyLBFGSB().minimize(objective, x0, lo, hi, max_iter=40)
    assert ours.loss_history[-1] < ours.loss_history[0] / 100
    assert ours.loss_history[-1] < 2 * ref.loss_history[-1]
    assert ours.evaluations <= 1.3 * ours.iterations + 2  # no wasted evaluations
