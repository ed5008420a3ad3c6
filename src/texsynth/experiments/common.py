"""What every experiment shares: settings, sources, running syntheses, and writing outputs.

An experiment writes one folder: ``NAME.png`` and ``NAME.pdf`` (the figure), ``NAME.csv``
(one row per synthesis or measurement), ``NAME.json`` (settings, caption, the rows and
the versions used) and ``images/`` (every synthesis as a PNG, full size). The folder is
built under a temporary name and renamed into place at the end, so an interrupted run
leaves no half-written figure behind.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import platform
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from .. import __version__
from ..core.errors import OutputError, TexsynthError
from ..core.files import DISK_ERRNOS, current_umask, place_folder, reason
from ..core.recipe import Recipe, make_recipe
from ..evaluation.metrics import relative_gram_error
from ..image.io import BUILTIN_PREFIX, load_image, resize_and_crop, save_image
from ..statistics.model import TextureModel
from ..synthesis.result import SynthesisResult
from ..synthesis.run import synthesize
from .settings import NON_TEXTURE_SOURCES, Settings


@dataclass
class Source:
    """One source image, resized and centre-cropped to the experiment's size."""

    spec: str
    label: str
    pixels: torch.Tensor  # (C, S, S) in [0, 1]
    texture: bool = True


def source_label(spec: str) -> str:
    if spec.startswith(BUILTIN_PREFIX):
        return spec[len(BUILTIN_PREFIX) :]
    return Path(spec).stem


def load_sources(specs: Sequence[str], size: int, non_textures: Sequence[str] = ()) -> list[Source]:
    """Load and square-crop the sources, then the non-texture ones; labels must be unique
    (they name output files)."""
    specs = [*specs, *non_textures]
    if not specs:
        raise TexsynthError("at least one source image is needed")
    sources = [
        Source(
            spec=spec,
            label=source_label(spec),
            pixels=resize_and_crop(load_image(spec).pixels, size),
            texture=spec not in NON_TEXTURE_SOURCES and spec not in non_textures,
        )
        for spec in specs
    ]
    labels = [s.label for s in sources]
    if len(set(labels)) != len(labels):
        raise TexsynthError(f"source names must differ: {', '.join(labels)}")
    return sources


def column_label(source: Source) -> str:
    return source.label if source.texture else f"{source.label}\n(not a texture)"


@dataclass
class Run:
    """One synthesis in an experiment: which model, which source, what came out."""

    row: str
    source: Source
    image: torch.Tensor
    result: SynthesisResult | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def csv_row(self, image_file: str) -> dict[str, Any]:
        r = self.result
        return {
            "model": self.row,
            "source": self.source.label,
            "image": image_file,
            "initial_loss": r.initial_loss if r else None,
            "final_loss": r.final_loss if r else None,
            "iterations": r.iterations if r else None,
            "stop_reason": r.stop_reason if r else None,
            "wall_s": round(r.wall_time, 2) if r else None,
        } | self.extra


def figure_recipe(settings: Settings) -> Recipe:
    """How every synthesis of a figure is made: the authors' recipe at the figure's
    iterations (the network and layers are each row's model), one scale from white noise,
    no early stop. Unless ``settings.faithful``, texsynth's torch L-BFGS minimises that
    same loss, with bfloat16 convolutions where native (benchmarks/speed.py)."""
    if settings.faithful:
        return make_recipe("paper", iters=settings.iters)
    return make_recipe("paper", iters=settings.iters, optimizer="torch-lbfgs", precision="auto")


def optimiser_caption(settings: Settings) -> str:
    """The sentence of a caption that says how the syntheses were optimised."""
    if settings.faithful:
        return "Optimiser: the authors' SciPy L-BFGS-B, float32 (--faithful)."
    return (
        "Optimiser: texsynth's torch L-BFGS, bfloat16 convolutions where the CPU or GPU has "
        "them natively; it minimises the same loss as the authors' SciPy L-BFGS-B, which "
        "--faithful uses."
    )


