"""The app's controls, made from the declared fields (``Recipe``, ``Task``, ``Edit`` …) as
the command line's options are: the same labels (the flag's name), help, choices and
defaults, and the values read back through the same parsers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import gradio as gr

from ..core.errors import TexsynthError
from ..core.options import OptionSpec, declared, flag_of

# The recipe options shown on a tab; the others go under "more".
MAIN_RECIPE_FIELDS = ("loss", "structure", "iters", "tileable")


def label_of(name: str, spec: OptionSpec) -> str:
    """The control's label: the command line's flag without its dashes."""
    return flag_of(name, spec).removeprefix("--")


def control(
    name: str, spec: OptionSpec, default: Any = None, elem_id: str | None = None, info: str = ""
) -> Any:
    """One Gradio component for a declared field: a checkbox for a yes/no option, a menu
    for a choice, else a text box read by the field's parser. ``default`` None shows it
    empty, meaning "the preset's value"; ``info`` is added to the field's help."""
    label, info = label_of(name, spec), spec.help + info
    if spec.is_flag:
        return gr.Checkbox(value=bool(default), label=label, info=info, elem_id=elem_id)
    if spec.choices is not None:
        return gr.Dropdown(
            choices=list(spec.choices), value=default, label=label, info=info, elem_id=elem_id
        )
    text = "" if default is None else str(default)
    return gr.Textbox(
        value=text, label=label, info=info, placeholder=spec.value_name or "", elem_id=elem_id
    )


def controls(
    cls: type, names: Iterable[str], prefix: str, defaults: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A component for each of ``names`` among ``cls``'s declared fields, in their order;
    each has the element id ``PREFIX-NAME`` (what the browser tests find)."""
    wanted, defaults = set(names), defaults or {}
    return {
        name: control(
            name,
            spec,
            defaults.get(name),
            f"{prefix}-{name.replace('_', '-')}",
            _presets(cls, name),
        )
        for name, spec in declared(cls)
        if name in wanted
    }


def _presets(cls: type, name: str) -> str:
    """A recipe field's value in each preset, as the command line's help gives it."""
    from ..core.recipe import Recipe, preset_values

    return f"  [{preset_values(name)}]" if cls is Recipe else ""


def given(cls: type, shown: dict[str, Any], data: dict[Any, Any]) -> dict[str, Any]:
    """The fields of ``cls`` the page gives: ``shown`` maps a field to its component, and
    ``data`` a component to its value (Gradio's dict of inputs). Empty boxes, unset menus
    and unticked boxes are left to the preset; each value is read by its declared parser,
    and a bad one is one line naming it."""
    specs = dict(declared(cls))
    out = {}
    for name, component in shown.items():
        value = data.get(component)
        if value is None or value is False or (isinstance(value, str) and not value.strip()):
            continue
        try:
            out[name] = specs[name].parse(value)
        except ValueError as exc:
            raise TexsynthError(f"{label_of(name, specs[name])}: {exc}") from None
    return out
