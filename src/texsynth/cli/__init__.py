"""Command-line interface: ``texsynth synth | fill | extend | tile | batch | report | …``.

A thin layer over the Python API, one module per command; the options they share, and
those generated from the recipe's declarations, are in :mod:`texsynth.cli.options`.
Problems with input or environment end in one line on stderr and a non-zero exit status,
never a traceback, and never a half-written file.
"""

from __future__ import annotations

import os
import signal
import sys
import warnings

import click

from .. import __version__
from ..core.errors import OUT_OF_MEMORY, TexsynthError, out_of_memory
from ..core.kinds import KINDS
from .analyze import analyze
from .app import app
from .batch import EXIT_ERROR, batch
from .equalize import equalize
from .evaluate import evaluate
from .figure import figure
from .info import info
from .report import report
from .runs import run_command
from .sample import sample
from .synth import synth
from .train import train
from .weights import weights


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="texsynth")
def cli() -> None:
    """Texture synthesis with convolutional neural networks (Gatys, Ecker & Bethge 2015)."""


# The commands of every kind of run that declares some (fill, extend, tile, metamer,
# control, …) come from its declaration (texsynth.core.kinds), after synth.
MADE = tuple(run_command(kind, c) for kind in KINDS.values() for c in kind.commands)
COMMANDS = (synth, *MADE, equalize, train, sample, batch, report, app, analyze, evaluate,
            figure, info, weights)  # fmt: skip
for command in COMMANDS:
    cli.add_command(command)


def _one_line_warnings() -> None:
    def show(message, category, filename, lineno, file=None, line=None):
        click.echo(f"texsynth: warning: {' '.join(str(message).split())}", err=True)

    warnings.showwarning = show


class Terminated(BaseException):
    """SIGTERM, raised so that the way out removes temporary files as Ctrl-C does."""


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def main() -> None:
    """Entry point: run the CLI, turning input errors into one line and an exit status."""
    _one_line_warnings()
    signal.signal(signal.SIGTERM, _terminated)
    try:
        status = cli.main(standalone_mode=False, prog_name="texsynth")
    except click.exceptions.Abort:
        click.echo("texsynth: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"texsynth: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except TexsynthError as exc:
        click.echo(f"texsynth: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except KeyboardInterrupt:
        click.echo("texsynth: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        click.echo("texsynth: terminated", err=True)
        sys.exit(143)
    except (MemoryError, RuntimeError) as exc:
        if not out_of_memory(exc):
            raise
        forced = " (or drop --force)" if "--force" in sys.argv else ""
        click.echo(f"texsynth: error: {OUT_OF_MEMORY}{forced}", err=True)
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        os._exit(EXIT_ERROR)
    sys.exit(status if isinstance(status, int) else 0)
