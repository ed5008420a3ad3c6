"""Manifests: the jobs of a batch, read from CSV or YAML (a grid and/or a job list).

A manifest's fields are the task's (source, size, seed, guide), the ``preset`` and every
:class:`~texsynth.core.recipe.Recipe` field, by the same names as on the command line
(``coarse_iters`` ↔ ``--coarse-iters``), plus an optional ``name``. Everything is checked
before any job runs: encoding, quoting, keys given twice, unknown fields, bad values.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import TexsynthError
from ..core.kinds import KINDS, RunKind, kind_of_settings
from ..core.options import OptionSpec, aliases, declared
from ..core.recipe import PRESET, Recipe, Task, make_recipe

# Recipe fields that every job's spec names, given or not, as specs did before recipes:
# jobs of manifests written then keep their ids (file names) and resume.
LEGACY_SPEC_FIELDS: tuple[str, ...] = ("iters", "layers", "scales", "precision")
LEGACY_SPEC_FLAGS: tuple[str, ...] = ("tileable", "hist_match")


class ManifestError(TexsynthError):
    """A manifest that cannot be read; the message names the file and line."""


def _plain_name(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text):
        raise ValueError(f"{text!r} is not a plain file name (letters, digits, _ . -)")
    return text


NAME = OptionSpec("The job's file name (default: built from its fields).", _plain_name)


def batch_kinds() -> list[RunKind]:
    """The kinds of run a manifest can ask for besides a synthesis (an edit, a metamer …)."""
    return [kind for kind in KINDS.values() if kind.trigger and kind.fields is not None]


def manifest_fields() -> dict[str, tuple[str, OptionSpec]]:
    """Every name a manifest may use → (field, spec): the task's, preset, name, the recipe's,
    and those of each kind of run a job can be (``edit: fill`` with ``image:``, ``mask:`` …;
    a metamer's ``scaling:`` …)."""
    specs = [*declared(Task), ("preset", PRESET), ("name", NAME), *declared(Recipe)]
    specs += [spec for kind in batch_kinds() for spec in declared(kind.fields)]  # type: ignore[arg-type]
    return {alias: (name, spec) for name, spec in specs for alias in aliases(name, spec)}


@dataclass(frozen=True)
class Job:
    """One synthesis of a batch: a task, a preset, and the recipe fields the manifest gives."""

    task: Task
    preset: str = "default"
    overrides: tuple[tuple[str, Any], ...] = ()  # (recipe field, value), sorted by field
    name: str | None = None
    # The declared settings of the job's kind of run (an Edit, a Metamer …; None: a
    # synthesis from noise).
    settings: Any = None
    # Where the job came from, for messages; relative paths are found from base_dir.
    where: str = field(default="", compare=False)
    base_dir: str = field(default=".", compare=False)

    @property
    def kind(self) -> RunKind:
        return kind_of_settings(self.settings)

    @property
    def source(self) -> str:
        if self.settings is not None and not self.task.sources:
            return self.settings.image or ""
        return ";".join(self.task.sources)

    def recipe(self) -> Recipe:
        return make_recipe(self.preset, **dict(self.overrides))

    def spec(self) -> dict[str, Any]:
        """The job as plain data (what identifies it, recorded in its sidecar)."""
        given = dict(self.overrides)
        sources = list(self.task.sources)
        out: dict[str, Any] = {
            "source": sources[0] if len(sources) == 1 else sources,
            "seed": self.task.seed,
            "preset": self.preset,
            "size": list(self.task.size) if self.task.size else None,
            "name": self.name,
        }
        out |= {k: given.pop(k, None) for k in LEGACY_SPEC_FIELDS}
        out |= {k: given.pop(k, False) for k in LEGACY_SPEC_FLAGS}
        if self.task.guide is not None:
            out["guide"] = self.task.guide
        if self.task.mix is not None:
            out["mix"] = self.task.mix
        if self.settings is not None:
            out |= self.kind.spec_of(self.settings)
        out |= given
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @property
    def id(self) -> str:
        if self.name:
            return self.name
        digest = hashlib.sha256(json.dumps(self.spec(), sort_keys=True).encode()).hexdigest()
        first = self.source.split(";")[0].removeprefix("builtin:")
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(first).stem)
        size = f"{self.task.size[0]}x{self.task.size[1]}" if self.task.size else "srcsize"
        stem += self.kind.tag_of(self.settings) if self.settings is not None else ""
        stem += f"-mix{self.task.mix:g}" if self.task.mix is not None else ""
        return f"{stem}-{self.preset}-{size}-seed{self.task.seed}-{digest[:8]}"

    def _resolved(self, path: str) -> str:
        if path.startswith("builtin:") or Path(path).is_absolute():
            return path
        return str(Path(self.base_dir) / path)

    def resolved_sources(self) -> list[str]:
        return [self._resolved(s) for s in self.task.sources]

    def resolved_guide(self) -> str | None:
        return None if self.task.guide is None else self._resolved(self.task.guide)

    def resolved_settings(self) -> Any:
        """The kind's settings with the files they name found from ``base_dir``."""
        if self.settings is None:
            return None
        files = {name: getattr(self.settings, name) for name in self.kind.files}
        found = {name: self._resolved(path) for name, path in files.items() if path is not None}
        return dataclasses.replace(self.settings, **found)

    def overridden(self, preset: str | None, fields: Mapping[str, Any]) -> Job:
        """This job with another preset and/or recipe fields (the command line's)."""
        overrides = dict(self.overrides) | dict(fields)
        return dataclasses.replace(
            self, preset=preset or self.preset, overrides=tuple(sorted(overrides.items()))
        )


