"""What can be chosen by name: networks, losses, structure terms, optimisers, precisions, …

Each registry maps a name to the function that builds the thing. Entries name their target
as ``"module:attribute"`` and import it on first use, so listing the choices (``--help``,
manifest checks) needs no torch. The CLI's choices are a registry's keys, and a new network,
loss or optimiser is one entry here plus its code:

    LOSSES.register("mine", "mypackage.losses:my_loss", "my loss, for …")
    LOSSES.register("mine", my_loss, "…")   # or the object itself

What each kind of entry builds:

- ``NETWORKS[name](layers, layer_weights, pool, weights, device, verify)`` → a
  :class:`~texsynth.statistics.model.TextureModel` (``layers=None``: the network's own);
- ``LOSSES[name](target)`` and ``STRUCTURES[name](target)`` → a
  :class:`~texsynth.losses.terms.Loss` for an :class:`~texsynth.losses.objective.LossContext`;
- ``OPTIMIZERS[name]()`` → an object with :meth:`~texsynth.optimize.lbfgs.TorchLBFGS.minimize`.

This module imports nothing else from texsynth: everything may import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import TexsynthError

# The paper's texture model: conv1_1 and the four pooling layers of VGG-19.
DEFAULT_LAYERS: tuple[str, ...] = ("conv1_1", "pool1", "pool2", "pool3", "pool4")
# Numeric precision of a network's convolutions (Gram matrices always accumulate in float32).
PRECISIONS: tuple[str, ...] = ("float32", "bfloat16")
# Pooling in a VGG: average (Gatys et al.) or max (the original network).
POOLS: tuple[str, ...] = ("avg", "max")
# Whether a recipe adds a structure term: always, never, or when the source has a lattice.
STRUCTURE_MODES: tuple[str, ...] = ("auto", "on", "off")
# Which scales of a coarse-to-fine synthesis carry it.
STRUCTURE_SCALES: tuple[str, ...] = ("all", "coarse")
# Scales that carry the pixel-histogram term: the full size only, or every scale.
HISTOGRAM_SCALES: tuple[str, ...] = ("fine", "all")
# How a structure weight is read: its share of the loss at the start, or a coefficient.
STRUCTURE_WEIGHTINGS: tuple[str, ...] = ("calibrated", "fixed")
# The optimiser's start: white noise, or a trained generator's sample.
STARTS: tuple[str, ...] = ("noise", "generator")
# Where batch jobs run: this process or a process pool, a Dask cluster, a local Dask cluster.
ENGINES: tuple[str, ...] = ("local", "dask", "dask-local")


def resolve(target: str | Callable[..., Any]) -> Callable[..., Any]:
    """The object ``"module:attribute"`` names, imported now (or ``target`` itself)."""
    if not isinstance(target, str):
        return target
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class Entry:
    target: str | Callable[..., Any]  # "module:attribute", or the object itself
    summary: str  # one line for --help


class Registry:
    """Names → builders, resolved on first use."""

    def __init__(self, kind: str, entries: dict[str, Entry]) -> None:
        self.kind = kind
        self._entries = dict(entries)
        self._resolved: dict[str, Callable[..., Any]] = {}

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def summary(self, name: str) -> str:
        return self._entries[name].summary

    def register(self, name: str, target: str | Callable[..., Any], summary: str) -> None:
        """Add (or replace) an entry; replacing drops the cached import."""
        self._entries[name] = Entry(target, summary)
        self._resolved.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __getitem__(self, name: str) -> Callable[..., Any]:
        if name not in self._entries:
            raise TexsynthError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}"
            )
        if name not in self._resolved:
            self._resolved[name] = resolve(self._entries[name].target)
        return self._resolved[name]


NETWORKS = Registry(
    "network",
    {
        "vgg19": Entry(
            "texsynth.statistics.model_builders:normalised_vgg19",
            "the paper's: VGG-19 trained on ImageNet, normalised by Gatys et al.",
        ),
        "vgg19-original": Entry(
            "texsynth.statistics.model_builders:original_vgg19",
            "VGG-19 as Simonyan & Zisserman trained it, unnormalised (use with --pool max)",
        ),
        "vgg16-hed": Entry(
            "texsynth.statistics.model_builders:hed_vgg16",
            "the VGG-16 of HED (Xie & Tu 2015), fine-tuned for edge detection",
        ),
        "vgg19-random": Entry(
            "texsynth.statistics.model_builders:random_vgg19",
            "VGG-19 with random weights (seed 0), normalised like the paper's (Fig. 3C)",
        ),
        "efficientnet-lite0": Entry(
            "texsynth.statistics.model_builders:efficientnet_lite0",
            "EfficientNet-Lite0 trained on ImageNet (Tan & Le 2019), at the ends of its stages",
        ),
        "multiscale": Entry(
            "texsynth.statistics.model_builders:random_multiscale",
            "one layer of random filters of 8 sizes (Ustyuzhaninov et al. 2017)",
        ),
    },
)

LOSSES = Registry(
    "loss",
    {
        "gram": Entry(
            "texsynth.losses.objective:gram", "Gram matrices, the paper's (guided with --guide)"
        ),
        "swd": Entry(
            "texsynth.losses.objective:swd",
            "sliced Wasserstein distance of the feature distributions (Heitz et al. 2021)",
        ),
        "gram+swd": Entry("texsynth.losses.objective:gram_and_swd", "both, with equal weights"),
        "tiled-gram": Entry(
            "texsynth.losses.objective:tiled_gram",
            "Gram matrices on every source-sized tile of the output (large outputs)",
        ),
    },
)

STRUCTURES = Registry(
    "structure term",
    {
        "spectrum": Entry(
            "texsynth.losses.objective:spectrum_constraint",
            "the source's Fourier spectrum (Liu, Gousseau & Xia 2016)",
        ),
        "shifted-gram": Entry(
            "texsynth.losses.objective:shifted_gram_matrices",
            "Gram matrices of features against their shifts by the lattice vectors "
            "(Berger & Memisevic 2017)",
        ),
        "autocorrelation": Entry(
            "texsynth.losses.objective:feature_autocorrelation",
            "each feature map's autocorrelation (Gonthier, Gousseau & Ladjal 2022)",
        ),
    },
)

OPTIMIZERS = Registry(
    "optimizer",
    {
        "torch-lbfgs": Entry(
            "texsynth.optimize.lbfgs:TorchLBFGS", "projected L-BFGS in torch, on the pixels' device"
        ),
        "scipy-lbfgsb": Entry(
            "texsynth.optimize.lbfgs:ScipyLBFGSB", "SciPy's L-BFGS-B, the authors' optimiser"
        ),
    },
)
