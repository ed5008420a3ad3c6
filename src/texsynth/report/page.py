"""The report's HTML: one self-contained page (styles, script and loss curves inline,
pictures by relative links), which works from ``file://`` and from any static web server."""

from __future__ import annotations

import html
import math
import os
import re
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from .. import __version__
from .cards import Card, Collection, status_counts

GENERATOR = "texsynth report"  # marks a page this module wrote, so it may be replaced
CURVE_POINTS = 60  # per scale: enough for the shape, small for a page of 1,000 cards
FACETS = ("source", "seed", "preset", "status")
TITLES = {
    "batch": "texsynth batch",
    "syntheses": "texsynth syntheses",
    "figures": "Texture synthesis using convolutional neural networks: the experiments",
}


def render_page(collection: Collection, root: Path, title: str | None = None) -> str:
    """The whole page for ``collection``, whose files lie under ``root``."""
    cards = collection.cards
    named = collection.kind != "figures"  # a batch or run is known by its folder's name
    title = title or TITLES[collection.kind] + (f": {root.resolve().name}" if named else "")
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="generator" content="{GENERATOR} {html.escape(__version__)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',  # no favicon request, so no 404 in the console
        f"<title>{html.escape(title)}</title>",
        f"<style>{_static('report.css')}</style></head><body>",
        f"<header><h1>{html.escape(title)}</h1>",
        f'<p class="summary">{_summary(cards)}</p>',
        *(f'<p class="note">{html.escape(n)}</p>' for n in collection.notes),
        _controls(cards),
        "</header>",
        f'<main id="cards" class="cards {collection.kind}">',
        *(_card(card, root) for card in cards),
        "</main>",
        f"<script>{_static('report.js')}</script>",
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def is_generated(page: Path) -> bool:
    """Whether ``page`` is a report this module wrote (and so may be replaced)."""
    try:
        head = page.read_text(errors="replace")[:2000]
    except OSError:
        return False
    return f'<meta name="generator" content="{GENERATOR}' in head


def _static(name: str) -> str:
    return resources.files(__package__).joinpath("static", name).read_text()


def _summary(cards: list[Card]) -> str:
    told = [f"{n} {status}" for status, n in status_counts(cards).items()]
    return html.escape(f"{len(cards)} shown" if not told else f"{len(cards)}: " + ", ".join(told))


# --------------------------------------------------------------------- the controls ----
def _controls(cards: list[Card]) -> str:
    """Filters for every facet with more than one value, a text filter, and sorting by name,
    by those facets and by every number on the cards."""
    varied = {}
    for facet in FACETS:
        values = sorted({_facet(card, facet) for card in cards}, key=_natural)
        if len(values) > 1:
            varied[facet] = values
    selects = [
        f'<label>{facet} <select data-facet="{facet}"><option value="">all</option>'
        + "".join(f'<option value="{_attr(v)}">{html.escape(v)}</option>' for v in values)
        + "</select></label>"
        for facet, values in varied.items()
    ]
    numbers = sorted({name for card in cards for name in card.numbers})
    sorts = [("key", "name"), *((f"f-{f}", f) for f in varied if f != "status")]
    sorts += [(f"n-{_slug(n)}", n) for n in numbers]
    sort_options = "".join(f'<option value="{v}">{html.escape(t)}</option>' for v, t in sorts)
    return (
        '<form id="controls" class="controls" onsubmit="return false">'
        + "".join(selects)
        + '<label>find <input id="find" type="search" placeholder="name, field, error"></label>'
        + f'<label>sort by <select id="sort">{sort_options}</select></label>'
        + '<label>order <select id="order"><option value="up">ascending</option>'
        + '<option value="down">descending</option></select></label>'
        + '<output id="shown"></output></form>'
    )


def _facet(card: Card, facet: str) -> str:
    return card.status if facet == "status" else card.facets.get(facet, "")


