"""Batch manifests: grids, sidecars and index, resuming, failures, engines (local, Dask)."""

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from texsynth.batch import (
    ManifestError,
    finished_record,
    read_manifest,
    run_batch,
    run_job,
    shared_statistics,
)

GRID = """\
defaults:
  preset: draft
  size: 48
  iters: 6
  layers: conv1_1,pool1,pool2
grid:
  sources: [builtin:brick, builtin:ihc]
  seeds: 3
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def images(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "images").glob("*.png"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The grid run once, locally and uninterrupted: the outputs every other run must match."""
    folder = tmp_path_factory.mktemp("batch")
    manifest = write(folder / "grid.yaml", GRID)
    summary = run_batch(read_manifest(manifest), folder / "out", progress=False)
    return manifest, folder / "out", summary


def test_grid_runs_every_job_with_sidecar_and_index(reference):
    manifest, out, summary = reference
    jobs = read_manifest(manifest)
    assert len(jobs) == 6 and summary.ok and len(summary.done) == 6
    assert {(j.source, j.task.seed) for j in jobs} == {
        (s, k) for s in ("builtin:brick", "builtin:ihc") for k in range(3)
    }
    assert len(images(out)) == 6
    record = json.loads((out / "images" / f"{jobs[0].id}.json").read_text())
    assert record["job"] == jobs[0].spec() and record["task"]["seed"] == jobs[0].task.seed
    assert record["preset"] == "draft" and record["recipe"]["iters"] == 6
    assert len(record["facts"]["weights"]["sha256"]) == 64
    assert {"versions", "image_sha256", "facts"} <= set(record)
    assert {"final_loss", "wall_time_s", "loss_history"} <= set(record["facts"])
    index = (out / "index.csv").read_text().splitlines()
    assert len(index) == 7 and all(",done," in row for row in index[1:])
    # Different seeds give different images.
    assert len(set(images(out).values())) == 6


def test_rerun_skips_finished_jobs_and_redoes_damaged_ones(reference, tmp_path):
    manifest, out, _ = reference
    jobs = read_manifest(manifest)
    copy = tmp_path / "out"
    (copy / "images").mkdir(parents=True)
    for p in (out / "images").iterdir():
        (copy / "images" / p.name).write_bytes(p.read_bytes())
    again = run_batch(jobs, copy, progress=False)
    assert again.done == [] and len(again.skipped) == 6
    # A truncated image and a missing sidecar make those two jobs run again.
    (copy / "images" / f"{jobs[1].id}.png").write_bytes(b"\x89PNG")
    (copy / "images" / f"{jobs[4].id}.json").unlink()
    assert finished_record(copy, jobs[1]) is None
    again = run_batch(jobs, copy, progress=False)
    assert sorted(again.done) == sorted([jobs[1].id, jobs[4].id])
    assert images(copy) == images(out)


def test_source_statistics_are_computed_once_and_shared(reference, tmp_path):
    manifest, _, _ = reference
    jobs = read_manifest(manifest)
    cache = shared_statistics(jobs)
    # Two sources, one scale each: 48 px outputs are too small for coarse-to-fine.
    assert len(cache) == 2 and cache.misses == 2
    computed = cache.misses
    for job in jobs[:2]:
        assert run_job(job, str(tmp_path), cache)["status"] == "done"
    assert cache.misses == computed and cache.hits >= 2


@pytest.mark.parametrize("engine", ["local", "dask-local"])
def test_two_worker_engines_give_the_same_images(reference, tmp_path, engine):
    import os

    manifest, out, _ = reference
    environment = dict(os.environ)
    summary = run_batch(
        read_manifest(manifest), tmp_path / "out", engine=engine, workers=2, progress=False
    )
    assert summary.ok and len(summary.done) == 6
    assert images(tmp_path / "out") == images(out)
    # Dask's nannies write OMP_NUM_THREADS=1 into the parent's environment; a process started
    # afterwards would run on one thread (and round differently in bfloat16).
    assert dict(os.environ) == environment


