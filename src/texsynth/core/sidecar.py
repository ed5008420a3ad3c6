"""A sidecar read back (:func:`load_run`): untrusted input, every section checked first.

:func:`check_sections` refuses, in one line naming the file and the field, a sidecar with
a section texsynth does not write, a key no section of that name holds, or a value of the
wrong kind: the recipe and task (by their declarations, elsewhere), and here the inputs,
each kind of run's section (by :mod:`texsynth.core.kinds`), and the sections that are only
facts (which must be mappings). A sidecar that passes can be replayed; one that does not
never starts work.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import TexsynthError
from .kinds import KINDS, RunKind, kind_of_record
from .options import declared
from .provenance import is_sha256
from .recipe import Recipe, Task, fields_from, get_preset

# The sections every sidecar may hold; each kind of run adds its own (texsynth.core.kinds).
BASE_SECTIONS = {
    "texsynth_version", "preset", "recipe", "task", "inputs", "facts", "versions", "job_id",
    "job", "manifest_line", "image", "image_sha256", "material",
}  # fmt: skip
INPUT_KEYS = {"role", "path", "bytes", "sha256", "pixels"}


def sections() -> set[str]:
    """Every top-level section a texsynth sidecar may hold."""
    return BASE_SECTIONS | {kind.section for kind in KINDS.values() if kind.section}


def check_sections(data: dict[str, Any], where: Path) -> None:
    """Refuse a sidecar (``data``, read from ``where``) any of whose sections does not fit."""
    unknown = sorted(set(data) - sections())
    if unknown:
        raise TexsynthError(f"{where}: unknown section {unknown[0]!r} (not a texsynth sidecar)")
    for name in ("facts", "versions", "job", "material"):
        if name in data and not isinstance(data[name], dict):
            raise TexsynthError(f"{where}: '{name}' must be a JSON object")
    if "inputs" in data:
        _inputs(data["inputs"], where)
    if "material" in data:
        _material(data["material"], where)
    for kind in KINDS.values():
        if kind.section in data:
            _kind_section(kind, data[kind.section], where)


MATERIAL_KEYS = {"depth", "alpha", "maps"}
MAP_KEYS = {"name", "depth", "alpha", "normal"}


def _material(material: dict[str, Any], where: Path) -> None:
    """The ``material`` section: the image's depth and alpha, and each map's name (a file
    stem, written beside the image), depth, alpha and normal flag."""
    odd = sorted(set(material) - MATERIAL_KEYS)
    if odd:
        raise TexsynthError(f"{where}: material: unknown field {odd[0]!r}")
    maps = material.get("maps", [])
    if not isinstance(maps, list) or not all(isinstance(m, dict) for m in maps):
        raise TexsynthError(f"{where}: material: maps must be a list of objects")
    for number, item in enumerate([material, *maps]):
        told = f"{where}: material" + (f": map {number}" if number else "")
        if number and set(item) - MAP_KEYS:
            raise TexsynthError(f"{told}: unknown field {sorted(set(item) - MAP_KEYS)[0]!r}")
        if item.get("depth", 8) not in (8, 16) or type(item.get("depth", 8)) is not int:
            raise TexsynthError(f"{told}: depth is not 8 or 16")
        if any(type(item.get(key, False)) is not bool for key in ("alpha", "normal")):
            raise TexsynthError(f"{told}: alpha and normal must be true or false")
        name = item.get("name", "x") if number else "x"
        if not isinstance(name, str) or not name or "/" in name or "\\" in name:
            raise TexsynthError(f"{told}: name is not a file name")


def _kind_section(kind: RunKind, section: Any, where: Path) -> None:
    """A kind's section: its declared fields and facts, or (none declared) an object."""
    if kind.fields is None:
        if not isinstance(section, dict):
            raise TexsynthError(f"{where}: '{kind.section}' must be a JSON object")
        return
    _section(section, kind.fields, kind.facts, f"{where}: {kind.section}")
    if kind.check is not None:
        kind.check(section, f"{where}: {kind.section}")


def _section(section: Any, cls: type, facts: set[str], where: str) -> None:
    """A section of ``cls``'s declared fields (parsed as the command line's are) and the
    ``facts`` it may record besides; any other key is refused."""
    if not isinstance(section, dict):
        raise TexsynthError(f"{where} must be a JSON object")
    names = {name for name, _ in declared(cls)}
    odd = sorted(set(section) - names - facts)
    if odd:
        raise TexsynthError(f"{where}: unknown field {odd[0]!r}")
    fields_from(cls, {k: v for k, v in section.items() if k in names and v is not None}, where)
    for key in facts & set(section):
        if not _plain(section[key]):
            raise TexsynthError(f"{where}: {key} is not a number, text or list of them")


