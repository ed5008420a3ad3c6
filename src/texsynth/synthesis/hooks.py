"""What watches a run: the user's callback, snapshots every k iterations, and one progress
bar over all scales (:class:`RunHooks`).
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from ..core.errors import OutputError, TexsynthError
from ..core.files import OutputAppeared, reason
from ..image.io import (
    save_image,
)
from ..optimize.lbfgs import Callback
from .scales import Scale


class RunHooks:
    """What watches a synthesis: the user's callback, snapshots, and one progress bar."""

    def __init__(
        self,
        callback: Callback | None,
        snapshot_every: int,
        snapshot_dir: str | os.PathLike | None,
        progress: bool,
        overwrite: bool = False,
    ) -> None:
        if snapshot_every < 0:
            raise TexsynthError("snapshot_every must be >= 0")
        if snapshot_every and snapshot_dir is None:
            raise TexsynthError("snapshots need a snapshot folder")
        self.callback = callback
        self.snapshot_every = snapshot_every
        self.snapshot_dir = Path(snapshot_dir) if snapshot_dir is not None else None
        self.progress = progress
        self.overwrite = overwrite
        self.plan: list[Scale] = []
        self.bar: Any = None

    @contextlib.contextmanager
    def over(self, plan: list[Scale]) -> Iterator[RunHooks]:
        """Watch the scales of ``plan``; the bar counts every scale's iteration budget."""
        from tqdm.auto import tqdm

        self.plan = plan
        if self.snapshot_every:
            self._check_snapshot_dir()
        total = sum(s.iters for s in plan)
        self.bar = tqdm(total=total, desc="synthesis", unit="it", disable=not self.progress)
        try:
            yield self
        finally:
            self.bar.close()

    def at(self, index: int) -> Callback:
        """The per-iteration hook of scale ``index``."""
        scale = self.plan[index]
        self.bar.update(sum(s.iters for s in self.plan[:index]) - self.bar.n)  # skip the rest
        prefix = "" if len(self.plan) == 1 else f"scale{index + 1}_"

        def on_iteration(iteration: int, value: float, x: torch.Tensor) -> bool | None:
            self.bar.update(1)
            self.bar.set_postfix(size=f"{scale.width}x{scale.height}", loss=f"{value:.4g}")
            if self.snapshot_every and iteration % self.snapshot_every == 0:
                self._snapshot(x, f"{prefix}iter_{iteration:05d}.png")
            return self.callback(iteration, value, x) if self.callback is not None else None

        return on_iteration

    def _names(self) -> list[str]:
        """Every snapshot this plan may write."""
        names = []
        for index, scale in enumerate(self.plan):
            prefix = "" if len(self.plan) == 1 else f"scale{index + 1}_"
            names += [
                f"{prefix}iter_{i:05d}.png" for i in range(1, scale.iters + 1)
                if i % self.snapshot_every == 0
            ]  # fmt: skip
        return names

    def _check_snapshot_dir(self) -> None:
        """Make the folder; refuse, before any work, snapshots that would replace files."""
        folder = self.snapshot_dir
        assert folder is not None
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"snapshot folder is a file: {folder}")
        taken = [n for n in self._names() if (folder / n).exists()] if folder.is_dir() else []
        if taken and not self.overwrite:
            raise OutputError(
                f"{folder} already holds snapshots ({taken[0]} …); pass --overwrite to replace "
                "them, or choose another --snapshot-dir"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot make snapshot folder {folder}: {reason(exc)}") from None

    def _snapshot(self, x: torch.Tensor, name: str) -> None:
        try:
            save_image(x[0].clamp(0, 1), self.snapshot_dir / name, self.overwrite)  # type: ignore[operator]
        except OutputAppeared as exc:  # a file made meanwhile is kept; so is the snapshot
            warnings.warn(str(exc), stacklevel=2)
