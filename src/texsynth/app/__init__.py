"""``texsynth app``: a local web page for people who do not use a terminal (Gradio).

It binds to 127.0.0.1 unless told otherwise, never makes a public share link, and fetches
nothing from the network (no analytics, no fonts or scripts from a CDN). Uploads and
results live in a temporary folder removed when the app stops; results go elsewhere only
to ``--output-dir``, through the same safe-write path as the command line. One job runs
at a time; a second waits in the queue, and the page says so.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.errors import TexsynthError

LOOPBACK = "127.0.0.1"


@dataclass
class Running:
    """A started app: its address, its temporary folder, and the server to close."""

    url: str
    folder: Path
    demo: Any


def start(
    host: str = LOOPBACK,
    port: int | None = None,
    output_dir: Path | None = None,
    device: str = "auto",
    open_browser: bool = False,
) -> Running:
    """Start the app's server in this process (it serves from a thread) and return; its
    temporary folder is removed again if the start fails or is interrupted."""
    import shutil

    folder = Path(tempfile.mkdtemp(prefix="texsynth-app-"))
    try:
        # Gradio reads these when it is imported and when it uploads: set before either.
        os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
        os.environ["GRADIO_TEMP_DIR"] = str(folder / "uploads")
        from .jobs import Jobs
        from .page import THEME, Page

        demo = Page(Jobs(folder / "results", output_dir), device).build()
        demo.queue(default_concurrency_limit=1)
        demo.launch(
            server_name=host, server_port=port, share=False, inbrowser=open_browser,
            prevent_thread_lock=True, show_error=True, quiet=True, ssr_mode=False,
            mcp_server=False, pwa=False, theme=THEME, allowed_paths=[str(folder)],
            enable_monitoring=False, footer_links=[], run_history=False,
        )  # fmt: skip
    except OSError as exc:  # the port is taken, the address is not this machine's, …
        shutil.rmtree(folder, ignore_errors=True)
        where = f"{host}:{port}" if port else host
        raise TexsynthError(f"cannot listen on {where}: {' '.join(str(exc).split())}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return Running(demo.local_url, folder, demo)


def serve(running: Running, announce: Callable[[], None]) -> None:
    """Say where it is (``announce``), serve until Ctrl-C (or SIGTERM), then stop, whenever
    the interruption comes."""
    try:
        announce()
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        stop(running)


def stop(running: Running) -> None:
    """Close the server and remove the temporary folder (uploads and results)."""
    import shutil

    running.demo.close()
    shutil.rmtree(running.folder, ignore_errors=True)


__all__ = ["LOOPBACK", "Running", "serve", "start", "stop"]
