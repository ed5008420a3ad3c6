"""Stimulus sets: many syntheses from one manifest, reproducible and resumable.

A manifest (CSV, or YAML with a ``grid`` of sources × seeds × presets × … and/or a list
of ``jobs``) lists the syntheses. Its fields are the task's (source, size, seed, guide),
the ``preset`` and every :class:`~texsynth.core.recipe.Recipe` field, by the same names as on
the command line (``coarse_iters`` ↔ ``--coarse-iters``), plus an optional ``name``.

Each job writes ``OUTDIR/images/ID.png`` and, last, its sidecar ``ID.json`` (the synthesis's
sidecar plus the job, and the image's sha256). A job counts as done only when its sidecar
describes the same job and the image it names has the recorded hash, so a re-run skips
finished jobs and redoes interrupted ones; files are written atomically, so a killed run
loses at most the jobs in flight. ``OUTDIR/index.csv`` lists every job and its status.

Jobs run in this process, in a local process pool, or on a Dask cluster
(``dask.distributed``): scheduling is the engine's, not ours. Each source's statistics
(at every coarse-to-fine scale) are computed once, before the jobs start, and shipped to
the workers in a :class:`~texsynth.statistics.gram.StatisticsCache`.

:mod:`.manifest` reads the jobs, :mod:`.jobs` runs one and writes its files and the index,
:mod:`.engines` runs them all, here or on Dask.
"""

from __future__ import annotations

from ..core.job_index import INDEX_COLUMNS, cell
from .engines import BatchSummary, run_batch, summary_lines
from .jobs import (
    check_index_writable,
    finished_record,
    image_path,
    run_job,
    shared_statistics,
    write_index,
    write_job_files,
)
from .manifest import (
    LEGACY_SPEC_FIELDS,
    LEGACY_SPEC_FLAGS,
    NAME,
    Job,
    ManifestError,
    make_job,
    manifest_fields,
    manifest_text,
    override_jobs,
    read_manifest,
)

__all__ = [
    "INDEX_COLUMNS",
    "LEGACY_SPEC_FIELDS",
    "LEGACY_SPEC_FLAGS",
    "NAME",
    "BatchSummary",
    "Job",
    "ManifestError",
    "cell",
    "check_index_writable",
    "finished_record",
    "image_path",
    "make_job",
    "manifest_fields",
    "manifest_text",
    "override_jobs",
    "read_manifest",
    "run_batch",
    "run_job",
    "shared_statistics",
    "summary_lines",
    "write_index",
    "write_job_files",
]
