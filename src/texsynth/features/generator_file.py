"""A ``.gen`` file's fields checked before any work: a file users hand texsynth is untrusted.

:func:`checked_payload` takes what ``torch.load(weights_only=True)`` read and refuses, in one
line naming the file and the field, anything texsynth would not itself have written: a
network of another shape, weights of the wrong shape or not finite, a recipe or training
settings that do not parse, a source image of the wrong kind or size, training state of
the wrong types. What passes can be sampled, refined and resumed without a traceback, a
hang or an unbounded allocation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..core.errors import TexsynthError
from ..core.provenance import is_sha256
from ..core.recipe import Recipe, fields_from
from ..core.training import Training

# The largest source side a .gen file may hold (texsynth trains on sources it can analyse).
MAX_SOURCE_SIDE = 16_384
# The most losses a training history may list (one per step).
MAX_HISTORY = 10_000_000
PAYLOAD_KEYS = {"format", "version", "shape", "weights", "recipe", "source", "training"}
TRAINING_KEYS = {"settings", "step", "seconds", "losses", "optimizer"}


class _Bad(Exception):
    """A field that does not fit: its name and what is wrong."""


def checked_payload(
    payload: dict[str, Any],
    where: Path,
    network_of: Callable[..., torch.nn.Module],
    shapes: dict[str, tuple[int, ...]],
) -> dict[str, Any]:
    """``payload`` with its weights as float32, once every field is checked: ``network_of``
    builds the network its ``shape`` names, each of whose ``shapes`` keys must take one of
    the values listed (those texsynth trains)."""
    try:
        _keys(payload, PAYLOAD_KEYS, "the file")
        network = _network(payload["shape"], network_of, shapes)
        weights = _weights(payload["weights"], network)
        _recipe(payload["recipe"])
        _source(payload["source"], network.channels)
        _training(payload["training"], network)
    except _Bad as exc:
        raise TexsynthError(f"{where}: not a usable generator file ({exc})") from None
    return payload | {"weights": weights}


def _keys(section: Any, known: set[str], name: str) -> None:
    if not isinstance(section, dict):
        raise _Bad(f"{name} is a {type(section).__name__}, not a mapping")
    if set(section) != known:
        odd = sorted(map(str, set(section) ^ known))
        raise _Bad(f"{name} has unknown or missing fields: {', '.join(odd)}")


def _network(
    shape: Any, network_of: Callable[..., torch.nn.Module], shapes: dict[str, tuple[int, ...]]
) -> torch.nn.Module:
    """The network the file's shape describes: only one that texsynth trains."""
    _keys(shape, set(shapes), "shape")
    for key, allowed in shapes.items():
        value = shape[key]
        if type(value) is not int or value not in allowed:
            raise _Bad(f"shape.{key} is {value!r}; texsynth's generators have {allowed}")
    return network_of(**shape)


def _weights(weights: Any, network: torch.nn.Module) -> dict[str, torch.Tensor]:
    expected = network.state_dict()
    _keys(weights, set(expected), "weights")
    out = {}
    for key, want in expected.items():
        value = weights[key]
        if not isinstance(value, torch.Tensor) or not value.is_floating_point():
            raise _Bad(f"weights.{key} is not a tensor of real numbers")
        if value.shape != want.shape:
            raise _Bad(f"weights.{key} has shape {list(value.shape)}, not {list(want.shape)}")
        if not torch.isfinite(value).all():
            raise _Bad(f"weights.{key} holds values that are not finite")
        out[key] = value.float()
    lower, upper = out["lower"], out["upper"]
    if (lower < 0).any() or (upper > 1).any() or (lower > upper).any():
        raise _Bad("the pixel bounds (weights.lower, weights.upper) are not within [0, 1]")
    return out


def _recipe(recipe: Any) -> None:
    if not isinstance(recipe, dict):
        raise _Bad("recipe is not a mapping")
    try:
        Recipe(**fields_from(Recipe, recipe, "recipe"))
    except (TexsynthError, TypeError, ValueError) as exc:
        raise _Bad(str(exc)) from None


def _source(source: Any, channels: int) -> None:
    _keys(source, {"pixels", "name", "sha256"}, "source")
    pixels = source["pixels"]
    if not isinstance(pixels, torch.Tensor) or pixels.dtype != torch.uint8 or pixels.dim() != 3:
        raise _Bad("source.pixels is not a (C, H, W) tensor of 8-bit pixels")
    c, h, w = pixels.shape
    if c != channels or not (1 <= h <= MAX_SOURCE_SIDE and 1 <= w <= MAX_SOURCE_SIDE):
        raise _Bad(f"source.pixels is {c}x{h}x{w}; want {channels} channels, sides 1-16384")
    name = source["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > 4096:
        raise _Bad("source.name is not a file name")
    if not is_sha256(source["sha256"]):
        raise _Bad("source.sha256 is not 64 hexadecimal digits")


def _training(training: Any, network: torch.nn.Module) -> None:
    _keys(training, TRAINING_KEYS, "training")
    try:
        Training(**fields_from(Training, _mapping(training["settings"], "settings"), "settings"))
    except TexsynthError as exc:
        raise _Bad(f"training {exc}") from None
    step, seconds, losses = training["step"], training["seconds"], training["losses"]
    if type(step) is not int or step < 0:
        raise _Bad(f"training.step is {step!r}, not a whole number >= 0")
    if not _real(seconds) or seconds < 0:
        raise _Bad(f"training.seconds is {seconds!r}, not a number of seconds")
    if not isinstance(losses, list) or len(losses) > MAX_HISTORY:
        raise _Bad("training.losses is not a list of losses")
    if not all(_real(v) for v in losses):
        raise _Bad("training.losses holds values that are not finite numbers")
    _optimizer(training["optimizer"], network)


def _optimizer(state: Any, network: torch.nn.Module) -> None:
    """Adam's state as ``state_dict()`` gives it (or none): a state per parameter, of its
    shape, and one parameter group of the network's parameters."""
    if state == {}:
        return
    _keys(state, {"state", "param_groups"}, "training.optimizer")
    shapes = [p.shape for p in network.parameters()]
    groups = state["param_groups"]
    if not (isinstance(groups, list) and len(groups) == 1 and isinstance(groups[0], dict)):
        raise _Bad("training.optimizer.param_groups is not one group")
    if groups[0].get("params") != list(range(len(shapes))):
        raise _Bad("training.optimizer.param_groups does not list the network's parameters")
    per_parameter = _mapping(state["state"], "training.optimizer.state")
    for index, entry in per_parameter.items():
        if type(index) is not int or not 0 <= index < len(shapes):
            raise _Bad(f"training.optimizer.state has an unknown parameter {index!r}")
        for key in ("exp_avg", "exp_avg_sq"):
            value = _mapping(entry, "training.optimizer.state").get(key)
            if not isinstance(value, torch.Tensor) or value.shape != shapes[index]:
                raise _Bad(f"training.optimizer.state[{index}].{key} has the wrong shape")
            if not torch.isfinite(value).all():
                raise _Bad(f"training.optimizer.state[{index}].{key} is not finite")


def _mapping(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise _Bad(f"{name} is not a mapping")
    return value


def _real(value: Any) -> bool:
    return type(value) in (int, float) and math.isfinite(value)


__all__ = ["checked_payload"]
