"""``texsynth report --metrics``: each synthesis scored against its first source with
:func:`texsynth.evaluation.metrics.evaluate`, cached in ``thumbs/scores.json`` so that a
second report of the same folder costs nothing."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from pathlib import Path

from .cards import Card, short
from .thumbnails import FOLDER, IMAGE_ERRORS

CACHE = "scores.json"
VERSION = 2  # bump when evaluate() changes, so cached scores are recomputed


def add_scores(root: Path, cards: Sequence[Card], progress: bool = False) -> None:
    """Put the scores of every finished synthesis into its card's numbers."""
    from tqdm.auto import tqdm

    cache_path = root / FOLDER / CACHE
    cache = _read_cache(cache_path)
    scorer = _Scorer()
    kept = {}
    todo = [c for c in cards if c.status == "done" and c.sources and not c.wide]
    for card in tqdm(todo, desc="scores", unit="image", disable=not progress):
        try:
            key = _key(card.image, card.sources[0])
            scores = cache.get(key) or scorer.scores(card.image, card.sources[0])
        except (OSError, ValueError) as exc:
            card.problem = "; ".join(p for p in (card.problem, f"not scored: {short(exc)}") if p)
            continue
        kept[key] = scores
        card.numbers |= {name: value for name, value in scores.items() if value is not None}
    if kept:
        from ..core.files import write_text

        cache_path.parent.mkdir(exist_ok=True)
        write_text(json.dumps(kept, indent=1) + "\n", cache_path, overwrite=True)


def _key(image: Path | None, source: str) -> str:
    if image is None:
        raise ValueError("no image")
    parts = [str(VERSION), _stamp(image), source]
    if not source.startswith("builtin:"):
        parts.append(_stamp(Path(source)))
    return hashlib.sha1("|".join(parts).encode()).hexdigest()


def _stamp(path: Path) -> str:
    stat = path.stat()
    return f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def _read_cache(path: Path) -> dict[str, dict[str, float | None]]:
    try:
        cache = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return cache if isinstance(cache, dict) else {}


class _Scorer:
    """The judging network, built on first use (a fully cached report never loads it)."""

    def __init__(self) -> None:
        self.model = None

    def scores(self, image: Path, source: str) -> dict[str, float | None]:
        from ..core.errors import TexsynthError
        from ..evaluation.metrics import METRICS, evaluate
        from ..image.io import load_image

        if self.model is None:
            from ..statistics.model import TextureModel

            self.model = TextureModel.from_weights()
        try:
            reference, synthesis = load_image(source), load_image(str(image))
            self.model.check_size(reference.width, reference.height, f"source {source}")
            result = evaluate(reference.pixels, synthesis.pixels, self.model)
        except (TexsynthError, *IMAGE_ERRORS) as exc:
            raise ValueError(short(exc)) from exc
        return {name: _finite(result[name]) for name in METRICS}


def _finite(value) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None
