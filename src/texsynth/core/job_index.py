"""A batch's ``index.csv``: its name, its columns, and how a value is written in a cell.

Below both :mod:`texsynth.batch` (which writes the index) and :mod:`texsynth.report`
(which reads it), so that a page reader needs none of the synthesis stack.
"""

from __future__ import annotations

from typing import Any

INDEX = "index.csv"
INDEX_COLUMNS: tuple[str, ...] = (
    "job_id",
    "status",
    "source",
    "seed",
    "preset",
    "size",
    "final_loss",
    "wall_s",
    "image",
    "error",
    "manifest_line",
)


def cell(value: Any) -> str:
    """A recipe value as one CSV or page cell: lists joined by commas, None empty."""
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def is_texsynth_index(first_line: str) -> bool:
    """Whether an index's first line is the header texsynth writes."""
    return first_line.startswith(",".join(INDEX_COLUMNS[:2]) + ",")