def test_killed_run_resumes_with_complete_identical_outputs(reference, tmp_path):
    manifest, out, _ = reference
    target = tmp_path / "out"
    command = [sys.executable, "-m", "texsynth.cli", "batch", str(manifest), "-o", str(target)]
    proc = subprocess.Popen([*command, "-q"], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((target / "images").glob("*.json"))) >= 2:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    finished = len(list((target / "images").glob("*.json")))
    assert 1 <= finished < 6, "the run should have been killed midway"
    resumed = subprocess.run([*command, "-q"], capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    summary = resumed.stderr.strip().splitlines()[-1]
    assert f"{6 - finished} done, {finished} skipped" in summary
    assert images(target) == images(out)
    assert not list((target / "images").glob(".*.tmp"))


def test_a_failing_job_is_reported_and_the_others_run(tmp_path, run_cli):
    manifest = write(
        tmp_path / "jobs.csv",
        "source,seed,size,iters,preset,layers\n"
        'builtin:brick,0,48,3,draft,"conv1_1,pool1"\n'
        'missing.png,0,48,3,draft,"conv1_1,pool1"\n'
        'builtin:gravel,1,48,3,draft,"conv1_1,pool1"\n',
    )
    result = run_cli("batch", manifest, "-o", tmp_path / "out", "-q")
    assert result.code == 1
    lines = result.err.strip().splitlines()
    assert "2 done, 0 skipped (already done), 1 failed" in lines[0]
    assert "jobs.csv:3" in lines[1] and "missing.png" in lines[1]
    index = (tmp_path / "out" / "index.csv").read_text()
    assert index.count(",done,") == 2 and index.count(",failed,") == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("m.csv", "source,seed\nbuiltin:brick,0\nbuiltin:brick,x\n", "m.csv:3: seed: 'x'"),
        ("m.csv", "seed\n0\n", "m.csv:1: the header needs a 'source' column"),
        ("m.csv", "source,colour\nbuiltin:brick,red\n", "m.csv:2: unknown field 'colour'"),
        ("m.csv", "source,size\nbuiltin:brick,12y\n", "m.csv:2: size:"),
        (
            "m.csv",
            "source,preset\nbuiltin:brick,fastest\n",
            "m.csv:2: preset: unknown value 'fastest'",
        ),
        ("m.csv", "source\nbuiltin:brick\nbuiltin:brick\n", "m.csv:3: the same job"),
        ("m.csv", "source\n", "lists no jobs"),
        ("m.yaml", "grid:\n  sources: [a.png\n  seeds: 2\n", "m.yaml:3: malformed YAML"),
        ("m.yaml", "jobs:\n  - source: a.png\n  - source: b.png\n    seed: -1\n", "m.yaml:3: seed"),
        ("m.yaml", "grid:\n  sources: [a.png]\n  colours: [red]\n", "m.yaml:2: unknown grid axis"),
        ("m.yaml", "jobs:\n  - seed: 1\n", "m.yaml:2: the job has no source"),
        ("m.yaml", "grids: {}\n", "m.yaml:1: unknown section 'grids'"),
        ("m.txt", "source\n", "a manifest is .csv, .yaml or .yml"),
    ],
)
def test_malformed_manifests_get_one_line_naming_the_line(tmp_path, run_cli, name, text, message):
    manifest = write(tmp_path / name, text)
    with pytest.raises(ManifestError, match="^" + re.escape(str(tmp_path))):
        read_manifest(manifest)
    result = run_cli("batch", manifest, "-o", tmp_path / "out")
    assert result.code == 1 and message in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert not (tmp_path / "out").exists()


def test_batch_cli_option_errors(tmp_path, run_cli, reference):
    manifest, _, _ = reference
    for args in (["--engine", "dask"], ["--scheduler", "tcp://x:1", "--engine", "local"]):
        result = run_cli("batch", manifest, "-o", tmp_path / "out", *args)
        assert result.code == 2 and len(result.err.strip().splitlines()) == 1
    result = run_cli("batch", tmp_path / "nope.csv", "-o", tmp_path / "out")
    assert result.code == 1 and "manifest not found" in result.err


