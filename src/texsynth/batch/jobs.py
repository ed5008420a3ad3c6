"""One job of a batch: run it, write its image and sidecar, know when it is done; the
statistics shared by all jobs; the batch's ``index.csv``.

A job counts as done only when its sidecar describes the same job and the image it names
has the recorded hash, so a re-run skips finished jobs and redoes interrupted ones.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..core.errors import OUT_OF_MEMORY, OutputError, TexsynthError, out_of_memory
from ..core.files import check_replaceable, sidecar_path, text_writer, write_files, write_text
from ..core.job_index import INDEX, INDEX_COLUMNS, cell, is_texsynth_index
from ..core.provenance import file_sha256
from ..core.registry import resolve
from ..statistics.gram import StatisticsCache
from ..statistics.model import TextureModel
from ..synthesis.target import warm_statistics
from .manifest import Job


def image_path(outdir: Path, job: Job) -> Path:
    return outdir / "images" / f"{job.id}.png"


def finished_record(outdir: Path, job: Job) -> dict[str, Any] | None:
    """The sidecar of ``job`` if the job is complete: same job, image present and intact."""
    image = image_path(outdir, job)
    meta = sidecar_path(image)
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
        kind = job.kind
        options = dict(job.overrides) | {"weights": weights_path, "device": device, "force": force}
        if kind.shares_statistics:
            options["statistics_cache"] = cache
        task = dataclasses.replace(
            job.task, sources=tuple(job.resolved_sources()), guide=job.resolved_guide()
        )
        result = resolve(kind.runner)(job.resolved_settings(), job.preset, task=task, **options)
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
        message = OUT_OF_MEMORY if out_of_memory(exc) else message
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
    material = getattr(result, "material", None)  # a control or metamer has none
    maps = material.writers(image) if material is not None else []
    if maps:  # the image at its depth with its alpha, and the maps beside it (*_NAME.png)
        png = _written(maps.pop(0)[1], image)
    else:
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
            *maps,
            (image, lambda tmp: tmp.write_bytes(png)),
            (sidecar_path(image), text_writer(sidecar)),
        ],
        overwrite=True,
    )


def _written(writer: Any, image: Path) -> bytes:
    """The bytes ``writer`` writes (to a private file beside ``image``, removed after)."""
    import tempfile

    with tempfile.TemporaryDirectory(dir=image.parent) as folder:
        path = Path(folder) / image.name
        writer(path)
        return path.read_bytes()


def shared_statistics(
    jobs: Sequence[Job], weights_path: str | None = None, device: str = "cpu"
) -> StatisticsCache:
    """Each source's statistics, once per model the jobs use, at every scale the jobs will
    run at (the synthesis's own plan); workers take them from this cache."""
    cache = StatisticsCache()
    models: dict[tuple, TextureModel] = {}
    for job in jobs:
        if not job.kind.shares_statistics:  # an edit's or a metamer's are its own image's
            continue
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


def check_index_writable(outdir: Path, overwrite: bool = False) -> None:
    """Refuse, before any work, to replace an ``index.csv`` that texsynth did not write."""
    check_replaceable(outdir / INDEX, _written_by_texsynth, overwrite)


def _written_by_texsynth(index: Path) -> bool:
    try:
        with open(index, encoding="utf-8", errors="replace") as f:
            return is_texsynth_index(f.readline())
    except OSError as exc:
        raise OutputError(f"cannot read {index}: {exc.strerror or exc}") from None


def _varied(job: Job) -> list[tuple[str, Any]]:
    """The job's own settings beside its task: recipe fields, a morph's mix, and those its
    kind of run shows in the index (a metamer's scaling and fixation)."""
    extra = [("mix", job.task.mix)] if job.task.mix is not None else []
    extra += [(name, getattr(job.settings, name)) for name in job.kind.index_fields]
    return list(job.overrides) + [(k, v) for k, v in extra if v is not None]


def write_index(outdir: Path, jobs: Sequence[Job], rows: Mapping[str, dict[str, Any]]) -> None:
    """``OUTDIR/index.csv``: every job with its status, and a column for each recipe field
    that some job sets; written atomically."""
    varied = sorted({name for job in jobs for name, _ in _varied(job)})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*INDEX_COLUMNS[:6], *varied, *INDEX_COLUMNS[6:]])
    writer.writeheader()
    for job in jobs:
        row = rows.get(job.id, {})
        given = dict(_varied(job))
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
