"""What a run read, recorded so that a replay can tell when its inputs have changed.

A sidecar names its sources by path; a path says nothing about what the file held. Each
input file is therefore recorded with its size in bytes, its sha256 and, for images, its
size in pixels. :func:`changed_inputs` compares those records with the files as they are
now: a replay of a changed source makes another image, and should say so.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from .errors import TexsynthError

CHUNK = 1 << 20


def is_sha256(value: Any) -> bool:
    """Whether ``value`` is a sha256 as texsynth records it: 64 lowercase hexadecimal digits."""
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value) is not None


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(
    path: str | os.PathLike,
    role: str,
    pixels: tuple[int, int] | None,
    sha256: str | None = None,
) -> dict:
    """The record of one input file: role (source or guide), path, bytes, sha256, pixels.
    ``sha256``: the hash of the bytes already read and decoded (else the file is hashed)."""
    p = Path(path).resolve()
    record: dict[str, Any] = {"role": role, "path": str(p), "bytes": p.stat().st_size}
    record["sha256"] = sha256 or file_sha256(p)
    if pixels is not None:
        record["pixels"] = list(pixels)  # (width, height) as read
    return record


def changed_inputs(inputs: list[dict[str, Any]], paths: list[str] | None = None) -> list[str]:
    """What differs between recorded ``inputs`` and the files now (limited to ``paths``,
    resolved, when given); one phrase per changed or missing file."""
    wanted = None if paths is None else {str(Path(p).resolve()) for p in paths}
    changes = []
    for item in inputs:
        path = str(item.get("path", ""))
        if not path or (wanted is not None and path not in wanted):
            continue
        if not Path(path).is_file():
            changes.append(f"{path} is gone")
            continue
        try:
            now = file_sha256(path)
        except OSError as exc:
            why = exc.strerror or type(exc).__name__
            raise TexsynthError(f"cannot read {path}, an input of the run: {why}") from None
        if item.get("sha256") and now != item["sha256"]:
            changes.append(f"{path} has changed (sha256 {str(item['sha256'])[:12]}… then)")
    return changes
