"""What a report shows: one card per batch job, synthesis or figure, read from a folder.

Three kinds of folder are understood, tried in this order:

- a batch (``index.csv`` and ``images/ID.png`` + ``ID.json``): every job of the index, done,
  failed or pending, and those whose files are missing or damaged;
- a figure folder (``NAME/NAME.json`` written by ``texsynth figure``): one wide card each;
- any other folder: every texsynth sidecar below it, with the image beside it.

Nothing here raises on damaged files: a card records what is wrong in ``problem``.
"""

from __future__ import annotations

import contextlib
import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.job_index import INDEX_COLUMNS, cell
from ..core.kinds import KINDS, RunKind, kind_of_record
from ..core.recipe import PRESETS

SIDECAR_KEYS = frozenset({"recipe", "task", "facts"})
FIGURE_KEYS = frozenset({"experiment", "title", "caption"})
STATUSES = ("done", "failed", "pending", "damaged")
IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp")
SKIPPED_FOLDERS = frozenset({"thumbs"})  # the report's own cache


@dataclass
class Card:
    """One job, synthesis or figure, as the page shows it."""

    key: str
    status: str = "done"  # one of STATUSES
    problem: str = ""  # why a job failed or is damaged
    image: Path | None = None  # the full-size picture
    sources: tuple[str, ...] = ()  # as the sidecar or index gives them
    facets: dict[str, str] = field(default_factory=dict)  # filter keys: source, seed, preset
    fields: dict[str, str] = field(default_factory=dict)  # recipe fields worth showing
    numbers: dict[str, float] = field(default_factory=dict)  # sort keys: loss, seconds, scores
    curve: list[list[float]] = field(default_factory=list)  # loss history, per scale
    title: str = ""
    caption: str = ""
    links: dict[str, Path] = field(default_factory=dict)
    wide: bool = False  # a figure: a row of its own, shown whole
    thumb: str = ""  # filled in by the page: the thumbnail, relative to the folder
    image_size: tuple[int, int] = (0, 0)  # the picture's own size
    source_thumbs: list[tuple[str, tuple[int, int]]] = field(default_factory=list)
    # A material's other maps (names from the sidecar), written beside the image, and
    # their thumbnails: (name, thumbnail, size)
    maps: tuple[str, ...] = ()
    map_thumbs: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)
    # The kind of run its sidecar records (texsynth.core.kinds): what the card shows of it.
    kind: RunKind = field(default_factory=lambda: KINDS["synthesis"])
    section: dict[str, Any] = field(default_factory=dict)  # that kind's sidecar section

    def mark_damaged(self, problem: str) -> None:
        self.status = "damaged"
        self.problem = "; ".join(p for p in (self.problem, problem) if p)


@dataclass
class Collection:
    """Every card of a folder, and what kind of folder it was."""

    kind: str  # "batch", "figures" or "syntheses"
    cards: list[Card]
    notes: list[str] = field(default_factory=list)  # shown above the cards


def status_counts(cards: list[Card]) -> dict[str, int]:
    """How many cards have each status, in the order of STATUSES, absent ones left out."""
    counts = Counter(card.status for card in cards)
    return {status: counts[status] for status in STATUSES if counts[status]}


def collect(folder: Path) -> Collection:
    """The cards of ``folder`` (see the module's docstring for the kinds of folder)."""
    if (folder / "index.csv").is_file():
        return _batch(folder)
    figures = _figures(folder)
    if figures:
        return Collection("figures", figures)
    return Collection("syntheses", _syntheses(folder))


# ------------------------------------------------------------------------- sidecars ----
def read_json(path: Path) -> tuple[Any, str]:
    """The parsed file, or None and what is wrong with it."""
    try:
        return json.loads(path.read_text()), ""
    except FileNotFoundError:
        return None, f"{path.name} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, f"{path.name} is unreadable ({short(exc)})"


def short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:160] or type(exc).__name__


