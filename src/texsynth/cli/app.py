"""``texsynth app``: start the local web app and print its address."""

from __future__ import annotations

import signal
from pathlib import Path

import click

from ..core.errors import TexsynthError
from .options import device_option


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but 127.0.0.1 lets other machines reach "
    "the app (a warning says so).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port (default: the first free one from 7860).",
)
@click.option("--no-browser", is_flag=True, help="Do not open a browser.")
@click.option(
    "--output-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write every result here (never over a file that is there).",
)
@device_option
def app(
    host: str, port: int | None, no_browser: bool, output_dir: Path | None, device: str
) -> None:
    """Start texsynth's web app on this machine: new textures, fill (paint the hole), extend,
    tile and morph, in a browser. It makes no public link and fetches nothing from the
    network; uploads and results live in a temporary folder removed when it stops (Ctrl-C)."""
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise TexsynthError(
            "the app needs Gradio: pip install 'texsynth[app]' (make builds it into .venv)"
        ) from None
    if output_dir is not None and not output_dir.is_dir():
        raise TexsynthError(f"--output-dir {output_dir} is not a folder")
    if host != "127.0.0.1":
        click.echo(
            f"texsynth: warning: listening on {host}: other machines can reach the app "
            "and run jobs on this one",
            err=True,
        )
    from ..app import serve, start

    # Ctrl-C stops the app even where SIGINT was ignored when it started (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    running = start(host, port, output_dir, device, open_browser=not no_browser)
    serve(running, lambda: click.echo(
        f"texsynth app: {running.url}  (Ctrl-C stops it; uploads and results in "
        f"{running.folder} are removed then)", err=True,
    ))  # fmt: skip
