"""Where a batch's jobs run: this process, a local process pool, or a Dask cluster
(``dask.distributed``): scheduling is the engine's, not ours. Each source's statistics (at
every coarse-to-fine scale) are computed once, before the jobs start, and shipped to the
workers in a :class:`~texsynth.statistics.gram.StatisticsCache`.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import TexsynthError
from ..core.files import remove_stale_temporaries
from ..core.registry import ENGINES
from ..statistics.gram import StatisticsCache
from .jobs import (
    _start_pool_worker,
    check_index_writable,
    finished_record,
    run_job,
    shared_statistics,
    write_index,
)
from .manifest import Job


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
            from ..report import check_page_writable

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
    from ..report import write_report

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