def is_sidecar(record: Any) -> bool:
    """The sidecar of a kind of run that a card shows: one made by a recipe (a synthesis,
    an edit, a metamer …) with its recipe, task and facts, or one made without (a control)
    with its section."""
    if not isinstance(record, dict):
        return False
    kind = kind_of_record(record)
    return kind.card and (record.keys() >= SIDECAR_KEYS if kind.recipe else bool(kind.section))


def apply_sidecar(card: Card, record: dict[str, Any]) -> None:
    """Fill a card from a sidecar: facets, the kind's fields and changed recipe fields,
    numbers, loss curve; what the kind of run declares it shows."""
    kind = kind_of_record(record)
    section = record.get(kind.section) if kind.section else {}
    task, facts = record.get("task") or {}, record.get("facts") or {}
    card.kind, card.section = kind, section
    material = record.get("material")
    listed = material.get("maps") if isinstance(material, dict) else None
    card.maps = tuple(
        str(m["name"]) for m in listed or () if isinstance(m, dict) and _plain_name(m.get("name"))
    )
    image = (str(section["image"]),) if section.get("image") else ()
    card.sources = tuple(map(str, task.get("sources") or ())) or image
    preset = str(record.get("preset") or "default") if kind.recipe else kind.name
    card.facets = {
        "source": card.facets.get("source") or source_label(card.sources),
        "seed": str(task.get("seed", section.get("seed", ""))),
        "preset": preset,
    }
    shown = {label: cell(section.get(key)) for label, key in kind.card_fields}
    shown |= size_field(task.get("size") or facts.get("size"))
    if task.get("mix") is not None:
        shown["mix"] = cell(task["mix"])
    if kind.recipe:
        shown |= changed_fields(preset, record.get("recipe") or {})
        card.numbers |= numbers_of(facts)
        card.curve = loss_curves(facts)
    card.fields = shown
    card.numbers |= {label: section.get(key, facts.get(key)) for label, key in kind.card_numbers}
    card.numbers = {k: v for k, v in card.numbers.items() if isinstance(v, int | float)}


def _plain_name(name: Any) -> bool:
    """A map's name as texsynth writes it: a file stem, never a path."""
    return isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name


def size_field(size: Any) -> dict[str, str]:
    """A card's ``size`` field (WxH) from a sidecar's [width, height], if there is one."""
    return {"size": "x".join(map(str, size))} if size else {}


def source_label(sources: tuple[str, ...]) -> str:
    """A short name for the filter: the file name, or ``builtin:NAME``."""
    names = [s if s.startswith("builtin:") else Path(s).name for s in sources]
    return " + ".join(names)


def changed_fields(preset: str, recipe: dict[str, Any]) -> dict[str, str]:
    """The recipe fields that differ from the preset the synthesis started from."""
    base = PRESETS[preset].as_dict() if preset in PRESETS else {}
    return {k: cell(v) for k, v in recipe.items() if k in base and base[k] != v}


def numbers_of(facts: dict[str, Any]) -> dict[str, float]:
    pairs = (("final loss", "final_loss"), ("seconds", "wall_time_s"))
    return {name: facts[key] for name, key in pairs if isinstance(facts.get(key), int | float)}


def loss_curves(facts: dict[str, Any]) -> list[list[float]]:
    """The loss after every iteration, per scale; older sidecars give only each scale's
    first and last loss."""
    curves = []
    for scale in facts.get("scales") or []:
        if not isinstance(scale, dict):
            continue
        history = scale.get("loss_history") or [scale.get("initial_loss"), scale.get("final_loss")]
        curves.append([float(v) for v in history if isinstance(v, int | float)])
    return [c for c in curves if c]