def override_jobs(jobs: Sequence[Job], preset: str | None, fields: Mapping[str, Any]) -> list[Job]:
    """Every job with ``preset`` and ``fields`` in place of its own; ids must stay distinct."""
    if preset is None and not fields:
        return list(jobs)
    return _distinct([job.overridden(preset, fields) for job in jobs])


# ------------------------------------------------------------------------ manifests ----
def make_job(values: Mapping[str, Any], where: str, base_dir: str) -> Job:
    """A :class:`Job` from manifest values (empty values mean "default")."""
    known = manifest_fields()
    unknown = [k for k in values if k not in known]
    if unknown:
        names = ", ".join(n for n in known if n != "sources")
        raise ManifestError(f"{where}: unknown field {unknown[0]!r}; known fields: {names}")
    given = {k for k, v in values.items() if v not in (None, "")}
    kind = _kind_asked(given, known)
    if kind.fields is not None and "image" not in given:
        raise ManifestError(f"{where}: the {kind.name} has no image")
    if kind.fields is None and not given & {"source", "sources"}:
        raise ManifestError(f"{where}: the job has no source")
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        name, spec = known[key]
        try:
            parsed[name] = spec.parse(value)
        except ValueError as exc:
            raise ManifestError(f"{where}: {key}: {exc}") from None
    _refuse_strays(parsed, kind, where)
    task = Task(
        **{f.name: parsed.pop(f.name) for f in dataclasses.fields(Task) if f.name in parsed}
    )
    settings = None
    if kind.fields is not None:
        names = [f.name for f in dataclasses.fields(kind.fields)]
        settings = kind.fields(**{n: parsed.pop(n) for n in names if n in parsed})
    preset, name = parsed.pop("preset", "default"), parsed.pop("name", None)
    overrides = tuple(sorted(parsed.items()))
    return Job(task, preset, overrides, name, settings, where=where, base_dir=base_dir)


def _kind_asked(given: set[str], known: Mapping[str, tuple[str, OptionSpec]]) -> RunKind:
    """The kind of run whose trigger field (``edit:``, ``scaling:`` …) a job gives first in
    the declared order of kinds; none: a synthesis."""
    for kind in batch_kinds():
        if any(known[key][0] == kind.trigger for key in given):
            return kind
    return KINDS["synthesis"]


def _refuse_strays(parsed: dict[str, Any], kind: RunKind, where: str) -> None:
    """Refuse the settings of another kind of run (a mask on a metamer), and task fields
    that this kind does not read (a mix on an edit), rather than ignore them."""
    own = {f.name for f in dataclasses.fields(kind.fields)} if kind.fields else set()
    for other in batch_kinds():
        stray = [f.name for f in dataclasses.fields(other.fields) if f.name in parsed]  # type: ignore[arg-type]
        stray = [name for name in stray if name not in own]
        if other is not kind and stray:
            raise ManifestError(
                f"{where}: {', '.join(stray)} applies only to {_a(other.name)} ({other.hint})"
            )
    unread = [f.name for f in dataclasses.fields(Task) if f.name in parsed]
    unread = [name for name in unread if name not in kind.task_fields]
    if unread:
        raise ManifestError(f"{where}: {', '.join(unread)} does not apply to {_a(kind.name)}")


