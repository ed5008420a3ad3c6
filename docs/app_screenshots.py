"""Make docs/images/app_*.png: each tab of ``texsynth app`` after a small run, in headless
Chromium (Debian's), so that docs/app.md shows the page as it is.

    .venv/bin/python docs/app_screenshots.py
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright
from skimage import data

IMAGES = Path(__file__).resolve().parent / "images"
TEXSYNTH = str(Path(sys.executable).with_name("texsynth"))


def inputs(folder: Path) -> dict[str, Path]:
    from PIL import Image

    made = {
        "photo": Image.fromarray(data.coffee()).resize((150, 100)),
        "bricks": Image.fromarray(data.brick()).resize((96, 96)).convert("RGB"),
        "grass": Image.fromarray(data.grass()).resize((96, 96)).convert("RGB"),
        "cells": Image.fromarray(data.immunohistochemistry()[:128, :128]),
    }
    paths = {}
    for name, image in made.items():
        paths[name] = folder / f"{name}.png"
        image.save(paths[name])
    return paths


def fill_box(page, elem_id: str, value: str) -> None:
    page.locator(f"#{elem_id} textarea, #{elem_id} input").first.fill(value)


def run(page, tab: str) -> None:
    page.click(f"#{tab}-run")
    page.locator(f"#{tab}-files a").first.wait_for(timeout=600_000)
    time.sleep(1)


def shot(page, name: str) -> None:
    page.screenshot(path=IMAGES / f"app_{name}.png", full_page=True)
    print(f"wrote docs/images/app_{name}.png")


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    paths = inputs(folder)
    port = "7931"
    app = subprocess.Popen(
        [TEXSYNTH, "app", "--no-browser", "--port", port], stderr=subprocess.PIPE, text=True
    )
    for line in app.stderr:  # type: ignore[union-attr]
        if re.search(r"http://\S+", line):
            break
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/")
            page.set_input_files("#synth-sources input[type=file]", paths["cells"])
            fill_box(page, "synth-size", "128")
            run(page, "synth")
            shot(page, "synth")

            page.get_by_role("tab", name="Fill").click()
            page.set_input_files("#fill-image input[type=file]", paths["photo"])
            time.sleep(2)
            page.locator("#fill-editor button[aria-label='Brush']").click()
            box = page.locator("#fill-editor canvas").first.bounding_box()
            x, y = box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2 + 40
            page.mouse.move(x, y)
            page.mouse.down()
            for step in range(25):
                page.mouse.move(x + 2 * step, y + step, steps=2)
                time.sleep(0.03)
            page.mouse.up()
            run(page, "fill")
            shot(page, "fill")

            page.get_by_role("tab", name="Extend").click()
            page.set_input_files("#extend-image input[type=file]", paths["bricks"])
            fill_box(page, "extend-size", "192x128")
            run(page, "extend")
            shot(page, "extend")

            page.get_by_role("tab", name="Tile").click()
            page.set_input_files("#tile-image input[type=file]", paths["grass"])
            run(page, "tile")
            shot(page, "tile")

            page.get_by_role("tab", name="Morph").click()
            page.set_input_files("#morph-a input[type=file]", paths["bricks"])
            page.set_input_files("#morph-b input[type=file]", paths["grass"])
            fill_box(page, "morph-series", "0,0.5,1")
            fill_box(page, "morph-size", "64")
            fill_box(page, "morph-iters", "200")
            run(page, "morph")
            shot(page, "morph")
            browser.close()
    finally:
        app.send_signal(signal.SIGINT)
        app.wait(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
