"""``texsynth report DIR``: one page to judge a folder of results by eye.

The page (``DIR/index.html``) shows a batch's jobs, a folder of syntheses or the paper's
figures as cards: thumbnail and source, key recipe fields, status and failures, the loss
curve and, with ``metrics=True``, the quality scores of
:func:`texsynth.evaluation.metrics.evaluate`.
It filters and sorts with a little inline JavaScript and needs no network.

:mod:`.cards` reads the folder, :mod:`.thumbnails` and :mod:`.scores` add what is costly
(both cached under ``DIR/thumbs/``), :mod:`.page` writes the HTML.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..core.errors import OutputError, TexsynthError
from ..core.files import check_replaceable
from .cards import Card, Collection, collect, short, status_counts
from .page import href, is_generated, render_page
from .thumbnails import FOLDER, IMAGE_ERRORS, Thumbnails

PAGE = "index.html"

__all__ = ["PAGE", "Report", "check_page_writable", "write_report"]


@dataclass(frozen=True)
class Report:
    """What ``write_report`` wrote."""

    page: Path
    kind: str
    counts: dict[str, int]  # cards by status

    def summary(self) -> str:
        told = ", ".join(f"{n} {status}" for status, n in self.counts.items())
        return f"wrote {self.page} ({self.kind}: {told or 'empty'})"


def check_page_writable(folder: Path, overwrite: bool = False) -> Path:
    """``folder/index.html``, after checking it may be written: a page that texsynth did
    not write is only replaced with ``overwrite``."""
    page = check_replaceable(folder / PAGE, is_generated, overwrite)
    if not os.access(folder, os.W_OK):
        raise OutputError(f"folder is not writable: {folder}")
    return page


def write_report(
    folder: str | os.PathLike,
    metrics: bool = False,
    overwrite: bool = False,
    title: str | None = None,
    progress: bool = False,
) -> Report:
    """Write ``folder/index.html`` for the batch, syntheses or figures in ``folder``."""
    root = Path(folder)
    if not root.is_dir():
        raise TexsynthError(f"not a folder: {root}")
    page = check_page_writable(root, overwrite)
    replace = overwrite or page.exists()  # checked: a page of ours, or --overwrite
    thumbs = root / FOLDER
    if thumbs.exists() and not thumbs.is_dir():
        raise OutputError(f"{thumbs} is not a folder; the report keeps its thumbnails there")
    collection = collect(root)
    if not collection.cards and collection.kind != "batch":
        raise TexsynthError(f"{root} holds no batch (index.csv), texsynth sidecars or figures")
    thumbnails = Thumbnails(root)
    _add_thumbnails(collection, thumbnails)
    if metrics:
        from .scores import add_scores

        add_scores(root, collection.cards, progress)
    from ..core.files import write_text

    page = write_text(render_page(collection, root, title), page, overwrite=replace)
    thumbnails.prune()
    return Report(page, collection.kind, status_counts(collection.cards))


def _add_thumbnails(collection: Collection, thumbnails: Thumbnails) -> None:
    """Each card's thumbnail and its sources'; a picture that cannot be decoded marks its
    card damaged. Figures are shown whole: they are the page's point."""
    for card in collection.cards:
        if card.image is None or card.status in ("failed", "pending"):
            continue
        if card.wide:
            card.image_size = _size_of(card)
            card.thumb = href(card.image, thumbnails.root) if card.status != "damaged" else ""
            continue
        try:
            outline = _hole_of(card) if card.kind.outline else None
            card.thumb, card.image_size = thumbnails.of_file(card.image, outline)
        except IMAGE_ERRORS as exc:
            card.mark_damaged(f"{card.image.name} is unreadable ({short(exc)})")
            continue
        card.source_thumbs = _source_thumbnails(card, thumbnails)
        card.map_thumbs = _map_thumbnails(card, thumbnails)


def _hole_of(card: Card):
    """The edit's hole for the card's image of a given size, to outline on its thumbnail."""
    from ..image.canvas import recorded_hole

    return lambda size: recorded_hole(card.section, size)


def _source_thumbnails(card: Card, thumbnails: Thumbnails) -> list[tuple[str, tuple[int, int]]]:
    found = []
    for source in card.sources[:3]:
        try:
            found.append(thumbnails.of_source(source))
        except IMAGE_ERRORS:
            continue  # a source that has moved or was a statistics file: no picture
    return found


def _map_thumbnails(card: Card, thumbnails: Thumbnails) -> list[tuple[str, str, tuple[int, int]]]:
    """A material's maps beside its image (OUTPUT-STEM_NAME), those that decode."""
    assert card.image is not None
    found = []
    for name in card.maps:
        path = card.image.with_name(f"{card.image.stem}_{name}{card.image.suffix}")
        try:
            found.append((name, *thumbnails.of_file(path)))
        except IMAGE_ERRORS:
            continue  # a map that was moved or damaged: no picture
    return found


def _size_of(card: Card) -> tuple[int, int]:
    from PIL import Image

    try:
        with Image.open(card.image) as image:
            return image.size
    except IMAGE_ERRORS as exc:
        card.mark_damaged(f"{card.image.name} is unreadable ({short(exc)})")
        return (0, 0)
