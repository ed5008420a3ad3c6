"""Stimulus sets: many syntheses from one manifest, reproducible and resumable.

A manifest (CSV, or YAML with a ``grid`` of sources × seeds × presets × … and/or a list
of ``jobs``) lists the syntheses. Its fields are the task's (source, size, seed, guide),
the ``preset`` and every :class:`~texsynth.recipe.Recipe` field, by the same names as on
the command line (``coarse_iters`` ↔ ``--coarse-iters``), plus an optional ``name``.

Each job writes ``OUTDIR/images/ID.png`` and, last, its sidecar ``ID.json`` (the synthesis's
sidecar plus the job, and the image's sha256). A job counts as done only when its sidecar
describes the same job and the image it names has the recorded hash, so a re-run skips
finished jobs and redoes interrupted ones; files are written atomically, so a killed run
loses at most the jobs in flight. ``OUTDIR/index.csv`` lists every job and its status.

Jobs run in this process, in a local process pool, or on a Dask cluster
(``dask.distributed``): scheduling is the engine's, not ours. Each source's statistics
(at every coarse-to-fine scale) are computed once, before the jobs start, and shipped to
the workers in a :class:`~texsynth.statistics.StatisticsCache`.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import hashlib
import io
import itertools
import json
import os
import re
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import OutputError, TexsynthError
from .files import remove_stale_temporaries, write_files, write_text
from .options import OptionSpec, aliases, declared
from .provenance import file_sha256
from .recipe import PRESET, Recipe, Task, make_recipe
from .registry import ENGINES
from .statistics import StatisticsCache
from .synthesis import synthesize, warm_statistics
from .texture_model import TextureModel

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


def manifest_fields() -> dict[str, tuple[str, OptionSpec]]:
    """Every name a manifest may use → (field, spec): the task's, preset, name, the recipe's."""
    specs = [*declared(Task), ("preset", PRESET), ("name", NAME), *declared(Recipe)]
    return {alias: (name, spec) for name, spec in specs for alias in aliases(name, spec)}


@dataclass(frozen=True)
class Job:
    """One synthesis of a batch: a task, a preset, and the recipe fields the manifest gives."""

    task: Task
    preset: str = "default"
    overrides: tuple[tuple[str, Any], ...] = ()  # (recipe field, value), sorted by field
    name: str | None = None
    # Where the job came from, for messages; relative paths are found from base_dir.
    where: str = field(default="", compare=False)
    base_dir: str = field(default=".", compare=False)

    @property
    def source(self) -> str:
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
        out |= given
        return {k: list(v) if isinstance(v, tuple) else v for k, v in out.items()}

    @property
    def id(self) -> str:
        if self.name:
            return self.name
        digest = hashlib.sha256(json.dumps(self.spec(), sort_keys=True).encode()).hexdigest()
        first = self.task.sources[0].removeprefix("builtin:")
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(first).stem)
        size = f"{self.task.size[0]}x{self.task.size[1]}" if self.task.size else "srcsize"
        return f"{stem}-{self.preset}-{size}-seed{self.task.seed}-{digest[:8]}"

    def _resolved(self, path: str) -> str:
        if path.startswith("builtin:") or Path(path).is_absolute():
            return path
        return str(Path(self.base_dir) / path)

    def resolved_sources(self) -> list[str]:
        return [self._resolved(s) for s in self.task.sources]

    def resolved_guide(self) -> str | None:
        return None if self.task.guide is None else self._resolved(self.task.guide)

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
    if values.get("source", values.get("sources")) in (None, ""):
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
    task = Task(
        **{f.name: parsed.pop(f.name) for f in dataclasses.fields(Task) if f.name in parsed}
    )
    preset, name = parsed.pop("preset", "default"), parsed.pop("name", None)
    overrides = tuple(sorted(parsed.items()))
    return Job(task, preset, overrides, name, where=where, base_dir=base_dir)


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
    if not any(name == "source" for name, _ in axes) and "source" not in defaults:
        raise ManifestError(f"{where}: the grid has no sources")
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


# ------------------------------------------------------------------- running a job ----
def image_path(outdir: Path, job: Job) -> Path:
    return outdir / "images" / f"{job.id}.png"


def sidecar_path(outdir: Path, job: Job) -> Path:
    return outdir / "images" / f"{job.id}.json"


def finished_record(outdir: Path, job: Job) -> dict[str, Any] | None:
    """The sidecar of ``job`` if the job is complete: same job, image present and intact."""
    meta, image = sidecar_path(outdir, job), image_path(outdir, job)
    try:
        record = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if record.get("job") != job.spec() or not image.is_file():
        return None
    return record if record.get("image_sha256") == file_sha256(image) else None


# A pool worker's copy of the shared statistics, handed over once when the worker starts.
_WORKER_CACHE: StatisticsCache | None = None


def _start_pool_worker(cache: StatisticsCache) -> None:
    global _WORKER_CACHE
    _WORKER_CACHE = cache


def run_job(
    job: Job,
    outdir: str,
    cache: StatisticsCache | None = None,
    weights_path: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Synthesise one job and write its image, then its sidecar. Never raises: a failure
    comes back as ``{"status": "failed", "error": ...}`` so that the other jobs go on.
    Without ``cache``, a pool worker uses the statistics it was started with."""
    import torch

    cache = cache if cache is not None else _WORKER_CACHE
    if threads:
        torch.set_num_threads(threads)
    out = Path(outdir)
    start = time.perf_counter()
    try:
        result = synthesize(
            job.resolved_sources(),
            job.task.size,
            job.preset,
            **dict(job.overrides),
            seed=job.task.seed,
            guide=job.resolved_guide(),
            weights=weights_path,
            device=device,
            statistics_cache=cache,
            force=force,
        )
        write_job_files(out, job, result)
        return {
            "job_id": job.id,
            "status": "done",
            "final_loss": result.final_loss,
            "wall_s": time.perf_counter() - start,
            "error": "",
        }
    except Exception as exc:  # a failed job is reported; the batch goes on
        message = " ".join(str(exc).split()) or type(exc).__name__
        return {
            "job_id": job.id,
            "status": "failed",
            "error": message,
            "final_loss": None,
            "wall_s": time.perf_counter() - start,
        }


