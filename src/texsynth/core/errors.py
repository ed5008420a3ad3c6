"""Errors that texsynth reports to users as one clear line.

Anything raised as a :class:`TexsynthError` is a problem with the user's input or
environment (a missing file, wrong weights, an absurd size), not a bug; the CLI prints
its message and exits non-zero without a traceback.
"""

from __future__ import annotations


class TexsynthError(Exception):
    """Base class for all errors caused by input or environment."""


class WeightsError(TexsynthError):
    """Network weights are missing, corrupted or in an unknown layout."""


class ImageError(TexsynthError):
    """An image could not be read, or is unsuitable for the requested operation."""


class SizeError(TexsynthError):
    """A requested size is too small for the network or too large for memory."""


class OutputError(TexsynthError):
    """An output path cannot be written (missing directory, file exists)."""


def out_of_memory(exc: BaseException) -> bool:
    """Whether torch's allocator (CPU or GPU) or Python refused an allocation."""
    text = str(exc)
    return isinstance(exc, MemoryError) or (
        isinstance(exc, RuntimeError)
        and ("can't allocate memory" in text or "out of memory" in text.lower())
    )


OUT_OF_MEMORY = "out of memory; choose a smaller size or source"
