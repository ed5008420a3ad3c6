"""``texsynth report``: the page of a batch, of loose syntheses and of figures; damaged
folders; the thumbnail and score caches; and the page itself in a real browser."""

from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import json
import os
import re
import shutil
import threading
from pathlib import Path

import pytest

from texsynth.batch import read_manifest, run_batch
from texsynth.report import write_report
from texsynth.report.page import is_generated, loss_curve_svg

MANIFEST = """\
defaults:
  preset: draft
  size: 40
  iters: 3
grid:
  sources: [builtin:brick, builtin:ihc]
  seeds: 2
jobs:
  - source: missing.png
"""


@pytest.fixture(scope="module")
def batch_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished batch: four syntheses and one job that failed (its source is missing)."""
    root = tmp_path_factory.mktemp("batch")
    manifest = root / "m.yaml"
    manifest.write_text(MANIFEST)
    run_batch(read_manifest(manifest), root / "out", progress=False)
    return root / "out"


@pytest.fixture()
def damaged(batch_folder: Path, tmp_path: Path) -> Path:
    """The batch with one sidecar deleted and one image cut short."""
    folder = tmp_path / "damaged"
    shutil.copytree(batch_folder, folder)
    sidecars = sorted((folder / "images").glob("*.json"))
    sidecars[0].unlink()
    image = sidecars[-1].with_suffix(".png")
    image.write_bytes(image.read_bytes()[:200])
    return folder


def cards(page: Path) -> dict[str, str]:
    """Each card's key and status, read back from the page."""
    found = re.findall(r'<article class="card (\w+)[^"]*" data-key="([^"]+)"', page.read_text())
    return {key: status for status, key in found}


def test_a_batch_writes_its_report(batch_folder: Path) -> None:
    page = batch_folder / "index.html"
    assert is_generated(page)
    statuses = cards(page)
    assert sorted(statuses.values()) == ["done"] * 4 + ["failed"]
    text = page.read_text()
    assert "no such file" in text  # the failure, said on its card
    assert text.count("<polyline") == 4  # a loss curve per finished job
    for src in re.findall(r'<img src="([^"]+)"', text):
        assert (batch_folder / src).is_file(), src
    assert "http://" not in text and "https://" not in text  # nothing from the network


def test_a_damaged_batch_still_gives_a_page(damaged: Path, run_cli) -> None:
    result = run_cli("report", damaged)
    assert result.code == 0, result.err
    assert result.err.strip().endswith("(batch: 2 done, 1 failed, 2 damaged)")
    statuses = cards(damaged / "index.html")
    assert sorted(statuses.values()) == ["damaged"] * 2 + ["done"] * 2 + ["failed"]
    text = (damaged / "index.html").read_text()
    assert ".json is missing" in text and ".png is unreadable" in text


def test_a_garbled_index_falls_back_to_the_sidecars(damaged: Path, run_cli) -> None:
    (damaged / "index.csv").write_bytes(b"\xff\xfe\x00garbage")
    result = run_cli("report", damaged)
    assert result.code == 0, result.err
    text = (damaged / "index.html").read_text()
    assert "index.csv" in text and len(cards(damaged / "index.html")) == 3  # 3 sidecars left


def test_a_page_not_written_by_texsynth_is_kept(batch_folder: Path, tmp_path: Path, run_cli):
    folder = tmp_path / "mine"
    shutil.copytree(batch_folder, folder)
    (folder / "index.html").write_text("<p>my notes</p>")
    result = run_cli("report", folder)
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1
    assert "--overwrite" in result.err and "Traceback" not in result.err
    assert (folder / "index.html").read_text() == "<p>my notes</p>"
    assert run_cli("report", folder, "--overwrite").code == 0
    assert is_generated(folder / "index.html")


