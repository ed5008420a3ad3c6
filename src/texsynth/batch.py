"""Stimulus sets: many syntheses from one manifest, reproducible and resumable.

A manifest (CSV, or YAML with a ``grid`` of sources × seeds × presets × … and/or a list
of ``jobs``) lists the syntheses. Each job writes ``OUTDIR/images/ID.png`` and, last, its
sidecar ``ID.json`` (the job, every synthesis parameter, seed, weights hash, versions,
final loss, time, and the image's sha256). A job counts as done only when its sidecar
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
import hashlib
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import TexsynthError
from .image_io import load_image, write_text
from .network import PRECISIONS, layer_sequence
from .sizes import parse_size_text
from .statistics import StatisticsCache
from .synthesis import (
    PRESETS,
    auto_scales,
    resolve_device,
    resolve_precision,
    shrink,
    synthesize,
)
from .texture_model import DEFAULT_LAYERS, TextureModel
from .weights import Weights, load_weights

ENGINES: tuple[str, ...] = ("local", "dask", "dask-local")
INDEX_COLUMNS: tuple[str, ...] = (
    "job_id",
    "status",
    "source",
    "seed",
    "preset",
    "size",
    "iters",
    "layers",
    "final_loss",
    "wall_s",
    "image",
    "error",
    "manifest_line",
)


class ManifestError(TexsynthError):
    """A manifest that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Job:
    """One synthesis of a batch. Fields left at ``None`` take the preset's values."""

    source: str
    seed: int = 0
    preset: str = "default"
    size: tuple[int, int] | None = None
    iters: int | None = None
    layers: tuple[str, ...] | None = None
    scales: int | str | None = None
    precision: str | None = None
    tileable: bool = False
    hist_match: bool = False
    name: str | None = None
    # Where the job came from, for messages; relative sources are found from base_dir.
    where: str = field(default="", compare=False)
    base_dir: str = field(default=".", compare=False)

    def spec(self) -> dict[str, Any]:
        """The job as plain data (what identifies it, recorded in its sidecar)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("where", "base_dir"):
                continue
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @property
    def id(self) -> str:
        if self.name:
            return self.name
        digest = hashlib.sha256(json.dumps(self.spec(), sort_keys=True).encode()).hexdigest()
        stem = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(self.source.removeprefix("builtin:")).stem)
        size = f"{self.size[0]}x{self.size[1]}" if self.size else "srcsize"
        return f"{stem}-{self.preset}-{size}-seed{self.seed}-{digest[:8]}"

    def resolved_source(self) -> str:
        if self.source.startswith("builtin:") or Path(self.source).is_absolute():
            return self.source
        return str(Path(self.base_dir) / self.source)

    def synthesis_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {
            "seed": self.seed,
            "preset": self.preset,
            "tileable": self.tileable,
            "hist_match": self.hist_match,
            "layers": self.layers or DEFAULT_LAYERS,
        }
        for name in ("iters", "scales", "precision"):
            if getattr(self, name) is not None:
                options[name] = getattr(self, name)
        return options


# ------------------------------------------------------------------------ manifests ----
def _as_int(value: Any, minimum: int = 0) -> int:
    if isinstance(value, bool) or not re.fullmatch(r"\s*-?\d+\s*", str(value)):
        raise ValueError(f"{value!r} is not a whole number")
    number = int(value)
    if number < minimum:
        raise ValueError(f"{number} is below {minimum}")
    return number


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _as_layers(value: Any) -> tuple[str, ...]:
    names = value if isinstance(value, (list, tuple)) else str(value).split(",")
    layers = tuple(str(n).strip() for n in names if str(n).strip())
    known = [n for n, _ in layer_sequence("vgg19")]
    for name in layers:
        if name not in known:
            raise ValueError(f"unknown layer {name!r}")
    if not layers:
        raise ValueError("no layers given")
    return layers


def _as_preset(value: Any) -> str:
    if str(value) not in PRESETS:
        raise ValueError(f"unknown preset {value!r}; choose one of: {', '.join(PRESETS)}")
    return str(value)


def _as_scales(value: Any) -> int | str:
    return "auto" if str(value).strip() == "auto" else _as_int(value, minimum=1)


def _as_precision(value: Any) -> str:
    if str(value) not in ("auto", *PRECISIONS):
        raise ValueError(f"unknown precision {value!r}; choose auto, {', '.join(PRECISIONS)}")
    return str(value)


def _as_name(value: Any) -> str:
    text = str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text):
        raise ValueError(f"{text!r} is not a plain file name (letters, digits, _ . -)")
    return text


def _as_source(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("empty source")
    return text


FIELD_PARSERS: dict[str, Callable[[Any], Any]] = {
    "source": _as_source,
    "seed": lambda v: _as_int(v, minimum=0),
    "preset": _as_preset,
    "size": parse_size_text,
    "iters": lambda v: _as_int(v, minimum=0),
    "layers": _as_layers,
    "scales": _as_scales,
    "precision": _as_precision,
    "tileable": _as_bool,
    "hist_match": _as_bool,
    "name": _as_name,
}


def make_job(values: Mapping[str, Any], where: str, base_dir: str) -> Job:
    """A :class:`Job` from manifest values (empty values mean "default")."""
    unknown = [k for k in values if k not in FIELD_PARSERS]
    if unknown:
        raise ManifestError(
            f"{where}: unknown field {unknown[0]!r}; known fields: {', '.join(FIELD_PARSERS)}"
        )
    if values.get("source") in (None, ""):
        raise ManifestError(f"{where}: the job has no source")
    parsed: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or (isinstance(value, str) and not value.strip() and key != "source"):
            continue
        try:
            parsed[key] = FIELD_PARSERS[key](value)
        except ValueError as exc:
            raise ManifestError(f"{where}: {key}: {exc}") from None
    return Job(**parsed, where=where, base_dir=base_dir)


def _read_csv(path: Path) -> list[Job]:
    base = str(path.parent)
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        if "source" not in header:
            raise ManifestError(f"{path}:1: the header needs a 'source' column")
        jobs = []
        for row in reader:
            if None in row:
                raise ManifestError(f"{path}:{reader.line_num}: more cells than columns")
            if not any((v or "").strip() for v in row.values()):
                continue  # blank line
            jobs.append(make_job(row, f"{path}:{reader.line_num}", base))
        return jobs


def _yaml_loader():
    import yaml

    class LineLoader(yaml.SafeLoader):
        """Records each mapping's line as ``__line__`` for error messages."""

    def construct_mapping(loader, node, deep=False):
        mapping = yaml.SafeLoader.construct_mapping(loader, node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping

    LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return LineLoader


def _grid_jobs(grid: Mapping[str, Any], defaults: Mapping[str, Any], where: str, base: str):
    """The product of the grid's value lists; keys are fields, singular or plural."""
    axes: list[tuple[str, list[Any]]] = []
    for key, values in grid.items():
        if key == "__line__":
            continue
        name = key if key in FIELD_PARSERS else key[:-1] if key[:-1] in FIELD_PARSERS else None
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
        data = yaml.load(path.read_text(), Loader=_yaml_loader())  # a SafeLoader subclass
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


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


_WEIGHTS: dict[str, Weights] = {}
# A pool worker's copy of the shared statistics, handed over once when the worker starts.
_WORKER_CACHE: StatisticsCache | None = None


def _start_pool_worker(cache: StatisticsCache) -> None:
    global _WORKER_CACHE
    _WORKER_CACHE = cache


def _weights(path: str | None) -> Weights:
    # Read (and hash-check) the weights once per process, not once per job.
    key = path or ""
    if key not in _WEIGHTS:
        _WEIGHTS[key] = load_weights(path)
    return _WEIGHTS[key]


def run_job(
    job: Job,
    outdir: str,
    cache: StatisticsCache | None = None,
    weights_path: str | None = None,
    device: str = "cpu",
    threads: int | None = None,
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
            job.resolved_source(),
            job.size,
            weights=_weights(weights_path),
            device=device,
            statistics_cache=cache,
            **job.synthesis_options(),
        )
        image = image_path(out, job)
        image.parent.mkdir(parents=True, exist_ok=True)
        result.save(image)
        record = result.record() | {
            "job_id": job.id,
            "job": job.spec(),
            "manifest_line": job.where,
            "image": image.name,
            "image_sha256": file_sha256(image),
        }
        # The sidecar comes last: its presence (with the image's hash) marks the job done.
        write_text(json.dumps(record, indent=2) + "\n", sidecar_path(out, job))
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


# --------------------------------------------------------- shared source statistics ----
def shared_statistics(
    jobs: Sequence[Job], weights: Weights, device: str = "cpu"
) -> StatisticsCache:
    """Each source's statistics, once per model the jobs use, at the full size and at
    every size coarse-to-fine may shrink it to; workers take them from this cache."""
    cache = StatisticsCache()
    dev = resolve_device(device)
    models: dict[tuple[tuple[str, ...], str], TextureModel] = {}
    images: dict[str, Any] = {}
    for job in jobs:
        layers = tuple(job.layers or DEFAULT_LAYERS)
        if (layers, "float32") not in models:
            models[layers, "float32"] = TextureModel.from_weights(weights, layers, device=dev)
        base = models[layers, "float32"]
        precision = resolve_precision(
            job.precision or PRESETS[job.preset].precision, dev, base, image_sources=True
        )
        if (layers, precision) not in models:
            models[layers, precision] = base.with_precision(precision)
        model = models[layers, precision]
        source = job.resolved_source()
        try:
            if source not in images:
                images[source] = load_image(source)
        except TexsynthError:
            continue  # the job itself reports the unreadable source
        # The images exactly as synthesize() meets them: the source, then each coarser
        # scale's shrunk copy (loaded from a tensor, as the coarse-to-fine recursion does).
        image = images[source]
        _, height, width = image.pixels.shape
        scales = job.scales or PRESETS[job.preset].scales
        if scales == "auto":
            w, h = job.size or (width, height)
            multiple = model.min_size if job.tileable else 1
            scales = auto_scales(w, h, [width, height], multiple)
        for _ in range(int(scales)):
            if min(image.pixels.shape[1:]) < model.min_size:
                break
            cache.statistics(model, image)
            image = load_image(shrink(image.pixels, 2))
    return cache


# ---------------------------------------------------------------------------- index ----
def write_index(outdir: Path, jobs: Sequence[Job], rows: Mapping[str, dict[str, Any]]) -> None:
    """``OUTDIR/index.csv``: every job with its status, written atomically."""
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=INDEX_COLUMNS)
    writer.writeheader()
    for job in jobs:
        row = rows.get(job.id, {})
        writer.writerow(
            {
                "job_id": job.id,
                "status": row.get("status", "pending"),
                "source": job.source,
                "seed": job.seed,
                "preset": job.preset,
                "size": f"{job.size[0]}x{job.size[1]}" if job.size else "",
                "iters": "" if job.iters is None else job.iters,
                "layers": ",".join(job.layers or DEFAULT_LAYERS),
                "final_loss": "" if row.get("final_loss") is None else row["final_loss"],
                "wall_s": "" if row.get("wall_s") is None else f"{row['wall_s']:.2f}",
                "image": f"images/{job.id}.png" if row.get("status") == "done" else "",
                "error": row.get("error", ""),
                "manifest_line": job.where,
            }
        )
    write_text(buffer.getvalue(), outdir / "index.csv")


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


