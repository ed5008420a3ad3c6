"""``texsynth app`` in a real browser (Debian's Chromium driven by Playwright): a small
synthesis and a painted fill, downloaded and compared byte for byte with the command
line's output for the same recipe and seed; bad input as a message on the page; nothing
fetched from outside the machine; the temporary folder gone when the app stops."""

from __future__ import annotations

import contextlib
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

pytest.importorskip("gradio")
from test_report import CHROMIUM_ARGS, chromium, needs_browser

TEXSYNTH = str(Path(sys.executable).with_name("texsynth"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def app_running(*args: str, sigint_ignored: bool = False) -> Iterator[tuple[str, Path, list[str]]]:
    """``texsynth app --no-browser ARGS`` as a user starts it: its address, its folder, and
    what it said before the address; stopped with Ctrl-C at the end (also when it was
    started with SIGINT ignored, as a background job is)."""
    ignore = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint_ignored else None
    process = subprocess.Popen(
        [TEXSYNTH, "app", "--no-browser", "--port", str(free_port()), *args],
        stderr=subprocess.PIPE, text=True, preexec_fn=ignore,
    )  # fmt: skip
    said: list[str] = []
    for line in process.stderr:  # type: ignore[union-attr]
        found = re.search(r"(http://\S+)\s.*in (\S+) are removed", line)
        if found:
            break
        said.append(line)
    assert found, "".join(said)
    try:
        yield found.group(1), Path(found.group(2)), said
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0


def texture_png(path: Path, size: int = 48) -> Path:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 256, (size // 4, size // 4, 3)).astype(np.uint8)
    Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC).save(path)
    return path


def field(page, elem_id: str, value: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(value)


def run_and_download(page, tab: str, folder: Path, press: bool = True) -> dict[str, Path]:
    """Press Run on ``tab`` (unless pressed already), wait for the downloads, save each;
    name → path."""
    if press:
        page.click(f"#{tab}-run")
    links = page.locator(f"#{tab}-files a")
    links.first.wait_for(timeout=180_000)
    saved = {}
    for i in range(links.count()):
        with page.expect_download() as download:
            links.nth(i).click()
        name = download.value.suggested_filename
        saved[name] = folder / name
        download.value.save_as(saved[name])
    return saved


def painted_fill(page, folder: Path, tries: int = 3) -> dict[str, Path]:
    """Paint a stroke and run the fill; on a loaded machine the editor's picture can land
    after the stroke and wipe it, and the app then says to paint the hole: paint again."""
    links, wiped = page.locator("#fill-files a"), page.get_by_text("paint the hole on the image")
    canvas = page.locator("#fill-editor canvas").first
    for _ in range(tries):
        canvas.scroll_into_view_if_needed()  # Run scrolls the page: the stroke must land on it
        paint(page, canvas.bounding_box())
        page.click("#fill-run")
        links.first.or_(wiped.first).wait_for(timeout=180_000)
        if links.count():
            return run_and_download(page, "fill", folder, press=False)
        wiped.first.wait_for(state="hidden", timeout=60_000)  # the message closes itself
    raise AssertionError(f"the painted stroke was wiped {tries} times")


def paint(page, box: dict) -> None:
    """A short brush stroke across the middle of the editor's picture."""
    page.locator("#fill-editor button[aria-label='Brush']").click()
    x, y = box["x"] + box["width"] / 2 - 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(15):
        page.mouse.move(x + 3 * step, y + step, steps=2)
        time.sleep(0.03)
    page.mouse.up()


@needs_browser
def test_the_app_makes_what_the_command_line_makes(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    source = texture_png(tmp_path / "texture.png")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    outside: list[str] = []
    with app_running() as (url, folder, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1600}, accept_downloads=True)
        local = re.compile(r"^(https?://(127\.0\.0\.1|localhost)[:/]|data:|blob:)")
        page.route("**/*", lambda route: route.continue_() if local.match(route.request.url)
                   else (outside.append(route.request.url), route.abort()))  # fmt: skip
        page.goto(url)
        page.set_input_files("#synth-sources input[type=file]", source)
        field(page, "synth-size", "32")
        field(page, "synth-iters", "5")
        synthesised = run_and_download(page, "synth", downloads)
        page.screenshot(path=tmp_path / "app_synth.png", full_page=True)

        page.get_by_role("tab", name="Fill").click()
        page.set_input_files("#fill-image input[type=file]", source)
        page.locator("#fill-editor canvas").first.wait_for()
        # The upload sets the editor's picture by a round trip to the server; a stroke
        # painted before it lands is wiped by it, so let it land first.
        page.wait_for_load_state("networkidle")
        time.sleep(3)
        filled = painted_fill(page, downloads)
        page.screenshot(path=tmp_path / "app_fill.png", full_page=True)

        page.get_by_role("tab", name="Tile").click()
        (tmp_path / "notes.png").write_text("not a picture")
        page.set_input_files("#tile-image input[type=file]", tmp_path / "notes.png")
        page.click("#tile-run")
        page.get_by_text("not an image file").first.wait_for(timeout=30_000)
        browser.close()
        assert folder.is_dir()
    assert not folder.exists()  # uploads and results removed when the app stops
    assert outside == []

    cli = tmp_path / "cli.png"
    made = subprocess.run([TEXSYNTH, "synth", source, "-o", cli, "--size", "32", "--iters", "5",
                           "-q"], capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert synthesised["texture.png"].read_bytes() == cli.read_bytes()
    replayed = tmp_path / "replayed.png"
    again = [TEXSYNTH, "synth", source, "--recipe", synthesised["texture.json"], "-o", replayed]
    made = subprocess.run([*again, "-q"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert replayed.read_bytes() == cli.read_bytes()

    mask = filled["mask.png"]
    hole = np.asarray(Image.open(mask)) > 127
    assert 20 < hole.sum() < hole.size / 2
    cli_fill = tmp_path / "cli_fill.png"
    made = subprocess.run([TEXSYNTH, "fill", source, "--mask", mask, "-o", cli_fill, "-q"],
                          capture_output=True, text=True)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert filled["fill.png"].read_bytes() == cli_fill.read_bytes()
    kept = np.asarray(Image.open(filled["fill.png"]))[~hole]
    assert np.array_equal(kept, np.asarray(Image.open(source))[~hole])
    replay = tmp_path / "replay.png"
    again = [TEXSYNTH, "fill", source, "--mask", mask, "--recipe", filled["fill.json"]]
    made = subprocess.run([*again, "-o", replay, "-q"], capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert replay.read_bytes() == cli_fill.read_bytes()


def test_another_address_only_when_asked_and_never_a_share_link(run_cli) -> None:
    """127.0.0.1 unless --host says otherwise, then with a warning; no option shares."""
    assert "--share" not in run_cli("app", "--help").out
    assert run_cli("app", "--share").code != 0
    with app_running() as (url, _, said):
        assert url.startswith("http://127.0.0.1:") and not said
    with app_running("--host", "0.0.0.0", sigint_ignored=True) as (_, _, said):
        assert any("other machines can reach the app" in line for line in said)


def test_app_without_gradio_is_one_line(run_cli, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "gradio", None)
    result = run_cli("app", "--no-browser")
    assert result.code != 0 and "pip install 'texsynth[app]'" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_bad_output_dir_is_one_line(run_cli, tmp_path) -> None:
    result = run_cli("app", "--no-browser", "--output-dir", tmp_path / "missing")
    assert result.code != 0 and "is not a folder" in result.err


@needs_browser
def test_two_tabs_at_once_both_get_their_own_result(tmp_path: Path) -> None:
    """Two tabs run at the same time: one job runs, the other waits in the queue, and
    each tab gets the image of its own seed."""
    from playwright.sync_api import sync_playwright

    source = texture_png(tmp_path / "texture.png")
    got = {}
    with app_running() as (url, _, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        pages = {}
        for seed in ("1", "2"):
            page = browser.new_page(viewport={"width": 1200, "height": 1600}, accept_downloads=True)
            page.goto(url)
            page.set_input_files("#synth-sources input[type=file]", source)
            field(page, "synth-size", "32")
            field(page, "synth-iters", "5")
            field(page, "synth-seed", seed)
            pages[seed] = page
        for page in pages.values():
            page.click("#synth-run")
        for seed, page in pages.items():
            folder = tmp_path / f"seed{seed}"
            folder.mkdir()
            links = page.locator("#synth-files a")
            links.first.wait_for(timeout=180_000)
            with page.expect_download() as download:
                links.first.click()
            got[seed] = folder / "texture.png"
            download.value.save_as(got[seed])
        browser.close()
    for seed, path in got.items():
        cli = tmp_path / f"cli{seed}.png"
        args = [TEXSYNTH, "synth", source, "-o", cli, "--size", "32", "--iters", "5"]
        made = subprocess.run([*args, "--seed", seed, "-q"], capture_output=True, text=True)
        assert made.returncode == 0, made.stderr
        assert path.read_bytes() == cli.read_bytes()
    assert got["1"].read_bytes() != got["2"].read_bytes()


@needs_browser
def test_bad_input_and_cancel_are_messages_on_the_page(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    source = texture_png(tmp_path / "texture.png")
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(tmp_path / "small_mask.png")
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(tmp_path / "empty_mask.png")
    with app_running() as (url, folder, _), sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1600})
        page.goto(url)
        page.click("#synth-run")
        page.get_by_text("upload a source image first").first.wait_for(timeout=30_000)
        page.set_input_files("#synth-sources input[type=file]", source)
        field(page, "synth-size", "60000")
        page.click("#synth-run")
        page.get_by_text("is free").first.wait_for(timeout=60_000)  # the memory estimate
        field(page, "synth-size", "128")
        field(page, "synth-iters", "5000")  # minutes
        page.click("#synth-run")
        time.sleep(8)  # under way
        page.click("#synth-cancel")
        time.sleep(2)
        assert page.locator("#synth-files a").count() == 0
        # The cancelled run has stopped: a small one, queued behind it, is done at once.
        field(page, "synth-size", "32")
        field(page, "synth-iters", "5")
        page.click("#synth-run")
        page.locator("#synth-files a").first.wait_for(timeout=60_000)

        for mask, told in (("small_mask.png", "same size"), ("empty_mask.png", "empty")):
            page.goto(url)  # a fresh page: the upload boxes empty again
            page.get_by_role("tab", name="Fill").click()
            page.set_input_files("#fill-image input[type=file]", source)
            page.set_input_files("#fill-mask input[type=file]", tmp_path / mask)
            page.click("#fill-run")
            page.get_by_text(told).first.wait_for(timeout=30_000)
        browser.close()
        assert len(list((folder / "results").glob("*/*.png"))) == 1  # the small run's


def test_the_server_reaches_nothing_outside_the_machine(monkeypatch, tmp_path) -> None:
    """No analytics, no version check, no share tunnel: while the app starts, serves its
    page and stops, nothing connects to (or looks up) another machine."""
    import urllib.request

    from texsynth.app import start, stop

    local = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
    outside: list = []
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self, address):
        if isinstance(address, tuple) and address[0] not in local:
            outside.append(address)
        return real_connect(self, address)

    def lookup(host, *args, **kwargs):
        if host not in local and host is not None:
            outside.append(host)
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    running = start(port=free_port(), output_dir=tmp_path)
    try:
        page = urllib.request.urlopen(running.url, timeout=30).read().decode()
        assert "texsynth" in page and "fonts.googleapis" not in page
        time.sleep(3)  # a background thread would have called out by now
    finally:
        stop(running)
    assert outside == [] and not running.folder.exists()


def test_results_go_to_the_output_dir_never_over_a_file(tmp_path) -> None:
    import torch

    from texsynth.app.jobs import Jobs

    class Made:
        image = torch.rand(3, 8, 8)

        def record(self) -> dict:
            return {"texsynth_version": "test"}

    output = tmp_path / "out"
    output.mkdir()
    (output / "fill.png").write_bytes(b"mine")
    jobs = Jobs(tmp_path / "results", output)
    first, second = jobs.keep(Made(), "fill"), jobs.keep(Made(), "fill")
    assert (output / "fill.png").read_bytes() == b"mine"  # the user's file, untouched
    assert (output / "fill-1.png").is_file() and (output / "fill-1.json").is_file()
    assert (output / "fill-2.png").is_file() and first[0].parent != second[0].parent


def test_a_port_in_use_is_one_line(run_cli, tmp_path) -> None:
    import tempfile

    before = set(Path(tempfile.gettempdir()).glob("texsynth-app-*"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("app", "--no-browser", "--port", port)
    assert result.code != 0 and f"cannot listen on 127.0.0.1:{port}" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert set(Path(tempfile.gettempdir()).glob("texsynth-app-*")) == before


def test_the_controls_come_from_the_declarations() -> None:
    """Label, help, choices and each preset's value, as the command line's help has them."""
    import gradio as gr

    from texsynth.app.controls import controls, given
    from texsynth.core.errors import TexsynthError
    from texsynth.core.recipe import Recipe
    from texsynth.core.registry import LOSSES

    with gr.Blocks():
        made = controls(Recipe, ("loss", "iters", "tileable"), "t")
    assert made["loss"].label == "loss" and made["loss"].elem_id == "t-loss"
    assert [c[0] for c in made["loss"].choices] == list(LOSSES.names())
    assert "presets: default tiled-gram" in made["loss"].info
    assert isinstance(made["tileable"], gr.Checkbox)
    values = {made["loss"]: "swd", made["iters"]: " 40 ", made["tileable"]: False}
    assert given(Recipe, made, values) == {"loss": "swd", "iters": 40}
    with pytest.raises(TexsynthError, match="iters: 'many' is not a whole number"):
        given(Recipe, made, {made["iters"]: "many"})
