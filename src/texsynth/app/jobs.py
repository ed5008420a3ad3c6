"""One job of the app: a kind of run made from the page's values by the kind's own runner
(as the command line makes it), written with its sidecar through the one safe-write path,
cancellable between iterations.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.errors import TexsynthError
from ..core.files import write_files
from ..core.kinds import KINDS
from ..core.recipe import Task
from ..core.registry import resolve


class Cancelled(TexsynthError):
    """The user pressed Cancel: the run stops after its current iteration, writing nothing."""


@dataclass
class Jobs:
    """Where the app's results go: a folder of its own for downloads (removed when the app
    stops), and the user's ``--output-dir`` if one was given; one cancel flag per browser
    session."""

    results: Path
    output_dir: Path | None = None
    cancels: dict[str, threading.Event] = field(default_factory=dict)
    numbers: itertools.count = field(default_factory=lambda: itertools.count(1))

    def cancel_flag(self, session: str) -> threading.Event:
        flag = self.cancels.setdefault(session, threading.Event())
        flag.clear()
        return flag

    def cancel(self, session: str) -> None:
        if session in self.cancels:
            self.cancels[session].set()

    def run(
        self, kind: str, settings: Any, recipe: Any, task: Task, options: dict, session: str
    ) -> Any:
        """Make the run by its kind's runner; Cancel stops it between two iterations."""
        flag = self.cancel_flag(session)

        def stop_if_cancelled(iteration: int, loss: float, x: Any) -> None:
            if flag.is_set():
                raise Cancelled("cancelled")

        runner = resolve(KINDS[kind].runner)
        if KINDS[kind].recipe:
            options = options | {"callback": stop_if_cancelled, "progress": True}
        return runner(settings, recipe, task=task, **options)

    def keep(self, result: Any, stem: str, extra: dict[str, Path] | None = None) -> list[Path]:
        """Write the result (PNG and sidecar) to a new folder of the app's own, and beside
        them ``extra`` files (a painted mask); the same to ``--output-dir`` under a name
        not taken. Returns the files to download."""
        from ..image.io import image_and_sidecar

        folder = self.results / f"{next(self.numbers):04d}"
        folder.mkdir(parents=True)
        files = image_and_sidecar(
            result.image, result.record(), folder / f"{stem}.png", getattr(result, "material", None)
        )
        files += [(folder / name, _copier(path)) for name, path in (extra or {}).items()]
        written = write_files(files)
        if self.output_dir is not None:
            self._also_in_output_dir(stem, files)
        return written

    def _also_in_output_dir(self, stem: str, files: list) -> None:
        assert self.output_dir is not None
        for n in itertools.count():
            name = stem if n == 0 else f"{stem}-{n}"
            wanted = [self.output_dir / Path(path).name.replace(stem, name, 1) for path, _ in files]
            if not any(p.exists() for p in wanted):
                break
        write_files(list(zip(wanted, (writer for _, writer in files), strict=True)))


def _copier(source: Path):
    return lambda tmp: Path(tmp).write_bytes(Path(source).read_bytes())


def painted_mask(layers: list[Any], size: tuple[int, int], path: Path) -> Path | None:
    """The hole painted on the editor's layers (any stroke, any colour), saved as a white-
    on-black mask PNG of ``size`` (width, height); None when nothing was painted."""
    from PIL import Image

    painted = None
    for layer in layers or []:
        array = np.asarray(layer)
        if array.ndim != 3 or array.shape[2] != 4:
            continue
        strokes = array[:, :, 3] > 0
        painted = strokes if painted is None else painted | strokes
    if painted is None or not painted.any():
        return None
    if (painted.shape[1], painted.shape[0]) != size:
        raise TexsynthError(
            f"the painted mask is {painted.shape[1]}x{painted.shape[0]} px and the image "
            f"{size[0]}x{size[1]}; paint on the image as it is shown, or upload a mask"
        )
    Image.fromarray(np.where(painted, 255, 0).astype(np.uint8)).save(path)
    return path