def write_job_files(outdir: Path, job: Job, result: Any) -> None:
    """The job's image, then its sidecar (with the image's hash), placed together. Both
    are the batch's own files, named by the job's id: an interrupted job's are replaced."""
    image = image_path(outdir, job)
    image.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    result.to_pil().save(buffer, format="PNG")
    png = buffer.getvalue()
    record = result.record() | {
        "job_id": job.id,
        "job": job.spec(),
        "manifest_line": job.where,
        "image": image.name,
        "image_sha256": hashlib.sha256(png).hexdigest(),
    }
    sidecar = json.dumps(record, indent=2) + "\n"
    # Placed in this order: the sidecar's presence (with the hash) marks the job done.
    write_files(
        [
            (image, lambda tmp: tmp.write_bytes(png)),
            (sidecar_path(outdir, job), lambda tmp: tmp.write_text(sidecar, encoding="utf-8")),
        ],
        overwrite=True,
    )


# --------------------------------------------------------- shared source statistics ----
def shared_statistics(
    jobs: Sequence[Job], weights_path: str | None = None, device: str = "cpu"
) -> StatisticsCache:
    """Each source's statistics, once per model the jobs use, at every scale the jobs will
    run at (the synthesis's own plan); workers take them from this cache."""
    cache = StatisticsCache()
    models: dict[tuple, TextureModel] = {}
    for job in jobs:
        recipe = job.recipe()
        key = (recipe.network, recipe.layers, recipe.layer_weights, recipe.pool)
        try:
            models[key] = warm_statistics(
                job.resolved_sources(),
                job.task.size,
                recipe,
                cache,
                guide=job.resolved_guide(),
                device=device,
                weights=weights_path,
                model=models.get(key),
            )
        except TexsynthError:
            continue  # the job itself reports the unreadable source or the bad recipe
    return cache


# ---------------------------------------------------------------------------- index ----
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


INDEX = "index.csv"


def check_index_writable(outdir: Path, overwrite: bool = False) -> None:
    """Refuse, before any work, to replace an ``index.csv`` that texsynth did not write."""
    index = outdir / INDEX
    if index.is_dir():
        raise OutputError(f"{index} is a folder")
    if not index.exists() or overwrite:
        return
    try:
        with open(index, encoding="utf-8", errors="replace") as f:
            first = f.readline()
    except OSError as exc:
        raise OutputError(f"cannot read {index}: {exc.strerror or exc}") from None
    if not first.startswith(",".join(INDEX_COLUMNS[:2]) + ","):
        raise OutputError(
            f"{index} exists and was not written by texsynth (pass --overwrite to replace it)"
        )


