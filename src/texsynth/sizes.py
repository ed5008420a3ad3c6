"""Image sizes as command lines and manifests write them: WIDTHxHEIGHT, or one number for a
square (``160x96`` is 160 wide and 96 high, as ImageMagick writes it)."""

from __future__ import annotations

SIZE_HELP = "WIDTHxHEIGHT (e.g. 160x96) or one number for a square"


def parse_size_text(text: str) -> tuple[int, int]:
    """'160x96' → (160, 96); '128' → (128, 128). Raises ``ValueError`` naming the text."""
    parts = str(text).strip().lower().replace("×", "x").split("x")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not {SIZE_HELP}") from None
    if len(values) == 1:
        values = values * 2
    if len(values) != 2 or min(values) <= 0:
        raise ValueError(f"{text!r} is not {SIZE_HELP}")
    return values[0], values[1]