@pytest.mark.parametrize("make", ["missing", "file", "empty"])
def test_bad_folders_end_in_one_line(tmp_path: Path, run_cli, make: str) -> None:
    target = tmp_path / "target"
    if make == "file":
        target.write_text("x")
    elif make == "empty":
        target.mkdir()
        (target / "notes.json").write_text("{}")  # JSON, but not a sidecar
    result = run_cli("report", target)
    assert result.code == 1 and len(result.err.strip().splitlines()) == 1, result.err
    assert result.err.startswith("texsynth: error:")
    assert not (tmp_path / "target" / "index.html").exists()


def test_thumbnails_are_cached_and_pruned(batch_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "again"
    shutil.copytree(batch_folder, folder)
    write_report(folder)
    before = {p.name: p.stat().st_mtime_ns for p in (folder / "thumbs").glob("*.jpg")}
    write_report(folder)
    after = {p.name: p.stat().st_mtime_ns for p in (folder / "thumbs").glob("*.jpg")}
    assert after == before  # nothing decoded or written again
    image = sorted((folder / "images").glob("*.png"))[0]
    image.write_bytes(sorted((folder / "images").glob("*.png"))[1].read_bytes())
    write_report(folder)
    renewed = {p.name for p in (folder / "thumbs").glob("*.jpg")}
    assert len(renewed) == len(before) and renewed != set(before)  # one new, one pruned


def test_loose_syntheses_get_a_page(batch_folder: Path, tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    shutil.copytree(batch_folder / "images", folder / "run")
    (folder / "run" / "notes.json").write_text('{"not": "a sidecar"}')
    report = write_report(folder)
    assert report.kind == "syntheses" and report.counts == {"done": 4}
    assert all(key.startswith("run/") for key in cards(report.page))


def test_scores_are_shown_and_cached(batch_folder: Path, tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "scored"
    shutil.copytree(batch_folder, folder)
    write_report(folder, metrics=True)
    text = (folder / "index.html").read_text()
    assert text.count('data-n-gram="') == 4 and '<option value="n-swd">swd' in text
    cache = json.loads((folder / "thumbs" / "scores.json").read_text())
    assert len(cache) == 4 and all(0 <= s["color"] < 1 for s in cache.values())

    def refuse(*args):
        raise AssertionError("scored again although cached")

    monkeypatch.setattr("texsynth.report.scores._Scorer.scores", refuse)
    write_report(folder, metrics=True)
    assert (folder / "index.html").read_text() == text


def test_loss_curve_marks_each_scale() -> None:
    svg = loss_curve_svg([[8.0, 4.0, 2.0], [3.0, 1.0, 0.5, 0.25]])
    assert svg.count("<polyline") == 2 and svg.count('class="scale"') == 1
    assert "loss 8 to 0.25 over 5 iterations at 2 scales" in svg
    assert loss_curve_svg([[1.0]]) == "" and loss_curve_svg([]) == ""
    long = loss_curve_svg([[1.0 / (i + 1) for i in range(1000)]])
    assert len(long) < 2000  # thinned: a page of 1,000 cards stays small


# -------------------------------------------------------------- in a real browser ----
def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def playwright_installed() -> bool:
    return importlib.util.find_spec("playwright") is not None


# CI installs Chromium and sets TEXSYNTH_REQUIRE_BROWSER=1, so there this never skips.
needs_browser = pytest.mark.skipif(
    not (chromium() and playwright_installed()) and not os.environ.get("TEXSYNTH_REQUIRE_BROWSER"),
    reason="Chromium (Debian's chromium package) or playwright is not installed",
)
# Headless, as root, on a machine without network: no sandbox, GPU or background traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@contextlib.contextmanager
def served(folder: Path):
    """``folder`` on a local web server, as ``python -m http.server`` would serve it."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def shown(page) -> list[str]:
    return page.eval_on_selector_all(".card:not([hidden])", "cs => cs.map(c => c.dataset.key)")


def choose(page, facet: str, value: str) -> None:
    page.select_option(f'select[data-facet="{facet}"]', value)


@needs_browser
@pytest.mark.parametrize("via", ["file", "http"])
def test_the_page_works_in_chromium(damaged: Path, tmp_path: Path, via: str) -> None:
    from playwright.sync_api import sync_playwright

    write_report(damaged)
    statuses = cards(damaged / "index.html")
    problems: list[str] = []
    with contextlib.ExitStack() as stack:
        url = (
            (damaged / "index.html").as_uri()
            if via == "file"
            else stack.enter_context(served(damaged))
        )
        browser = stack.enter_context(sync_playwright()).chromium.launch(
            executable_path=chromium(), args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(url, wait_until="load")
        for image in page.query_selector_all("img"):  # lazy images load once in view
            image.scroll_into_view_if_needed()
        page.wait_for_function("[...document.images].every(i => i.complete)")
        widths = page.eval_on_selector_all("img", "is => is.map(i => i.naturalWidth)")
        assert widths and all(w > 0 for w in widths), widths
        # Two intact jobs, synthesis and source each; the job without its sidecar shows its
        # synthesis and (a builtin: source, named in the index) its source.
        assert len(widths) == 6

        assert sorted(shown(page)) == sorted(statuses)
        choose(page, "status", "failed")
        assert shown(page) == [k for k, s in statuses.items() if s == "failed"]
        choose(page, "status", "")
        choose(page, "source", "builtin:brick")
        assert sorted(shown(page)) == sorted(k for k in statuses if k.startswith("brick"))
        assert page.text_content("#shown") == f"2 of {len(statuses)} shown"
        choose(page, "source", "")
        page.fill("#find", "missing.png")
        assert shown(page) == [k for k in statuses if k.startswith("missing")]
        page.fill("#find", "")

        page.select_option("#sort", "n-final-loss")
        page.select_option("#order", "down")
        keys = shown(page)
        losses = [page.get_attribute(f'[data-key="{k}"]', "data-n-final-loss") for k in keys]
        numbers = [float(x) for x in losses if x is not None]
        assert numbers == sorted(numbers, reverse=True) and len(numbers) >= 3
        page.screenshot(path=str(tmp_path / f"report-{via}.png"), full_page=True)
        browser.close()
    assert problems == []
    assert (tmp_path / f"report-{via}.png").stat().st_size > 10_000


def test_the_synthesis_is_never_drawn_smaller_than_its_source(run_cli, tmp_path):
    """A 64 px synthesis of a 512 px source: the source is drawn at the synthesis's size,
    and its caption says by how much it was shrunk; the sizes stay in the captions."""
    import re

    made = run_cli("synth", "builtin:ihc", "-o", tmp_path / "s.png", "--size", "64",
                   "--iters", "2", "--scales", "1", "-q")  # fmt: skip
    assert made.code == 0, made.err
    assert run_cli("report", tmp_path, "-q").code == 0
    page = (tmp_path / "index.html").read_text()
    shares = dict(
        re.findall(r'<figure class="(synthesis|source)" style="flex: 0 0 ([\d.]+)%"', page)
    )
    assert float(shares["synthesis"]) >= float(shares["source"])
    assert "synthesis 64×64" in page and "source 512×512, shown at 0.12×" in page


def test_the_report_shows_controls_metamers_and_morphs(run_cli, color_png, tmp_path):
    from texsynth.report.cards import collect

    assert run_cli("control", color_png, "-o", tmp_path / "c.png", "-q").code == 0
    morph = ("synth", color_png, "builtin:brick", "-o", tmp_path / "m.png", "--mix", "0.5")
    assert run_cli(*morph, "--size", "32", "--iters", "2", "-q").code == 0
    cards = {card.key: card for card in collect(tmp_path).cards}
    assert cards["c"].fields["control"] == "phase" and "phase correlation" in cards["c"].numbers
    assert cards["m"].fields["mix"] == "0.5"
    assert run_cli("report", tmp_path, "-q").code == 0
    assert "phase correlation" in (tmp_path / "index.html").read_text()
