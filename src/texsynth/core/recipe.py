"""What to synthesise (:class:`Task`) and how (:class:`Recipe`), each declared once.

Every field is an option (see :mod:`texsynth.core.options`): the command line of ``synth`` and
``batch``, manifest fields, the JSON sidecar and the Python API all come from these
declarations. A new field here appears everywhere with no further edits.

Presets are recipes; a change to one is :func:`make_recipe` (``dataclasses.replace`` with
every value parsed). A sidecar records the task and the recipe, so :func:`load_run` replays
it. This module needs no torch.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from .errors import TexsynthError
from .options import (
    SIZE_HELP,
    OptionSpec,
    aliases,
    boolean,
    choice,
    declare,
    declared,
    fraction,
    image_size,
    map_list,
    name_list,
    number_list,
    optional,
    parse_fields,
    parse_values,
    path_list,
    path_text,
    positive_number,
    real_number,
    scales_or_auto,
    whole_number,
)
from .registry import (
    DEFAULT_LAYERS,
    HISTOGRAM_SCALES,
    LOSSES,
    NETWORKS,
    OPTIMIZERS,
    POOLS,
    PRECISIONS,
    STARTS,
    STRUCTURE_MODES,
    STRUCTURE_SCALES,
    STRUCTURE_WEIGHTINGS,
    STRUCTURES,
)

# The default stop rule: a scale ends once 10 iterations move the pixels by less than this
# many grey levels on average (chosen in benchmarks/quality.py and benchmarks/large.py).
STOP_CHANGE = 0.5
# SWD's random directions are redrawn every this many iterations, and L-BFGS's memory
# restarts then (benchmarks/swd_schedule.py): redrawn after every iteration, L-BFGS saw
# another function at each step and ended every scale after 11-17 iterations.
REDRAW_EVERY = 25
# Seeds are 64-bit for torch's generators; one below 2^63 leaves room for seed + i.
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Recipe:
    """How a texture is synthesised. The defaults are the ``default`` preset."""

    network: str = declare("vgg19", "Feature network.", choice(NETWORKS.names))
    layers: tuple[str, ...] | None = declare(
        None,
        "Comma-separated layers whose Gram matrices describe the texture (none: the "
        f"network's own; on VGGs {','.join(DEFAULT_LAYERS)}).",
        optional(name_list),
    )
    layer_weights: tuple[float, ...] | None = declare(
        None,
        "Comma-separated w_l, one per layer (none: 1 each).",
        optional(number_list),
        flag="--weights-per-layer",
    )
    pool: str = declare("avg", "Pooling in the network: average (paper) or max.", choice(POOLS))
    source_scale: float = declare(
        1.0,
        "Resample the source by this factor before analysis: 0.5 makes the texture's features "
        "half as large in the output, 2 twice as large.",
        positive_number,
    )
    loss: str = declare(
        "tiled-gram",
        "What is matched. tiled-gram: Gram matrices on every source-sized tile of an output "
        "at least twice the source along a side (else, with a guide, or with several "
        "sources, the paper's gram).",
        choice(LOSSES.names),
    )
    structure: str = declare(
        "auto",
        "Add a long-range structure term: on, off, or auto (on when the source has a lattice).",
        choice(STRUCTURE_MODES),
    )
    structure_loss: str = declare("shifted-gram", "The structure term.", choice(STRUCTURES.names))
    structure_weight: float = declare(
        1.0,
        "Weight of the structure term, relative to the texture term at the start of the run.",
        real_number(0.0),
    )
    structure_weighting: str = declare(
        "calibrated",
        "How --structure-weight is read. calibrated: as the structure term's share of the "
        "loss at the start of the run (the same meaning for every texture); fixed: as a plain "
        "coefficient, in the units of the Gram loss (Liu's and Gonthier's beta = 1e5 is a "
        "spectrum weight of 32.5, docs/sota.md).",
        choice(STRUCTURE_WEIGHTINGS),
    )
    spectrum_weight: float = declare(
        0.0,
        "Weight of a term that imposes the source's Fourier spectrum at every scale (Liu, "
        "Gousseau & Xia 2016), a plain coefficient in the units of the Gram loss: Liu's and "
        "Gonthier's beta = 1e5 is 32.5 (docs/sota.md); 0: none. It needs one source image, and "
        "goes beside the structure term, not instead of it.",
        real_number(0.0),
    )
    histogram_weight: float = declare(
        0.0,
        "Weight of a pixel-histogram term (each channel's sorted pixels against the source's), "
        "relative to the rest of the loss at the start of the run (0: none).",
        real_number(0.0),
    )
    histogram_scales: str = declare(
        "fine",
        "Scales that carry the pixel-histogram term: fine (the full size only, after the "
        "coarse scales have set the structure) or all (docs/sota.md measures both).",
        choice(HISTOGRAM_SCALES),
    )
    structure_scales: str = declare(
        "coarse",
        "Scales that carry the structure term: all, or coarse (every scale but the full size).",
        choice(STRUCTURE_SCALES),
    )
    start: str = declare(
        "noise",
        "The optimiser's start: white noise (the paper), or a sample of the source's "
        "generator (the source is a .gen file of texsynth train; one scale, so a few --iters "
        "refine it, and --iters 0 gives the sample itself).",
        choice(STARTS),
    )
    optimizer: str = declare("torch-lbfgs", "Optimiser of the pixels.", choice(OPTIMIZERS.names))
    iters: int = declare(300, "Maximum iterations at full size.", whole_number(0))
    coarse_iters: int | None = declare(
        100, "Iterations at each coarser scale (none: --iters).", optional(whole_number(0))
    )
    iters_side: int | None = declare(
        512,
        "Outputs larger than this side squared run --iters x side²/area iterations at full "
        "size (never fewer than --coarse-iters): their coarse scales settle the structure; "
        "none: always --iters.",
        optional(whole_number(1)),
    )
    scales: int | str = declare(
        "auto",
        "Coarse-to-fine: start at 1/2^(K-1) of the size, then refine at each finer scale; "
        "auto: as many (up to 4) as keep the coarsest side >= 64 px.",
        scales_or_auto,
    )
    redraw_every: int = declare(
        REDRAW_EVERY,
        "Iterations between redraws of a stochastic loss's random directions (swd); L-BFGS's "
        "memory restarts at each redraw. 1: every iteration; 0: never.",
        whole_number(0),
    )
    stop_change: float = declare(
        STOP_CHANGE,
        "Stop each scale once 10 iterations change the image by less than this many grey "
        "levels (of 255) on average, i.e. no longer visibly; 0: never.",
        real_number(0.0),
    )
    tol: float = declare(
        0.0,
        "Stop when the loss falls by less than this fraction over 10 iterations; 0: never.",
        real_number(0.0),
    )
    precision: str = declare(
        "auto",
        "Convolutions in bfloat16 (Gram matrices stay float32); auto: bfloat16 where the CPU "
        "or GPU runs it natively and the source is an image.",
        choice(("auto", *PRECISIONS)),
    )
    tileable: bool = declare(
        False, "Make the texture wrap around seamlessly (sides: multiples of 16 px).", boolean
    )
    hist_match: bool = declare(
        False, "Match each channel's histogram to the source afterwards.", boolean
    )
    preserve_colors: bool = declare(
        False,
        "Synthesise luminance only; colour each pixel with the source's colour for its brightness.",
        boolean,
    )

    def __post_init__(self) -> None:
        # Parse every value (the API may pass lists, text or numbers), so that a recipe is
        # always valid, hashable and equal to itself written out and read back.
        try:
            parse_fields(self)
        except ValueError as exc:
            raise TexsynthError(f"recipe: {exc}") from None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: tuples become lists."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in _values(self).items()}


PRESETS: dict[str, Recipe] = {
    # Fast: torch L-BFGS, bfloat16 where native, coarse-to-fine, stops when stalled; where
    # the source has a lattice, shifted Gram matrices at the coarse scales keep it
    # (benchmarks/structure.py); outputs twice the source's side or more match each
    # source-sized tile (benchmarks/large.py).
    "default": Recipe(),
    # The authors' recipe, unchanged by any speed or structure work: SciPy L-BFGS-B,
    # float32, one scale from white noise, no early stop, Gram matrices only.
    "paper": Recipe(
        loss="gram",
        structure="off",
        optimizer="scipy-lbfgsb",
        iters=500,
        coarse_iters=None,
        iters_side=None,
        scales=1,
        stop_change=0.0,
        tol=0.0,
        precision="float32",
    ),
    # A quick preview: the default with a third of the iterations.
    "draft": Recipe(iters=100, coarse_iters=40),
    # Ahead of the published state of the art on more measures (docs/sota.md): the source's
    # Fourier spectrum imposed at every scale with Liu's and Gonthier's own weight (beta =
    # 1e5), Gram matrices with the sliced Wasserstein distance of the same features (Heitz
    # et al.), and the pixel histograms at full size; on a lattice the default's shifted
    # Gram matrices at the coarse scales too. One source image, no guide.
    "quality": Recipe(loss="gram+swd", spectrum_weight=32.5, histogram_weight=0.1),
}

PRESET = OptionSpec(
    "Base recipe that the recipe options override: default (fast), paper (the authors' "
    "recipe, as published), draft (a quick preview) or quality (slower, closer to the "
    "source's spectrum and histograms; one source image).",
    choice(lambda: tuple(PRESETS)),
)


# Bits per sample an output may be written with ("auto": the input's).
OUTPUT_DEPTHS = ("auto", "8", "16")


def depth_choice(depth: int | None) -> str:
    """A depth in bits (None: each input's) as the task's ``depth`` field records it."""
    return "auto" if depth is None else str(depth)


def depth_bits(choice: str) -> int | None:
    """The task's ``depth`` field in bits (None for ``auto``: each input's own)."""
    return None if choice == "auto" else int(choice)


@dataclass(frozen=True)
class Task:
    """What to synthesise: sources, output size, seed, and an optional label map."""

    sources: tuple[str, ...] = declare(
        (),
        "Source images (paths, builtin:NAME) or statistics files; several are examples of one "
        "texture, or with a guide one texture per region.",
        path_list,
        flag="--source",
    )
    size: tuple[int, int] | None = declare(
        None, f"Output size, {SIZE_HELP} (none: the source's).", optional(image_size)
    )
    seed: int = declare(0, "Seed of the white-noise start.", whole_number(0, MAX_SEED))
    guide: str | None = declare(
        None,
        "Label map: region r (the r-th darkest grey or colour) gets the r-th source's texture.",
        optional(path_text),
    )
    mix: float | None = declare(
        None,
        "Morph between two sources: the weight of the second (0: the first's texture, 1: the "
        "second's). From a preset the loss is the sliced-Wasserstein barycentre of the two "
        "sources' features; --loss gram interpolates their Gram matrices instead. On the "
        "command line a list (0,0.25,0.5) makes a series.",
        optional(fraction),
    )

    maps: tuple[str, ...] = declare(
        (),
        "Other maps of the image's surface (normal, height, roughness …), comma-separated, "
        "each of the image's size. Each is written beside the output as OUTPUT_NAME (NAME: "
        "the map's file name), made from the same places of the image: an edit's copies, a "
        "synthesis's nearest source patches. A file named *normal* or *nrm* is a normal map "
        "(unit vectors, checked). docs/materials.md.",
        map_list,
        metavar="MAP,…",
    )
    depth: str = declare(
        "auto",
        "Bits per sample of the output and its maps: auto (each input's: 16-bit in, 16-bit "
        "out), 8 or 16 (PNG and TIFF hold 16).",
        choice(OUTPUT_DEPTHS),
    )

    def as_dict(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in _values(self).items()}

    def output_depth(self) -> int | None:
        """The depth asked for, in bits (None: each input's own)."""
        return depth_bits(self.depth)


def _values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


# A morph made from a preset (no --loss given) matches the sliced-Wasserstein barycentre of
# the two sources' feature distributions: interpolated Gram matrices give patchworks of the
# two textures (docs/stimuli.md), and optimal-transport paths follow perception better
# (Vacher, Davila, Kohn & Coen-Cagli 2020).
MORPH_LOSS = "swd"


def get_preset(name: str) -> Recipe:
    if name not in PRESETS:
        raise TexsynthError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]


