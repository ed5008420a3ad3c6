"""The paper's experiments, each a function ``run(settings, folder) -> FigureRecord``.

``run_experiment`` writes one experiment into ``OUT/NAME/``; ``run_all`` writes every
experiment and an HTML index page. The CLI's ``texsynth figure NAME`` calls these.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..core.errors import OutputError, TexsynthError
from .settings import PAPER_ITERS, PAPER_SIZE, Settings

if TYPE_CHECKING:
    from .common import FigureRecord

# Each figure's name → its module, imported when it runs (names and settings need no torch).
MODULES = {
    "layers": "layer_progression",
    "parameters": "reduced_models",
    "networks": "other_networks",
    "readout": "readout",
}
# The paper's figure numbers, accepted as names too.
ALIASES = {"fig2": "layers", "fig3a": "parameters", "fig3bc": "networks", "fig4": "readout"}


def experiment(key: str) -> ModuleType:
    """The module of figure ``key`` (its ``NAME``, ``TITLE`` and ``run``)."""
    return importlib.import_module(f"{__name__}.{MODULES[key]}")


def __getattr__(name: str) -> Any:
    if name == "EXPERIMENTS":  # every figure's module, by name, in the paper's order
        return {key: experiment(key) for key in MODULES}
    if name == "FigureRecord":
        from .common import FigureRecord

        return FigureRecord
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def resolve_name(name: str) -> str:
    key = ALIASES.get(name, name)
    if key not in MODULES:
        known = ", ".join(list(MODULES) + list(ALIASES) + ["all"])
        raise TexsynthError(f"unknown figure {name!r}; choose one of: {known}")
    return key


def run_experiment(
    name: str, settings: Settings, out: str | Path, overwrite: bool = False
) -> FigureRecord:
    """Run one experiment into ``out/NAME/`` (replacing it only with ``overwrite``)."""
    from .common import output_folder

    key = resolve_name(name)
    with _prepared(out) as folder:
        target = folder / key
        with output_folder(target, overwrite) as scratch:
            record = experiment(key).run(settings, scratch)
    record.folder = target
    return record


def run_all(settings: Settings, out: str | Path, overwrite: bool = False) -> list[FigureRecord]:
    """Every experiment into ``out/NAME/``, then ``out/index.html`` showing them all.

    Existing figure folders are checked before anything runs, so a refusal costs nothing.
    """
    with _prepared(out) as folder:
        return _run_all(settings, folder, overwrite)


def _run_all(settings: Settings, out: Path, overwrite: bool) -> list[FigureRecord]:
    index = out / "index.html"
    if not overwrite:
        taken = [out / key for key in MODULES if (out / key).exists()]
        if index.exists():
            taken.append(index)
        if taken:
            raise OutputError(
                f"output exists: {', '.join(map(str, taken))} (pass --overwrite to replace it)"
            )
    from ..report import write_report

    records = [run_experiment(key, settings, out, overwrite) for key in MODULES]
    write_report(out, overwrite=overwrite)  # the same page as `texsynth report`
    return records


@contextlib.contextmanager
def _prepared(out: str | Path) -> Iterator[Path]:
    """The output folder, created if only it is missing, and removed again if a failed run
    leaves it empty."""
    out = Path(out)
    created = False
    if not out.exists() and out.parent.is_dir():
        out.mkdir()
        created = True
    if not out.is_dir():
        raise OutputError(f"output folder cannot be created: {out} (its parent does not exist)")
    try:
        yield out
    except BaseException:
        if created and not any(out.iterdir()):
            out.rmdir()
        raise


__all__ = [
    "EXPERIMENTS",
    "PAPER_ITERS",
    "PAPER_SIZE",
    "FigureRecord",
    "Settings",
    "experiment",
    "resolve_name",
    "run_all",
    "run_experiment",
]