def synthesize_like(
    source: Source, model: TextureModel, settings: Settings, row: str, **extra: Any
) -> Run:
    """The paper's synthesis of ``source`` under ``model`` at the experiment's settings."""
    result = synthesize(
        source.pixels,
        settings.size,
        figure_recipe(settings),
        model=model,
        seed=settings.seed,
        device=settings.device,
    )
    return Run(row, source, result.image, result, dict(extra))


def synthesize_grid(
    rows: Sequence[str],
    sources: Sequence[Source],
    settings: Settings,
    model_for: Callable[[str, Source], TextureModel],
    judges: dict[str, TextureModel | None],
    bar: Any,
    describe: Callable[[str, TextureModel], dict[str, Any]] | None = None,
) -> list[Run]:
    """One synthesis per (row, source) with ``model_for(row, source)``, each scored.

    ``judges`` maps a CSV column to the model whose relative Gram error scores the result
    against the source (``None``: the synthesising model itself).
    """
    runs = []
    for row in rows:
        for src in sources:
            model = model_for(row, src)
            extra = {"layers": model.layers, "parameters": model.parameter_count}
            r = synthesize_like(src, model, settings, row, **extra)
            r.extra |= describe(row, model) if describe else {}
            for column, judge in judges.items():
                judge = judge or model
                r.extra[column] = relative_gram_error(judge, r.image, judge.statistics(src.pixels))
            runs.append(r)
            bar.update()
    return runs


def tabulate(runs: Sequence[Run], folder: Path) -> list[dict[str, Any]]:
    """Save every run's image and return the CSV rows that name them."""
    files = save_run_images(runs, folder)
    return [r.csv_row(f) for r, f in zip(runs, files, strict=True)]


def grid_cells(
    runs: Sequence[Run], rows: Sequence[str], sources: Sequence[Source]
) -> list[list[torch.Tensor]]:
    """Images by row (in ``rows`` order) then source, with the sources as the last row."""
    cells = [[r.image for r in runs if r.row == row] for row in rows]
    return [*cells, [s.pixels for s in sources]]


def versions() -> dict[str, str]:
    import matplotlib
    import sklearn

    return {
        "texsynth": __version__,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "matplotlib": matplotlib.__version__,
        "scikit-learn": sklearn.__version__,
    }


@dataclass
class FigureRecord:
    """What an experiment produced, as listed in its JSON file and the HTML index."""

    name: str
    title: str
    caption: str
    folder: Path
    files: dict[str, str]
    data: dict[str, Any]


@contextlib.contextmanager
def output_folder(target: Path, overwrite: bool) -> Iterator[Path]:
    """Build an experiment's folder under a temporary name; rename it into place on success.

    An existing, non-empty folder is only replaced when ``overwrite`` is set.
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise OutputError(f"output path exists and is not a folder: {target}")
    if target.is_dir() and any(target.iterdir()) and not overwrite:
        raise OutputError(f"output folder exists: {target} (pass --overwrite to replace it)")
    parent = target.parent
    if not parent.is_dir():
        raise OutputError(f"output directory does not exist: {parent}")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"output directory is not writable: {parent}")
    try:
        scratch = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
    except OSError as exc:
        raise OutputError(f"cannot write {target}: {reason(exc)}") from None
    try:
        try:
            yield scratch
        except OSError as exc:
            if exc.errno not in DISK_ERRNOS:
                raise
            raise OutputError(f"cannot write {target}: {reason(exc)}") from None
        # mkdtemp makes the folder private; give it the permissions mkdir would.
        scratch.chmod(0o777 & ~current_umask())
        place_folder(scratch, target, overwrite)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch)


def write_table(rows: Sequence[dict[str, Any]], path: Path) -> None:
    """Rows of dicts as CSV; the header is the union of keys in first-seen order."""
    header: list[str] = []
    for row in rows:
        header += [k for k in row if k not in header]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in header})
    path.write_text(buf.getvalue())


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value)
    return value


def write_json(obj: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(obj, indent=2, default=str) + "\n")


def save_run_images(runs: Sequence[Run], folder: Path) -> list[str]:
    """Every run's image as ``images/ROW__SOURCE.png``; returns the relative file names."""
    (folder / "images").mkdir(exist_ok=True)
    names = []
    for run in runs:
        name = f"images/{_slug(run.row)}__{_slug(run.source.label)}.png"
        save_image(run.image, folder / name)
        names.append(name)
    return names