def test_unreachable_scheduler_is_one_error_and_writes_nothing(reference, tmp_path):
    dask = pytest.importorskip("dask")
    from texsynth.core.errors import TexsynthError

    manifest, _, _ = reference
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(TexsynthError, match="cannot reach the Dask scheduler"),
    ):
        run_batch(
            read_manifest(manifest),
            tmp_path / "out",
            engine="dask",
            scheduler="tcp://127.0.0.1:9",
            progress=False,
        )
    assert not (tmp_path / "out").exists()


def test_manifests_written_before_recipes_keep_their_job_ids(tmp_path):
    """Job ids (file names) and sidecar specs of old manifests are unchanged, so a stimulus
    set started before the recipe redesign resumes instead of starting over."""
    stored = json.loads((Path(__file__).parent / "data" / "legacy_jobs.json").read_text())
    for name, case in stored.items():
        jobs = read_manifest(write(tmp_path / name, case["manifest"]))
        assert [{"id": j.id, "spec": j.spec()} for j in jobs] == case["jobs"], name


def test_a_job_can_pool_sources_or_guide_them_into_regions(tmp_path):
    import numpy as np
    from PIL import Image

    labels = np.zeros((32, 48), dtype=np.uint8)
    labels[:, 24:] = 255
    Image.fromarray(labels).save(tmp_path / "halves.png")
    manifest = write(
        tmp_path / "jobs.csv",
        "source,guide,iters,layers,name\n"
        '"builtin:brick;builtin:gravel",halves.png,3,"conv1_1,pool1",guided\n'
        '"builtin:brick;builtin:gravel",,3,"conv1_1,pool1",pooled\n',
    )
    jobs = read_manifest(manifest)
    assert jobs[0].task.sources == ("builtin:brick", "builtin:gravel")
    assert jobs[0].resolved_guide() == str(tmp_path / "halves.png")
    summary = run_batch(jobs, tmp_path / "out", progress=False)
    assert summary.ok, summary.failed
    guided = json.loads((tmp_path / "out" / "images" / "guided.json").read_text())
    assert guided["facts"]["loss"] == "GuidedGramLoss" and guided["task"]["size"] == [48, 32]
    pooled = json.loads((tmp_path / "out" / "images" / "pooled.json").read_text())
    assert pooled["facts"]["loss"] == "GramLoss" and len(pooled["task"]["sources"]) == 2


def test_batch_grids_of_metamers_and_morphs(run_cli, tmp_path):
    import csv

    from texsynth.image.io import load_image, resample, save_image

    save_image(resample(load_image("builtin:brick").pixels, 128, 128), tmp_path / "b.png")
    save_image(resample(load_image("builtin:ihc").pixels, 64, 64), tmp_path / "c.png")
    (tmp_path / "m.yaml").write_text(
        "defaults: {iters: 3}\ngrid: {images: [b.png], scalings: [0.6, 0.8], seeds: 2}\n"
        "jobs:\n  - {source: [c.png, b.png], mix: 0.5, iters: 3, size: 32, loss: gram}\n"
    )
    result = run_cli("batch", tmp_path / "m.yaml", "-o", tmp_path / "out", "-q")
    assert result.code == 0, result.err
    rows = list(csv.DictReader((tmp_path / "out" / "index.csv").open()))
    assert [r["status"] for r in rows] == ["done"] * 5
    assert sorted(r["scaling"] for r in rows) == ["", "0.6", "0.6", "0.8", "0.8"]
    assert [r["mix"] for r in rows if r["mix"]] == ["0.5"]
    sidecars = [json.loads(p.read_text()) for p in (tmp_path / "out" / "images").glob("*.json")]
    assert sum("metamer" in s for s in sidecars) == 4
    assert [s["task"]["mix"] for s in sidecars if "metamer" not in s] == [0.5]
    stray = tmp_path / "bad.yaml"
    stray.write_text("jobs:\n  - {source: c.png, fixation: '3,4'}\n")
    bad = run_cli("batch", stray, "-o", tmp_path / "out2", "-q")
    assert bad.code != 0 and "applies only to a metamer" in bad.err