def make_recipe(base: Recipe | str = "default", **overrides: Any) -> Recipe:
    """``base`` (a recipe or a preset's name) with ``overrides`` of its fields; ``None``
    values leave a field as the base has it."""
    recipe = get_preset(base) if isinstance(base, str) else base
    known = {f.name for f in dataclasses.fields(Recipe)}
    unknown = [k for k in overrides if k not in known]
    if unknown:
        raise TexsynthError(
            f"unknown recipe option {unknown[0]!r}; the recipe has: {', '.join(sorted(known))}"
        )
    given = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(recipe, **given) if given else recipe


def preset_name(recipe: Recipe) -> str | None:
    """The name of the preset this recipe is, if it is one."""
    return next((name for name, preset in PRESETS.items() if preset == recipe), None)


def recorded_preset(recipe: Recipe | str) -> str | None:
    """The preset a run's sidecar names: the one given by name, or the one the given
    recipe equals; None for any other recipe."""
    name = preset_name(recipe) if isinstance(recipe, Recipe) else recipe
    return name if name in PRESETS else None


def preset_values(name: str) -> str:
    """``"presets: default 300, paper 500, draft 100"``, or ``"default: avg"`` when all
    presets share the value."""
    values = {key: getattr(preset, name) for key, preset in PRESETS.items()}

    def text(value: Any) -> str:
        return ",".join(map(str, value)) if isinstance(value, tuple) else str(value).lower()

    if len({repr(v) for v in values.values()}) == 1:
        return f"default: {text(next(iter(values.values())))}"
    return "presets: " + ", ".join(f"{key} {text(v)}" for key, v in values.items())


# ------------------------------------------------------------------- reading them back ----
def fields_from(cls: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    """Declared fields of ``cls`` from a mapping that may use either alias of a name;
    raises :class:`TexsynthError` naming ``where`` for unknown names and bad values."""
    by_alias = {a: name for name, spec in declared(cls) for a in aliases(name, spec)}
    renamed = {}
    for key, value in values.items():
        if key not in by_alias:
            raise TexsynthError(
                f"{where}: unknown field {key!r}; known fields: {', '.join(sorted(by_alias))}"
            )
        renamed[by_alias[key]] = value
    try:
        return parse_values(cls, renamed)
    except ValueError as exc:
        raise TexsynthError(f"{where}: {exc}") from None
