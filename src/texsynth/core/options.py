"""Options declared once: each knows its help, its parser and its choices.

A dataclass field declared with :func:`declare` carries an :class:`OptionSpec` in its
metadata. The command line (``texsynth.cli.options``), manifests (``texsynth.batch``), the
sidecar reader (``texsynth.core.recipe``) and the Python API all read values through that one
parser, so a value means the same wherever it is written.

Parsers take text (command line, CSV) or typed values (YAML, JSON, Python) and return the
field's value, or raise ``ValueError`` with a message that names the value. Sizes are written
as ImageMagick writes them: ``160x96`` is 160 wide and 96 high; one number is a square.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

Parser = Callable[[Any], Any]
Choices = Sequence[str] | Callable[[], Sequence[str]]

SIZE_HELP = "WIDTHxHEIGHT (e.g. 160x96) or one number for a square"
# The largest side of any image texsynth makes (PNG and PIL hold larger, memory does not).
MAX_SIDE = 65_536


# ----------------------------------------------------------------------------- parsers ----
def whole_number(minimum: int = 0, maximum: int | None = None) -> Parser:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not re.fullmatch(r"\s*-?\d+\s*", str(value)):
            raise ValueError(f"{value!r} is not a whole number")
        number = int(value)
        if number < minimum:
            raise ValueError(f"{number} is below {minimum}")
        if maximum is not None and number > maximum:
            raise ValueError(f"{number} is above {maximum:,}, the largest allowed")
        return number

    parse.metavar = "N"  # type: ignore[attr-defined]
    return parse


def real_number(minimum: float = 0.0) -> Parser:
    def parse(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{value!r} is not a number") from None
        if isinstance(value, bool) or not number >= minimum or number == float("inf"):
            raise ValueError(f"{value!r} is not a finite number >= {minimum:g}")
        return number

    parse.metavar = "X"  # type: ignore[attr-defined]
    return parse


def positive_number(value: Any) -> float:
    """A finite number > 0."""
    try:
        number = real_number(float("-inf"))(value)
    except ValueError:
        number = float("nan")
    if not number > 0:
        raise ValueError(f"{value!r} is not a finite number > 0")
    return number


positive_number.metavar = "X"  # type: ignore[attr-defined]


def fraction(value: Any) -> float:
    """A number from 0 to 1."""
    number = real_number(0.0)(value)
    if number > 1:
        raise ValueError(f"{value!r} is not a number from 0 to 1")
    return number


fraction.metavar = "T"  # type: ignore[attr-defined]


def boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y", "on"):
        return True
    if text in ("0", "false", "no", "n", "off", ""):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _items(value: Any, separator: str) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(separator)
    return [str(v).strip() for v in items if str(v).strip()]


def name_list(value: Any) -> tuple[str, ...]:
    """``"conv1_1, pool1"`` or a list → ``("conv1_1", "pool1")``."""
    names = tuple(_items(value, ","))
    if not names:
        raise ValueError("no names given")
    return names


def number_list(value: Any) -> tuple[float, ...]:
    """``"1,1,2"`` or a list → ``(1.0, 1.0, 2.0)``, each finite and >= 0."""
    items = value if isinstance(value, (list, tuple)) else _items(value, ",")
    try:
        numbers = tuple(real_number()(v) for v in items)
    except ValueError:
        raise ValueError(f"{value!r} is not a comma-separated list of numbers >= 0") from None
    if not numbers:
        raise ValueError("no numbers given")
    return numbers


def whole_number_list(value: Any, minimum: int = 1) -> tuple[int, ...]:
    """``"1000,10_000"`` or a list → ``(1000, 10000)``, each >= ``minimum``."""
    items = value if isinstance(value, (list, tuple)) else _items(value, ",")
    try:
        numbers = tuple(whole_number(minimum)(str(v).replace("_", "")) for v in items)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a comma-separated list of numbers >= {minimum}"
        ) from None
    if not numbers:
        raise ValueError("no numbers given")
    return numbers


def path_list(value: Any) -> tuple[str, ...]:
    """One path, a list, or paths separated by ``;`` (a CSV cell) → a tuple of paths."""
    paths = tuple(_items(value, ";"))
    if not paths:
        raise ValueError("no path given")
    return paths


def map_list(value: Any) -> tuple[str, ...]:
    """Paths separated by ``,`` (the command line) or ``;`` (a CSV cell), or a list."""
    if isinstance(value, (list, tuple)):
        paths = tuple(_items(value, ","))
    else:
        paths = tuple(p for part in _items(value, ";") for p in _items(part, ","))
    if not paths:
        raise ValueError("no path given")
    return paths


def path_text(value: Any) -> str:
    text = str(value).strip()
    if not text:
        raise ValueError("empty path")
    return text


def scales_or_auto(value: Any) -> int | str:
    """``"auto"`` or a whole number >= 1."""
    if str(value).strip() == "auto":
        return "auto"
    try:
        return whole_number(1)(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number >= 1 or 'auto'") from None


def image_size(value: Any) -> tuple[int, int]:
    """``"160x96"`` → (160, 96); ``"128"`` or 128 → (128, 128); a pair as given."""
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = str(value).strip().lower().replace("×", "x").split("x")
    try:
        values = [whole_number(1)(p) for p in parts]
    except ValueError:
        raise ValueError(f"{value!r} is not {SIZE_HELP}") from None
    if max(values, default=0) > MAX_SIDE:
        raise ValueError(f"{value!r} has a side above {MAX_SIDE:,} px, the largest allowed")
    if len(values) == 1:
        values = values * 2
    if len(values) != 2:
        raise ValueError(f"{value!r} is not {SIZE_HELP}")
    return values[0], values[1]


def choice(choices: Choices) -> Parser:
    """One of ``choices`` (a list, or a function returning it: a registry's names)."""

    def parse(value: Any) -> str:
        known = tuple(choices() if callable(choices) else choices)
        if str(value) not in known:
            raise ValueError(f"unknown value {value!r}; choose one of: {', '.join(known)}")
        return str(value)

    parse.choices = choices  # type: ignore[attr-defined]
    return parse


def optional(parser: Parser) -> Parser:
    """``None``, empty text or ``"none"`` → None; anything else through ``parser``."""

    def parse(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
            return None
        return parser(value)

    parse.choices = getattr(parser, "choices", None)  # type: ignore[attr-defined]
    parse.metavar = getattr(parser, "metavar", None)  # type: ignore[attr-defined]
    parse.inner = parser  # type: ignore[attr-defined]
    return parse


name_list.metavar = "NAME,…"  # type: ignore[attr-defined]
number_list.metavar = "W,…"  # type: ignore[attr-defined]
path_list.metavar = "PATH;…"  # type: ignore[attr-defined]
path_text.metavar = "PATH"  # type: ignore[attr-defined]
whole_number_list.metavar = "N,…"  # type: ignore[attr-defined]
scales_or_auto.metavar = "K|auto"  # type: ignore[attr-defined]
image_size.metavar = "WxH"  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ declarations ----
@dataclass(frozen=True)
class OptionSpec:
    """How one option is written, read and explained."""

    help: str
    parse: Parser
    flag: str | None = None  # the command-line flag, when it is not --FIELD-NAME
    metavar: str | None = None  # default: the parser's (N, X, WxH, …)
    repeat: bool = False  # given once per value on the command line (--source a --source b)
    scope: tuple[str, ...] = ()  # where the option applies (a figure's name); () everywhere

    @property
    def value_name(self) -> str | None:
        return self.metavar or getattr(self.parse, "metavar", None)

    @property
    def choices(self) -> tuple[str, ...] | None:
        choices = getattr(self.parse, "choices", None)
        if choices is None:
            return None
        return tuple(choices() if callable(choices) else choices)

    @property
    def is_optional(self) -> bool:
        """The option may be none (its parser is wrapped in :func:`optional`)."""
        return hasattr(self.parse, "inner")

    @property
    def is_flag(self) -> bool:
        """A yes/no option (``--x/--no-x`` on the command line)."""
        return getattr(self.parse, "inner", self.parse) is boolean


def declare(
    default: Any,
    help: str,
    parse: Parser,
    flag: str | None = None,
    metavar: str | None = None,
    repeat: bool = False,
    scope: tuple[str, ...] = (),
) -> Any:
    """A dataclass field that is also an option (see :class:`OptionSpec`)."""
    spec = OptionSpec(help, parse, flag, metavar, repeat, scope)
    return dataclasses.field(default=default, metadata={"option": spec})


def declared(cls: type) -> Iterator[tuple[str, OptionSpec]]:
    """The declared options of a dataclass, in field order."""
    for f in dataclasses.fields(cls):
        spec = f.metadata.get("option")
        if spec is not None:
            yield f.name, spec


def flag_of(name: str, spec: OptionSpec) -> str:
    return spec.flag or "--" + name.replace("_", "-")


def aliases(name: str, spec: OptionSpec) -> tuple[str, ...]:
    """Names a manifest or recipe file may use for the option: the field's, and its flag's."""
    from_flag = flag_of(name, spec).removeprefix("--").replace("-", "_")
    return (name,) if from_flag == name else (name, from_flag)


def parse_values(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """Parse ``values`` (keyed by field name) through each option's parser.

    Raises ``ValueError("FIELD: message")`` for the first bad value or unknown name.
    """
    specs = dict(declared(cls))
    out = {}
    for name, value in values.items():
        if name not in specs:
            raise ValueError(f"unknown option {name!r}; known: {', '.join(specs)}")
        try:
            out[name] = specs[name].parse(value)
        except ValueError as exc:
            raise ValueError(f"{name}: {exc}") from None
    return out


def parse_fields(obj: Any) -> None:
    """Parse every declared field of the frozen dataclass ``obj`` in place (its
    ``__post_init__``); raises ``ValueError("FIELD: message")`` for the first bad one."""
    for name, value in parse_values(
        type(obj), {n: getattr(obj, n) for n, _ in declared(type(obj))}
    ).items():
        object.__setattr__(obj, name, value)