def write_index(outdir: Path, jobs: Sequence[Job], rows: Mapping[str, dict[str, Any]]) -> None:
    """``OUTDIR/index.csv``: every job with its status, and a column for each recipe field
    that some job sets; written atomically."""
    varied = sorted({name for job in jobs for name, _ in job.overrides})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*INDEX_COLUMNS[:6], *varied, *INDEX_COLUMNS[6:]])
    writer.writeheader()
    for job in jobs:
        row = rows.get(job.id, {})
        given = dict(job.overrides)
        writer.writerow(
            {
                "job_id": job.id,
                "status": row.get("status", "pending"),
                "source": job.source,
                "seed": job.task.seed,
                "preset": job.preset,
                "size": f"{job.task.size[0]}x{job.task.size[1]}" if job.task.size else "",
                **{k: cell(given.get(k)) for k in varied},
                "final_loss": "" if row.get("final_loss") is None else row["final_loss"],
                "wall_s": "" if row.get("wall_s") is None else f"{row['wall_s']:.2f}",
                "image": f"images/{job.id}.png" if row.get("status") == "done" else "",
                "error": row.get("error", ""),
                "manifest_line": job.where,
            }
        )
    write_text(buffer.getvalue(), outdir / INDEX, overwrite=True)  # checked at the start


def cell(value: Any) -> str:
    """A recipe value as one CSV or page cell: lists joined by commas, None empty."""
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


# -------------------------------------------------------------------------- engines ----
@dataclass
class BatchSummary:
    done: list[str]
    skipped: list[str]
    failed: list[tuple[Job, str]]
    wall_s: float

    @property
    def ok(self) -> bool:
        return not self.failed


def _local_results(
    pending: Sequence[Job], outdir: str, cache: StatisticsCache, options: dict, workers: int
) -> Iterator[dict[str, Any]]:
    if workers <= 1:
        for job in pending:
            yield run_job(job, outdir, cache, **options)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    threads = max(1, (os.cpu_count() or 1) // workers)
    # "spawn": forking a process whose torch has started its thread pool can hang. The
    # statistics go to each worker once, at its start, rather than with every job.
    with ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_pool_worker,
        initargs=(cache,),
    ) as pool:
        futures = [
            pool.submit(run_job, job, outdir, None, **options, threads=threads) for job in pending
        ]
        for future in as_completed(futures):
            yield future.result()


