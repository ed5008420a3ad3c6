"""How a feed-forward generator is trained and sampled, declared once (see
:mod:`texsynth.core.options`): ``texsynth train``, ``texsynth sample``, the API and the
``.gen`` file read these fields. The texture loss itself is the :class:`Recipe`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import TexsynthError
from .options import declare, declared, parse_fields, positive_number, real_number, whole_number


@dataclass(frozen=True)
class Training:
    """The training schedule of a generator."""

    minutes: float = declare(
        10.0, "Time budget: training stops after this many minutes (a checkpoint is kept).",
        positive_number,
    )  # fmt: skip
    steps: int = declare(
        3000,
        "Most optimiser steps. The learning rate decays 10x over the steps or the minutes, "
        "whichever end first.",
        whole_number(1),
    )
    train_size: int = declare(
        128,
        "Side in px of the square samples the loss sees while training (a multiple of 16).",
        whole_number(16, 4096),
    )
    batch: int = declare(2, "Samples per optimiser step.", whole_number(1, 64))
    learning_rate: float = declare(0.02, "Adam's starting learning rate.", positive_number)
    diversity: float = declare(
        0.0,
        "Weight of a term that pushes a batch's samples apart (their mean pixel distance), "
        "against collapse to one texture (0: none).",
        real_number(0.0),
    )
    # Below 2^30: the training noise of step k draws seeds (seed << 32) + k * batch + b.
    seed: int = declare(
        0, "Seed of the weights' start and of the training noise.", whole_number(0, 2**30)
    )
    checkpoint_every: float = declare(
        1.0, "Minutes between checkpoints written to the output file.", positive_number
    )

    def __post_init__(self) -> None:
        try:
            parse_fields(self)
        except ValueError as exc:
            raise TexsynthError(f"training: {exc}") from None
        if self.train_size % 16:
            raise TexsynthError(
                f"training: train_size must be a multiple of 16, not {self.train_size}"
            )

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name, _ in declared(Training)}