def _natural(text: str) -> list:
    """Sort key in which seed 10 comes after seed 9."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", text)]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _attr(text: str) -> str:
    return html.escape(str(text), quote=True)


def href(path: Path, root: Path) -> str:
    """A link from the page in ``root`` to ``path``: relative, URL-quoted."""
    return quote(Path(os.path.relpath(path, root)).as_posix())


# ------------------------------------------------------------------------- a card ----
def _card(card: Card, root: Path) -> str:
    data = [f'data-key="{_attr(card.key)}"']
    data += [f'data-f-{f}="{_attr(_facet(card, f))}"' for f in FACETS]
    data += [f'data-n-{_slug(k)}="{v!r}"' for k, v in card.numbers.items()]
    text = " ".join(
        [card.key, card.title, card.problem, *card.fields.values(), *card.facets.values()]
    )
    data.append(f'data-text="{_attr(text.lower())}"')
    classes = f"card {card.status}" + (" wide" if card.wide else "")
    body = [
        _pictures(card, root),
        f"<h2>{html.escape(card.title or card.key)}</h2>",
        f'<p class="problem">{html.escape(card.problem)}</p>' if card.problem else "",
        f"<figcaption>{html.escape(card.caption)}</figcaption>" if card.caption else "",
        _fields(card),
        loss_curve_svg(card.curve),
        _links(card, root),
    ]
    return f'<article class="{classes}" {" ".join(data)}>' + "".join(body) + "</article>"


def _pictures(card: Card, root: Path) -> str:
    if not card.thumb:  # failed, pending, or no picture that decodes
        return f'<div class="picture none">{html.escape(_no_picture(card))}</div>'
    width, height = card.image_size
    link = f'<a href="{href(card.image, root)}">'
    image = f'<img src="{_attr(card.thumb)}" width="{width}" height="{height}" loading="lazy" '
    if card.wide:  # a figure: shown whole
        return f'<div class="picture">{link}{image}alt="{_attr(card.title)}"></a></div>'
    # One pixel scale for all, so that sizes compare at a glance; but the synthesis, the
    # image being judged, is never drawn smaller than a source: a larger source is drawn
    # at the synthesis's size, and its caption says by how much it was shrunk.
    shown = [(src, w, h, min(1.0, width / max(w, 1))) for src, (w, h) in card.source_thumbs]
    total = width + sum(w * factor for _, w, _, factor in shown)
    made, given = card.kind.captions
    pictures = [
        f'<figure class="synthesis" {_share(width, total)}>{link}{image}alt="{made}"></a>'
        f"<figcaption>{made} {width}×{height}</figcaption></figure>"
    ]
    pictures += [
        f'<figure class="source" {_share(w * factor, total)}><img src="{_attr(src)}" '
        f'width="{w}" height="{h}" loading="lazy" alt="{given}">'
        f"<figcaption>{given} {_source_caption(w, h, factor)}</figcaption></figure>"
        for src, w, h, factor in shown
    ]
    return f'<div class="picture">{"".join(pictures)}</div>{_maps(card)}'


def _maps(card: Card) -> str:
    """A material's other maps in a row under its image, each captioned with its name."""
    if not card.map_thumbs:
        return ""
    figures = "".join(
        f'<figure class="map"><img src="{_attr(thumb)}" width="{w}" height="{h}" '
        f'loading="lazy" alt="{_attr(name)} map"><figcaption>{html.escape(name)}</figcaption>'
        "</figure>"
        for name, thumb, (w, h) in card.map_thumbs
    )
    return f'<div class="maps">{figures}</div>'


def _source_caption(width: int, height: int, factor: float) -> str:
    scale = "" if factor == 1 else f", shown at {factor:.2g}×"
    return f"{width}×{height}{scale}"


def _share(width: float, total: float) -> str:
    return f'style="flex: 0 0 {94 * width / max(total, 1):.1f}%"'


def _no_picture(card: Card) -> str:
    return {"failed": "failed", "pending": "not run yet"}.get(card.status, "no image")


def _fields(card: Card) -> str:
    rows = [(k, v) for k, v in (*card.facets.items(), *card.fields.items()) if v]
    rows += [(k, _number(v)) for k, v in card.numbers.items()]
    cells = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in rows)
    return f"<dl>{cells}</dl>" if cells else ""


def _number(value: float) -> str:
    return f"{value:.4g}"


def _links(card: Card, root: Path) -> str:
    links = [
        f'<a href="{href(p, root)}">{html.escape(label)}</a>' for label, p in card.links.items()
    ]
    return f'<p class="links">{" · ".join(links)}</p>' if links else ""


# -------------------------------------------------------------------- loss curves ----
def loss_curve_svg(curves: list[list[float]], width: int = 220, height: int = 56) -> str:
    """A small inline SVG of the loss (log scale) over all iterations, one line per scale,
    with a dashed rule where a finer scale begins."""
    curves = [[v for v in c if v > 0 and math.isfinite(v)] for c in curves]
    curves = [c for c in curves if c]
    values = [v for c in curves for v in c]
    if len(values) < 2:
        return ""
    low, high = math.log10(min(values)), math.log10(max(values))
    span, total = (high - low) or 1.0, sum(len(c) for c in curves)
    lines, start = [], 0
    for number, curve in enumerate(curves):
        step = max(1, math.ceil(len(curve) / CURVE_POINTS))
        picked = [*range(0, len(curve), step), len(curve) - 1]
        points = " ".join(
            f"{(start + i) / max(total - 1, 1) * width:.1f},"
            f"{(1 - (math.log10(curve[i]) - low) / span) * (height - 4) + 2:.1f}"
            for i in dict.fromkeys(picked)
        )
        if number:
            x = start / max(total - 1, 1) * width
            lines.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="0" y2="{height}" class="scale"/>')
        lines.append(f'<polyline points="{points}"/>')
        start += len(curve)
    label = (
        f"loss {curves[0][0]:.3g} to {curves[-1][-1]:.3g} over {total - len(curves)} "
        f"iterations at {len(curves)} scale{'s' if len(curves) > 1 else ''} (log scale)"
    )
    return (
        f'<svg class="curve" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_attr(label)}"><title>{html.escape(label)}</title>'
        + "".join(lines)
        + "</svg>"
    )
