"""The Portilla–Simoncelli (2000) texture model, from the plenoptic package, as a contrast.

plenoptic's implementation works on one channel, so colour sources are converted to
grey (ITU-R BT.709 luminance, as scikit-image's ``rgb2gray``) and the figures say so.
Synthesis is plenoptic's ``Metamer`` with its PS loss and L-BFGS (strong Wolfe line
search), ten L-BFGS iterations per optimiser step, so ``iters`` counts L-BFGS iterations as
it does for our syntheses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..statistics.portilla_simoncelli import ps_scales, to_gray

__all__ = ["PSResult", "ps_scales", "ps_synthesize", "to_gray"]


@dataclass
class PSResult:
    image: torch.Tensor  # (1, H, W) in [0, 1]
    loss_history: list[float]  # at the start and after every optimiser step (10 iterations)
    wall_time: float
    n_scales: int


def ps_synthesize(
    pixels: torch.Tensor,
    iters: int,
    seed: int = 0,
    n_scales: int | None = None,
    n_orientations: int = 4,
    device: str | torch.device = "cpu",
) -> PSResult:
    """A Portilla–Simoncelli texture like (C, H, W) ``pixels``, grey, from seeded noise.

    ``n_scales`` defaults to :func:`ps_scales` of the image (4 from 128 px up).
    """
    import plenoptic as po

    image = to_gray(pixels.float()).unsqueeze(0).to(device)
    h, w = image.shape[-2:]
    n_scales = n_scales or ps_scales(w, h)
    model = po.models.PortillaSimoncelli(
        (h, w), n_scales=n_scales, n_orientations=n_orientations
    ).to(device)
    loss = po.loss.portilla_simoncelli_loss_factory(model, image)
    metamer = po.Metamer(image, model, loss_function=loss)
    gen = torch.Generator().manual_seed(seed)
    lo, hi = float(image.min()), float(image.max())
    start = lo + (hi - lo) * torch.rand(image.shape, generator=gen)
    # plenoptic's recommended PS set-up: L-BFGS with a strong-Wolfe line search, up to 10
    # iterations per optimiser step (one per step stalls: the loss barely moves).
    inner = max(1, min(10, iters))
    metamer.setup(
        start.to(device),
        optimizer=torch.optim.LBFGS,
        optimizer_kwargs={
            "max_iter": inner,
            "max_eval": inner,
            "history_size": 100,
            "line_search_fn": "strong_wolfe",
            "lr": 1,
        },
    )
    t0 = time.perf_counter()
    if iters > 0:
        # stop_criterion 0: run all iterations, as our own syntheses do.
        metamer.synthesize(max_iter=-(-iters // inner), stop_criterion=0.0)
    wall = time.perf_counter() - t0
    history = [float(v) for v in metamer.losses]
    out = metamer.metamer.detach()[0].cpu().clamp(0, 1)
    return PSResult(out, history, wall, n_scales)