@contextlib.contextmanager
def _environment_kept() -> Iterator[None]:
    """Undo what starting a LocalCluster writes into this process's environment.

    Its nannies set OMP_NUM_THREADS=1 (and MKL's, OpenBLAS's) in *our* ``os.environ`` and
    leave them there: every process started afterwards runs torch on one thread, slower,
    and with other rounding in bfloat16 than the same run started from a clean shell.
    """
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def _dask_client(scheduler: str | None, workers: int) -> Iterator[tuple[Any, int | None]]:
    """A client of the cluster at ``scheduler``, or of a LocalCluster of ``workers``
    processes started here; also the torch threads each worker should use."""
    from dask.distributed import Client, LocalCluster

    cluster = None
    threads = None
    if scheduler is None:
        import dask

        # Dask's workers set MALLOC_TRIM_THRESHOLD_, which stops glibc from reusing freed
        # large blocks: every activation tensor then costs fresh page faults, and our
        # jobs ran 1.8x slower. Unset it for the workers we start.
        trim = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
        with dask.config.set({trim: None}), _environment_kept():
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
            )
        threads = max(1, (os.cpu_count() or 1) // workers)
    try:
        try:
            client = Client(cluster if cluster is not None else scheduler)
        except OSError as exc:
            raise TexsynthError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client, threads
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


def _dask_results(
    client: Any,
    threads: int | None,
    pending: Sequence[Job],
    outdir: str,
    cache: StatisticsCache,
    options: dict,
) -> Iterator[dict[str, Any]]:
    from dask.distributed import as_completed

    shared = client.scatter(cache, broadcast=True)  # shipped once per worker
    futures = [
        client.submit(
            run_job,
            job,
            outdir,
            shared,
            **options,
            threads=threads,
            key=f"texsynth-{job.id}",
            pure=False,
        )
        for job in pending
    ]
    for future in as_completed(futures):
        yield future.result()


def run_batch(
    jobs: Sequence[Job],
    outdir: str | os.PathLike,
    engine: str = "local",
    workers: int = 1,
    scheduler: str | None = None,
    weights_path: str | os.PathLike | None = None,
    device: str = "cpu",
    progress: bool = True,
    on_result: Callable[[Job, dict[str, Any]], None] | None = None,
    report: bool = True,
    overwrite: bool = False,
    force: bool = False,
) -> BatchSummary:
    """Run the jobs not finished yet; write images, sidecars and ``index.csv`` to ``outdir``,
    and with ``report`` the page of :func:`texsynth.report.write_report`. An ``index.csv``
    or page that texsynth did not write is replaced only with ``overwrite``; ``force`` runs
    jobs past the memory estimate."""
    from tqdm.auto import tqdm

    if engine not in ENGINES:
        raise TexsynthError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if workers < 1:
        raise TexsynthError(f"workers must be >= 1, got {workers}")
    start = time.perf_counter()
    out = Path(outdir)
    if out.is_dir():  # before any work: never replace a file of the user's
        check_index_writable(out, overwrite)
        if report:
            from .report import check_page_writable

            check_page_writable(out, overwrite)
    rows: dict[str, dict[str, Any]] = {}
    pending = []
    for job in jobs:
        record = finished_record(out, job)
        if record is None:
            pending.append(job)
        else:
            rows[job.id] = {
                "status": "done",
                "final_loss": record["facts"].get("final_loss"),
                "wall_s": record["facts"].get("wall_time_s"),
            }
    skipped = [job.id for job in jobs if job.id in rows]
    by_id = {job.id: job for job in jobs}
    done: list[str] = []
    failed: list[tuple[Job, str]] = []
    with contextlib.ExitStack() as stack:
        # Connect to Dask before writing anything, so an unreachable scheduler leaves no
        # output folder behind.
        if pending and engine != "local":
            dask_scheduler = scheduler if engine == "dask" else None
            client, threads = stack.enter_context(_dask_client(dask_scheduler, workers))
        (out / "images").mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(out / "images")
        write_index(out, jobs, rows)
        if not pending:
            _report(out, report, overwrite)
            return BatchSummary(done, skipped, failed, time.perf_counter() - start)
        weights_file = str(weights_path) if weights_path else None
        cache = shared_statistics(pending, weights_file, device)
        options = {"weights_path": weights_file, "device": device, "force": force}
        if engine == "local":
            results = _local_results(pending, str(out), cache, options, workers)
        else:
            results = _dask_results(client, threads, pending, str(out), cache, options)
        bar = tqdm(total=len(pending), desc="batch", unit="job", disable=not progress)
        try:
            for result in results:
                job = by_id[result["job_id"]]
                rows[job.id] = result
                if result["status"] == "done":
                    done.append(job.id)
                else:
                    failed.append((job, result["error"]))
                write_index(out, jobs, rows)
                bar.update(1)
                bar.set_postfix(failed=len(failed))
                if on_result is not None:
                    on_result(job, result)
        finally:
            bar.close()
    _report(out, report, overwrite)
    return BatchSummary(done, skipped, failed, time.perf_counter() - start)


def _report(outdir: Path, wanted: bool, overwrite: bool = False) -> None:
    """The batch's page; a failure to write it is a warning, not a lost batch."""
    if not wanted:
        return
    from .report import write_report

    try:
        write_report(outdir, overwrite=overwrite)
    except TexsynthError as exc:
        warnings.warn(f"no report page: {exc}", stacklevel=2)


def summary_lines(summary: BatchSummary, total: int) -> Iterable[str]:
    yield (
        f"batch: {total} jobs: {len(summary.done)} done, {len(summary.skipped)} skipped "
        f"(already done), {len(summary.failed)} failed, in {summary.wall_s:.1f} s"
    )
    for job, error in summary.failed:
        yield f"  failed {job.id} ({job.where}): {error}"