def _remove_stale_temporaries(folder: Path) -> None:
    # Left behind by a run killed while writing (atomic writes go through ".NAME.*.tmp").
    for tmp in folder.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


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
) -> BatchSummary:
    """Run the jobs not finished yet; write images, sidecars and ``index.csv`` to ``outdir``."""
    from tqdm.auto import tqdm

    if engine not in ENGINES:
        raise TexsynthError(f"unknown engine {engine!r}; choose one of: {', '.join(ENGINES)}")
    if workers < 1:
        raise TexsynthError(f"workers must be >= 1, got {workers}")
    start = time.perf_counter()
    out = Path(outdir)
    rows: dict[str, dict[str, Any]] = {}
    pending = []
    for job in jobs:
        record = finished_record(out, job)
        if record is None:
            pending.append(job)
        else:
            rows[job.id] = {
                "status": "done",
                "final_loss": record.get("final_loss"),
                "wall_s": record.get("wall_time_s"),
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
        _remove_stale_temporaries(out / "images")
        write_index(out, jobs, rows)
        if not pending:
            return BatchSummary(done, skipped, failed, time.perf_counter() - start)
        weights_file = str(weights_path) if weights_path else None
        cache = shared_statistics(pending, _weights(weights_file), device)
        options = {"weights_path": weights_file, "device": device}
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
    return BatchSummary(done, skipped, failed, time.perf_counter() - start)


def summary_lines(summary: BatchSummary, total: int) -> Iterable[str]:
    yield (
        f"batch: {total} jobs: {len(summary.done)} done, {len(summary.skipped)} skipped "
        f"(already done), {len(summary.failed)} failed, in {summary.wall_s:.1f} s"
    )
    for job, error in summary.failed:
        yield f"  failed {job.id} ({job.where}): {error}"