def _a(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def manifest_text(path: Path) -> str:
    """The manifest's text: UTF-8 (a byte-order mark is allowed), or a clear error."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None


def _read_csv(path: Path) -> list[Job]:
    base = str(path.parent)
    # strict: an unclosed quote is an error, not a cell that swallows the rest of the file.
    reader = csv.DictReader(io.StringIO(manifest_text(path), newline=""), strict=True)
    try:
        header = reader.fieldnames or []
        if "source" not in header and "sources" not in header:
            raise ManifestError(f"{path}:1: the header needs a 'source' column")
        if len(set(header)) != len(header):
            twice = next(name for name in header if header.count(name) > 1)
            raise ManifestError(f"{path}:1: column {twice!r} appears twice in the header")
        jobs = []
        for row in reader:
            where = f"{path}:{reader.line_num}"
            if None in row:
                raise ManifestError(f"{where}: more cells than columns")
            if any("\n" in (v or "") or "\r" in (v or "") for v in row.values()):
                raise ManifestError(f"{where}: a cell spans lines (an unclosed quote?)")
            if not any((v or "").strip() for v in row.values()):
                continue  # blank line
            jobs.append(make_job(row, where, base))
        return jobs
    except csv.Error as exc:
        raise ManifestError(f"{path}: malformed CSV: {exc} (an unclosed quote?)") from None


def _yaml_loader():
    import yaml

    class LineLoader(yaml.SafeLoader):
        """Records each mapping's line as ``__line__`` for error messages."""

    def construct_mapping(loader, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, str | int | float | bool) and key in seen:
                raise ManifestError(
                    f"{loader.name}:{line}: key {key!r} appears twice in one mapping "
                    f"(first at line {seen[key]}); give each key once"
                )
            seen[key] = line
        mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return LineLoader


def _axis_field(key: str, known: Mapping[str, Any]) -> str | None:
    """A grid axis names a field, singular or plural (``seeds``, ``presets``, ``losses``)."""
    for name in (key, key.removesuffix("s"), key.removesuffix("es")):
        if name in known:
            return "source" if known[name][0] == "sources" else name
    return None


def _grid_jobs(grid: Mapping[str, Any], defaults: Mapping[str, Any], where: str, base: str):
    """The product of the grid's value lists; each value of ``sources`` is one job's."""
    known = manifest_fields()
    axes: list[tuple[str, list[Any]]] = []
    for key, values in grid.items():
        if key == "__line__":
            continue
        name = _axis_field(key, known)
        if name is None:
            raise ManifestError(
                f"{where}: unknown grid axis {key!r}; use fields such as sources, seeds, presets"
            )
        if name == "seed" and isinstance(values, int) and not isinstance(values, bool):
            values = list(range(values))  # "seeds: 3" means seeds 0, 1, 2
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise ManifestError(f"{where}: grid axis {key!r} is empty")
        axes.append((name, values))
    given = {name for name, _ in axes} | set(defaults)
    if not given & {"source", "image"}:
        raise ManifestError(f"{where}: the grid has no sources (or images, for edits and metamers)")
    for combination in itertools.product(*(values for _, values in axes)):
        values = dict(defaults) | {name: v for (name, _), v in zip(axes, combination, strict=True)}
        yield make_job(values, where, base)


def _read_yaml(path: Path) -> list[Job]:
    import yaml

    try:
        loader = _yaml_loader()(manifest_text(path))  # a SafeLoader subclass
        loader.name = str(path)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ManifestError(f"{path}{line}: malformed YAML: {problem}") from None
    base = str(path.parent)
    if isinstance(data, list):
        data = {"jobs": data, "__line__": 1}
    if not isinstance(data, dict):
        raise ManifestError(f"{path}:1: a manifest is a mapping with 'grid' and/or 'jobs'")
    unknown = [k for k in data if k not in ("defaults", "grid", "jobs", "__line__")]
    if unknown:
        raise ManifestError(
            f"{path}:{data['__line__']}: unknown section {unknown[0]!r}; "
            "use defaults, grid and jobs"
        )
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ManifestError(f"{path}: 'defaults' must be a mapping")
    defaults = {k: v for k, v in defaults.items() if k != "__line__"}
    jobs: list[Job] = []
    grid = data.get("grid")
    if grid is not None:
        if not isinstance(grid, dict):
            raise ManifestError(f"{path}: 'grid' must be a mapping of field: [values]")
        jobs += _grid_jobs(grid, defaults, f"{path}:{grid['__line__']}", base)
    entries = data.get("jobs") or []
    if not isinstance(entries, list):
        raise ManifestError(f"{path}: 'jobs' must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ManifestError(f"{path}: each job is a mapping such as {{source: a.png}}")
        line = entry.pop("__line__")
        jobs.append(make_job(dict(defaults) | entry, f"{path}:{line}", base))
    return jobs


def read_manifest(path: str | os.PathLike) -> list[Job]:
    """The jobs of a CSV or YAML manifest; malformed input raises :class:`ManifestError`."""
    p = Path(path)
    if not p.is_file():
        raise ManifestError(f"manifest not found: {p}")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        jobs = _read_csv(p)
    elif suffix in (".yaml", ".yml"):
        jobs = _read_yaml(p)
    else:
        raise ManifestError(f"{p}: a manifest is .csv, .yaml or .yml, not {suffix or 'nothing'}")
    if not jobs:
        raise ManifestError(f"{p}: the manifest lists no jobs")
    return _distinct(jobs)


def _distinct(jobs: list[Job]) -> list[Job]:
    seen: dict[str, Job] = {}
    for job in jobs:
        if job.id in seen:
            raise ManifestError(
                f"{job.where}: the same job (id {job.id}) is already listed at {seen[job.id].where}"
            )
        seen[job.id] = job
    return jobs