# ------------------------------------------------------------------------ a batch ----
def _batch(folder: Path) -> Collection:
    notes = []
    try:
        with open(folder / "index.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        rows, notes = [], [f"index.csv is unreadable ({short(exc)})"]
    rows = [r for r in rows if (r.get("job_id") or "").strip()]
    if not rows:
        notes.append("index.csv lists no jobs; the jobs below are read from their sidecars")
        return Collection("batch", _syntheses(folder / "images"), notes)
    return Collection("batch", [_batch_card(folder, row) for row in rows], notes)


def _batch_card(folder: Path, row: dict[str, str]) -> Card:
    key = row["job_id"].strip()
    status = (row.get("status") or "").strip()
    varied = {k: v for k, v in row.items() if k and k not in INDEX_COLUMNS and v}
    sources = tuple(s.strip() for s in (row.get("source") or "").split(";") if s.strip())
    card = Card(
        key,
        status=status if status in STATUSES else "damaged",
        problem=(row.get("error") or "") if status in STATUSES else f"unknown status {status!r}",
        facets={"source": source_label(sources), "seed": row.get("seed") or ""}
        | {"preset": row.get("preset") or ""},
        fields={"size": row.get("size") or ""} | varied,
        numbers=_csv_numbers(row),
        # Until a sidecar says where they are: the index's sources, where they name a file
        # without the manifest's folder (relative ones are relative to the manifest).
        sources=tuple(s for s in sources if s.startswith("builtin:") or Path(s).is_absolute()),
    )
    if card.status == "done":
        _attach_job_files(card, folder / "images")
    return card


def _csv_numbers(row: dict[str, str]) -> dict[str, float]:
    numbers = {}
    for name, column in (("final loss", "final_loss"), ("seconds", "wall_s")):
        with contextlib.suppress(ValueError):  # an empty cell: not run, or failed
            numbers[name] = float(row.get(column) or "")
    return numbers


def _attach_job_files(card: Card, images: Path) -> None:
    card.image = images / f"{card.key}.png"
    record, problem = read_json(images / f"{card.key}.json")
    if problem or not is_sidecar(record):
        card.mark_damaged(problem or "its sidecar is not a texsynth sidecar")
        return
    apply_sidecar(card, record)


# ------------------------------------------------------------- loose syntheses ----
def _syntheses(folder: Path) -> list[Card]:
    cards = []
    for path in sorted(_json_files(folder)):
        record, problem = read_json(path)
        card = Card(path.relative_to(folder).with_suffix("").as_posix())
        if problem:
            # An unreadable file beside an image is that image's damaged sidecar.
            card.image = _image_beside(path, {})
            if card.image is not None:
                card.mark_damaged(f"its sidecar {problem.removeprefix(path.name + ' ')}")
                cards.append(card)
            continue
        if not is_sidecar(record):
            continue  # some other JSON file
        card.image = _image_beside(path, record)
        if card.image is None:
            card.mark_damaged("no image beside its sidecar")
        apply_sidecar(card, record)
        cards.append(card)
    return cards


def _json_files(folder: Path):
    for path in folder.rglob("*.json"):
        parts = path.relative_to(folder).parts
        if not SKIPPED_FOLDERS & set(parts[:-1]) and not parts[-1].startswith("."):
            yield path


def _image_beside(sidecar: Path, record: dict[str, Any]) -> Path | None:
    named = record.get("image")
    candidates = [sidecar.parent / named] if isinstance(named, str) else []
    candidates += [sidecar.with_suffix(suffix) for suffix in IMAGE_SUFFIXES]
    return next((p for p in candidates if p.is_file()), None)


# ------------------------------------------------------------------------ figures ----
def _figures(folder: Path) -> list[Card]:
    cards = []
    for path in sorted(folder.glob("*/*.json")):
        if path.stem != path.parent.name:
            continue
        record, problem = read_json(path)
        if problem or not (isinstance(record, dict) and record.keys() >= FIGURE_KEYS):
            continue
        cards.append(_figure_card(path.parent, record))
    return cards


def _figure_card(figure: Path, record: dict[str, Any]) -> Card:
    name = figure.name
    links = {s.upper(): figure / f"{name}.{s}" for s in ("pdf", "csv", "json")}
    card = Card(
        name,
        title=str(record["title"]),
        caption=str(record["caption"]),
        image=figure / f"{name}.png",
        links={label: path for label, path in links.items() if path.is_file()},
        fields={"command": f"texsynth figure {name}"},
        wide=True,
    )
    if not card.image.is_file():
        card.mark_damaged(f"{name}.png is missing")
    return card
