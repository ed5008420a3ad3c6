"""The paper's experiments, each a function ``run(settings, folder) -> FigureRecord``.

``run_experiment`` writes one experiment into ``OUT/NAME/``; ``run_all`` writes every
experiment and an HTML index page. The CLI's ``texsynth figure NAME`` calls these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ..errors import OutputError, TexsynthError
from ..report import write_report
from . import layer_progression, other_networks, readout, reduced_models
from .common import FigureRecord, Settings, output_folder

EXPERIMENTS = {
    layer_progression.NAME: layer_progression,
    reduced_models.NAME: reduced_models,
    other_networks.NAME: other_networks,
    readout.NAME: readout,
}
# The paper's figure numbers, accepted as names too.
ALIASES = {"fig2": "layers", "fig3a": "parameters", "fig3bc": "networks", "fig4": "readout"}


def resolve_name(name: str) -> str:
    key = ALIASES.get(name, name)
    if key not in EXPERIMENTS:
        known = ", ".join(list(EXPERIMENTS) + list(ALIASES) + ["all"])
        raise TexsynthError(f"unknown figure {name!r}; choose one of: {known}")
    return key


def run_experiment(
    name: str, settings: Settings, out: str | Path, overwrite: bool = False
) -> FigureRecord:
    """Run one experiment into ``out/NAME/`` (replacing it only with ``overwrite``)."""
    key = resolve_name(name)
    with _prepared(out) as folder:
        target = folder / key
        with output_folder(target, overwrite) as scratch:
            record = EXPERIMENTS[key].run(settings, scratch)
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
        taken = [out / key for key in EXPERIMENTS if (out / key).exists()]
        if index.exists():
            taken.append(index)
        if taken:
            raise OutputError(
                f"output exists: {', '.join(map(str, taken))} (pass --overwrite to replace it)"
            )
    records = [run_experiment(key, settings, out, overwrite) for key in EXPERIMENTS]
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
    "FigureRecord",
    "Settings",
    "resolve_name",
    "run_all",
    "run_experiment",
]