def _slug(text: str) -> str:
    keep = "".join(c if c.isalnum() or c in "-_." else "_" for c in text.split("\n")[0])
    return keep.strip("_") or "x"


def wrap(text: str, width: int = 110) -> str:
    return "\n".join(textwrap.fill(p, width) for p in text.split("\n"))


def image_grid(
    cells: Sequence[Sequence[torch.Tensor]],
    row_labels: Sequence[str],
    col_labels: Sequence[str],
    title: str,
    caption: str,
    table: Sequence[Sequence[str]] | None = None,
):
    """A matplotlib figure: images in a grid, labelled rows and columns, caption below.

    ``table`` (header row first) is drawn under the images, for the numbers that belong
    with them (e.g. parameter counts).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(cells), len(col_labels)
    cell, left, top = 1.7, 1.9, 0.85  # inches
    caption_text = wrap(caption, width=max(60, int(30 * n_cols)))
    caption_h = 0.12 * (caption_text.count("\n") + 1) + 0.15
    table_h = 0.22 * (len(table) + 1) if table else 0.0
    width = left + 0.1 + cell * n_cols
    height = top + cell * n_rows + table_h + caption_h + 0.2
    fig = plt.figure(figsize=(width, height))
    grid = fig.add_gridspec(
        n_rows,
        n_cols,
        left=left / width,
        right=1 - 0.1 / width,
        top=1 - top / height,
        bottom=(table_h + caption_h + 0.2) / height,
        wspace=0.05,
        hspace=0.08,
    )
    for i, row in enumerate(cells):
        for j, image in enumerate(row):
            ax = fig.add_subplot(grid[i, j])
            ax.set_xticks([])
            ax.set_yticks([])
            arr = image.detach().cpu().clamp(0, 1).numpy()
            if arr.shape[0] == 1:
                ax.imshow(arr[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(arr.transpose(1, 2, 0), interpolation="nearest")
            if j == 0:
                ax.set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=8)
            if i == 0:
                ax.set_title(col_labels[j], fontsize=8)
    fig.suptitle(title, fontsize=10, y=1 - 0.12 / height, va="top")
    if table:
        ax = fig.add_axes((0.05, (caption_h + 0.1) / height, 0.9, table_h / height))
        ax.axis("off")
        tab = ax.table(
            cellText=[list(r) for r in table[1:]],
            colLabels=list(table[0]),
            loc="center",
            cellLoc="center",
        )
        tab.auto_set_font_size(False)
        tab.set_fontsize(7)
    fig.text(0.02, 0.08 / height, caption_text, fontsize=6.5, va="bottom", ha="left")
    return fig


def save_figure(fig, folder: Path, stem: str) -> dict[str, str]:
    """Write the figure as PNG (150 dpi) and PDF; returns their names."""
    import matplotlib.pyplot as plt

    files = {"png": f"{stem}.png", "pdf": f"{stem}.pdf"}
    fig.savefig(folder / files["png"], dpi=150)
    fig.savefig(folder / files["pdf"])
    plt.close(fig)
    return files


def finish(
    name: str,
    title: str,
    caption: str,
    folder: Path,
    fig,
    rows: Sequence[dict[str, Any]],
    settings: Settings,
    extra: dict[str, Any] | None = None,
) -> FigureRecord:
    """Write figure, CSV and JSON of an experiment into ``folder``."""
    files = save_figure(fig, folder, name)
    files["csv"] = f"{name}.csv"
    files["json"] = f"{name}.json"
    write_table(rows, folder / files["csv"])
    data = {
        "experiment": name,
        "title": title,
        "caption": caption,
        "settings": settings.record(),
        "recipe": figure_recipe(settings).as_dict(),
        "rows": list(rows),
        "versions": versions(),
        **(extra or {}),
    }
    write_json(data, folder / files["json"])
    return FigureRecord(name, title, caption, folder, files, data)


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence a library's own progress bars (plenoptic's): ours reports the progress."""
    with contextlib.redirect_stderr(io.StringIO()):
        yield


def progress_bar(total: int, desc: str, enabled: bool, unit: str = "synthesis"):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not enabled, unit=unit, leave=True)
