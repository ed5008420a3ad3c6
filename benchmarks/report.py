"""Report benchmark: the page of a large batch, written and opened in Chromium.

A small real batch (4 syntheses) is cloned into a batch of N jobs (1,000 by default): each
clone is a copy of a real image and sidecar under a new id, with its own seed, so every card
has its own thumbnail to make. Measured: ``texsynth report`` cold (every thumbnail made)
and warm (all cached), the page's size, and in headless Chromium the time to
DOMContentLoaded and to load, and the time one filter change and one re-sort take.

    .venv/bin/python benchmarks/report.py [--jobs 1000] [--side 256] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from texsynth.batch import read_manifest, run_batch
from texsynth.report import write_report

# The browser test's Chromium settings and small manifest, so both measure the same page.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_report import CHROMIUM_ARGS, MANIFEST, chromium


def real_batch(root: Path) -> Path:
    manifest = root / "m.yaml"
    manifest.write_text(MANIFEST)
    run_batch(read_manifest(manifest), root / "real", progress=False, report=False)
    return root / "real"


def cloned_batch(real: Path, out: Path, jobs: int, side: int) -> None:
    """``jobs`` jobs made of the real batch's finished ones, each image enlarged to ``side``
    px (the size of a typical stimulus) and altered by one pixel, so that its thumbnail is
    its own."""
    with open(real / "index.csv", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["status"] == "done"]
    (out / "images").mkdir(parents=True)
    clones = []
    for i in range(jobs):
        row = dict(rows[i % len(rows)])
        old, new = row["job_id"], f"{row['job_id']}-clone{i:04d}"
        image = Image.open(real / "images" / f"{old}.png").resize((side, side))
        bands = len(image.getbands())
        image.putpixel((0, 0), i % 256 if bands == 1 else (i % 256,) * bands)
        image.save(out / "images" / f"{new}.png")
        sidecar = json.loads((real / "images" / f"{old}.json").read_text())
        sidecar["task"]["seed"] = i
        (out / "images" / f"{new}.json").write_text(json.dumps(sidecar))
        clones.append(row | {"job_id": new, "seed": str(i), "image": f"images/{new}.png"})
    with open(out / "index.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(clones[0]))
        writer.writeheader()
        writer.writerows(clones)


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def in_chromium(page_path: Path) -> dict[str, float]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_path.as_uri(), wait_until="load")
        nav = page.evaluate(
            "(() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.domContentLoadedEventEnd, n.loadEventEnd]; })()"
        )
        change = """(([selector, value]) => {
            const control = document.querySelector(selector);
            control.value = value;
            const start = performance.now();
            control.dispatchEvent(new Event('change'));
            document.body.offsetHeight;  // include the layout the change causes
            return performance.now() - start; })"""
        filtered = page.evaluate(change, ['select[data-facet="source"]', "builtin:brick"])
        sorted_ms = page.evaluate(change, ["#sort", "n-final-loss"])
        browser.close()
    return {
        "dom_ms": nav[0],
        "load_ms": nav[1],
        "filter_ms": filtered,
        "sort_ms": sorted_ms,
        "console_errors": len(errors),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--side", type=int, default=256, help="image size of each job")
    parser.add_argument("--keep", type=Path, default=None, help="leave the batch here")
    args = parser.parse_args()
    if chromium() is None:
        print("Chromium is not installed (apt-get install chromium)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        big = root / "big"
        cloned_batch(real_batch(root), big, args.jobs, args.side)
        report, cold = timed(lambda: write_report(big))
        _, warm = timed(lambda: write_report(big))
        size = report.page.stat().st_size
        thumbs = sum(p.stat().st_size for p in (big / "thumbs").glob("*.jpg"))
        browser = in_chromium(report.page)
        print(
            f"{args.jobs} jobs of {args.side}² px: texsynth report {cold:.1f} s cold "
            f"(thumbnails made), {warm:.1f} s warm (cached)"
        )
        print(f"page {size / 1e6:.2f} MB, thumbnails {thumbs / 1e6:.1f} MB")
        print(
            f"Chromium (file://): DOMContentLoaded {browser['dom_ms']:.0f} ms, load "
            f"{browser['load_ms']:.0f} ms; a filter change {browser['filter_ms']:.0f} ms, a "
            f"re-sort {browser['sort_ms']:.0f} ms; console errors {browser['console_errors']}"
        )
        if args.keep:
            shutil.copytree(big, args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
