"""Devices, and whether a synthesis fits in the memory they have free."""

from __future__ import annotations

import os

import torch

from .errors import SizeError, TexsynthError

# The devices texsynth is built and tested for; torch knows others (mps, meta, xla …) on
# which some operation fails deep inside a run.
DEVICE_TYPES = ("cpu", "cuda")


def resolve_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device, refused before any work unless texsynth can run on it;
    ``"auto"`` is the GPU where torch sees one, else the CPU."""
    if str(device) == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise TexsynthError(f"unknown device {device!r}; use auto, cpu or cuda") from None
    if dev.type not in DEVICE_TYPES:
        raise TexsynthError(f"texsynth does not run on device {device!r}; use auto, cpu or cuda")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise TexsynthError("device cuda requested, but no CUDA GPU is available to torch")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise TexsynthError(
            f"device cuda:{dev.index} requested, but torch sees {torch.cuda.device_count()} GPU(s)"
        )
    return dev


def available_memory_bytes(device: torch.device) -> int:
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    # MemAvailable counts reclaimable page cache, which free-page counts miss.
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 62


def check_memory(
    need: int, width: int, height: int, device: torch.device, force: bool, what: str = "synthesis"
) -> None:
    """Refuse (unless ``force``) work whose estimated ``need`` exceeds what is free."""
    have = available_memory_bytes(device)
    if need > 0.9 * have and not force:
        raise SizeError(
            f"a {width}x{height} {what} needs about {need / 2**30:.1f} GiB, but only "
            f"{have / 2**30:.1f} GiB is free on {device}; choose a smaller size or pass --force"
        )