def _inputs(inputs: Any, where: Path) -> None:
    if not isinstance(inputs, list):
        raise TexsynthError(f"{where}: 'inputs' must be a list")
    for number, item in enumerate(inputs, 1):
        told = f"{where}: input {number}"
        if not isinstance(item, dict):
            raise TexsynthError(f"{told} is not a JSON object")
        odd = sorted(set(item) - INPUT_KEYS)
        if odd:
            raise TexsynthError(f"{told}: unknown field {odd[0]!r}")
        if not isinstance(item.get("path", ""), str) or not isinstance(item.get("role", ""), str):
            raise TexsynthError(f"{told}: path and role must be text")
        sha = item.get("sha256")
        if sha is not None and not is_sha256(sha):
            raise TexsynthError(f"{told}: sha256 is not 64 hexadecimal digits")
        if "bytes" in item and (type(item["bytes"]) is not int or item["bytes"] < 0):
            raise TexsynthError(f"{told}: bytes is not a whole number")


def _plain(value: Any) -> bool:
    """A JSON number (finite), text, null, or a list of them."""
    if isinstance(value, list):
        return all(_plain(v) and not isinstance(v, list) for v in value)
    if isinstance(value, float):
        return math.isfinite(value) or math.isnan(value)  # a window with no error is NaN
    return value is None or isinstance(value, (int, str))


@dataclass(frozen=True)
class RecordedRun:
    """A sidecar read back: its kind of run, the recipe, the task it ran (sources, size,
    seed, guide), the input files as they were, and its kind's section."""

    recipe: Recipe
    task: Task
    inputs: tuple[dict[str, Any], ...] = ()  # the input files as they were (provenance)
    kind: RunKind = dataclasses.field(default_factory=lambda: KINDS["synthesis"])
    section: dict[str, Any] = dataclasses.field(default_factory=dict)  # the kind's, if any


def load_run(path: str | os.PathLike) -> RecordedRun:
    """Read a sidecar (or a recipe file: ``{"preset": …, "recipe": {…}}`` or bare fields).

    Recipe fields the file leaves out come from its preset (default: ``default``); a kind
    of run made without a recipe (a control) reads as the default recipe.
    """
    p = Path(path)
    data = read_record(p)
    if "parameters" in data and "recipe" not in data:
        raise TexsynthError(f"{p} is a sidecar of texsynth before recipes; it cannot be replayed")
    kind = kind_of_record(data)
    recipe = _recipe(data, p) if kind.recipe else get_preset("default")
    task_fields = data.get("task") or {}
    if isinstance(task_fields, dict):  # an edit from its own image records no sources
        task_fields = {k: v for k, v in task_fields.items() if v != []}
    task = Task(**fields_from(Task, task_fields, f"{p}: task")) if task_fields else Task()
    inputs = data.get("inputs")
    inputs = [item for item in inputs if isinstance(item, dict)] if isinstance(inputs, list) else []
    section = data.get(kind.section) if kind.section else {}
    return RecordedRun(recipe, task, tuple(inputs), kind, section)


def _recipe(data: dict[str, Any], where: Path) -> Recipe:
    fields = data.get("recipe", {k: v for k, v in data.items() if k not in ("preset", "task")})
    if not isinstance(fields, dict):
        raise TexsynthError(f"{where}: 'recipe' must be a JSON object")
    base = get_preset(str(data.get("preset") or "default"))
    return dataclasses.replace(base, **fields_from(Recipe, fields, f"{where}: recipe"))


def read_record(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object of a sidecar or recipe file, or one line saying why not."""
    p = Path(path)
    try:
        data = json.loads(p.read_text())
    except FileNotFoundError:
        raise TexsynthError(f"recipe file not found: {p}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise TexsynthError(f"cannot read recipe file {p}: {exc}") from None
    if not isinstance(data, dict):
        raise TexsynthError(f"{p}: a recipe file holds a JSON object")
    if "recipe" in data or set(data) & sections() - BASE_SECTIONS:  # a sidecar, not a recipe
        check_sections(data, p)
    return data


def load_recipe(path: str | os.PathLike) -> Recipe:
    """The recipe of a sidecar or recipe file (see :func:`load_run`)."""
    return load_run(path).recipe


__all__ = ["RecordedRun", "check_sections", "load_recipe", "load_run", "read_record"]
