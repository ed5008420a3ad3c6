"""Kinds of run, declared once: a synthesis from noise, an edit, a metamer, a control, a
generator's sample, an equalised set.

Each :class:`RunKind` says what its sidecar records (``section``: its declared settings,
``fields``, beside the ``facts`` it measured), which of its settings name input files, the
function that makes it (``runner``), the commands that make it, and what a batch job and a
report card show of it. The sidecar reader's checks, the CLI's replay and write, batch jobs
(manifest fields, job ids, the index) and report cards are derived from these entries;
docs/design.md adds a kind as a worked example. Morphs are syntheses (``--mix`` is a task
field).

This module imports only texsynth.core: every stage may read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .edits import EDIT_FACTS, EDIT_KINDS, SUMMARIES, Edit, check_edit_facts
from .errors import TexsynthError
from .stimuli import METAMER_FACTS, Control, Equalization, Metamer

Record = dict[str, Any]


@dataclass(frozen=True)
class Command:
    """A command that makes a kind of run: its name, its help, the settings it fixes."""

    name: str
    help: str
    fixed: tuple[tuple[str, Any], ...] = ()  # (field, value) the command sets, e.g. kind=fill
    task_fields: tuple[str, ...] = ()  # the task's options it takes (sources, size, seed …)


@dataclass(frozen=True)
class RunKind:
    """One kind of run and everything derived from it."""

    name: str
    fields: type | None = None  # its declared settings (Edit, Metamer …); None: the task's
    section: str = ""  # the sidecar section recording them ("": none)
    facts: frozenset[str] = frozenset()  # what the section records besides its fields
    check: Callable[[Record, str], None] | None = None  # further checks of those facts
    files: tuple[str, ...] = ()  # settings that name input files
    recipe: bool = True  # whether a recipe (and so a network) makes it
    recipe_skips: tuple[str, ...] = ()  # recipe fields it has no use for (no option for them)
    # What the recipe steers when it does not steer a run of these settings, and how to
    # make it ("": it steers the run): recipe options given then are refused, not ignored.
    recipe_unused: Callable[[Any], str] = lambda settings: ""
    lossless: bool = False  # its output keeps given pixels exactly: lossless formats only
    keeps: str = ""  # the setting naming the image whose depth and alpha its output keeps
    # "module:attribute" (or the function): runner(settings, recipe, task=…, **options) → a
    # result with ``image`` (C, H, W), ``record()`` (its sidecar), ``to_pil()``, ``final_loss``.
    runner: str | Callable[..., Any] = ""
    commands: tuple[Command, ...] = ()  # made by texsynth.cli.runs.run_command
    told: Callable[[Record], str] = lambda record: ""  # the command's summary, after WxH
    task_fields: tuple[str, ...] = ("sources", "size", "seed", "guide", "mix", "maps", "depth")
    # Whether a batch computes its sources' statistics once for all its jobs (a synthesis's
    # are its sources'; an edit's or a metamer's are its own image's).
    shares_statistics: bool = False
    # Batch jobs: the manifest field that asks for this kind (none: not in manifests), and
    # what the job's id and the batch's index add for it.
    trigger: str = ""
    hint: str = ""  # how a manifest asks for it, for messages
    job_tag: Callable[[Any], str] | None = None  # none: "-NAME"
    job_spec: Callable[[Any], Record] | None = None  # none: the settings given (not None)
    index_fields: tuple[str, ...] = ()
    # Report cards: (label, key) of the section shown as fields, and of the section or the
    # facts shown as numbers; the captions of the image and its source; whether the card
    # outlines the section's hole; whether a folder's card shows it at all.
    card_fields: tuple[tuple[str, str], ...] = ()
    card_numbers: tuple[tuple[str, str], ...] = ()
    captions: tuple[str, str] = ("synthesis", "source")
    outline: bool = False
    card: bool = True

    def spec_of(self, settings: Any) -> Record:
        """What a batch job of these settings records of them (its id is a hash of it)."""
        if self.job_spec is not None:
            return self.job_spec(settings)
        return {k: v for k, v in settings.as_dict().items() if v is not None}

    def tag_of(self, settings: Any) -> str:
        """The part of a batch job's file name that says its kind."""
        return self.job_tag(settings) if self.job_tag is not None else f"-{self.name}"

    def settings_of(self, section: Record, where: str) -> Any:
        """The declared settings a sidecar's section records (facts left out), checked."""
        from .recipe import fields_from

        assert self.fields is not None
        names = {f.name for f in dataclasses.fields(self.fields)}
        given = {k: v for k, v in section.items() if k in names and v is not None}
        return self.fields(**fields_from(self.fields, given, where))


def _edit_spec(edit: Edit) -> Record:
    return {"edit": edit.kind} | {k: v for k, v in edit.as_dict().items() if k != "kind"}


def _refinement_unused(edit: Edit) -> str:
    """The recipe, the preset, the seed and the sources steer only an edit's refinement."""
    if edit.refine:
        return ""
    return f"the CNN refinement only, and {edit.kind} runs none without --refine N: add --refine"


def _metamer_told(record: Record) -> str:
    m, facts = record["metamer"], record["facts"]
    return (
        f", {m['windows']} windows, fovea {m['fovea_radius_px']:.0f} px; median window Gram "
        f"error {m['median_window_gram_error']:.3g} after {facts['iterations']} iterations, "
        f"{facts['wall_time_s']:.1f} s"
    )


def _control_told(record: Record) -> str:
    facts = record["facts"]
    return (
        f", {record['control']['kind']} control; phase correlation "
        f"{facts['phase_correlation']:+.3f}, {100 * facts['clipped_fraction']:.1f}% of values "
        "clipped to the file's range"
    )


# Recipe fields a metamer has no use for: its loss is the pooled Gram loss, at one scale,
# from noise or --init, of an image that does not tile.
METAMER_SKIPS = (
    "source_scale", "loss", "structure", "structure_loss", "structure_weight",
    "structure_weighting", "spectrum_weight", "histogram_weight", "histogram_scales",
    "structure_scales", "start", "coarse_iters", "iters_side", "scales", "redraw_every",
    "tileable", "hist_match", "preserve_colors",
)  # fmt: skip
EDIT_TASKS = {
    "fill": ("sources", "seed", "maps", "depth"),
    "extend": ("sources", "size", "seed", "maps", "depth"),
    "tile": ("maps", "depth"),
}
METAMER_HELP = (
    "Make a metamer of IMAGE: an image whose Gram statistics match IMAGE's inside every "
    "pooling window, the windows growing with eccentricity from the fixation point (radial "
    "and angular width about SCALING x eccentricity); the fovea stays as in IMAGE."
)
CONTROL_HELP = (
    "Write a control of IMAGE with none of its structure: --kind phase keeps the amplitude "
    "spectrum and randomises the phases (the same for every colour channel), --kind pixels "
    "shuffles the pixels. Seeded; the size is IMAGE's, and the output tiles."
)

# fmt: off
KINDS: dict[str, RunKind] = {
    "synthesis": RunKind(
        "synthesis", runner="texsynth.synthesis.run:run_synthesis", shares_statistics=True
    ),
    "edit": RunKind(
        "edit", Edit, "edit", EDIT_FACTS, check_edit_facts, ("image", "mask"),
        recipe_skips=("tileable",), recipe_unused=_refinement_unused, lossless=True,
        keeps="image",
        runner="texsynth.synthesis.edit:run_edit",
        commands=tuple(Command(k, SUMMARIES[k], (("kind", k),), EDIT_TASKS[k]) for k in EDIT_KINDS),
        told=lambda record: f", {record['edit'].get('hole_pixels')} px synthesised",
        task_fields=("sources", "size", "seed", "maps", "depth"), trigger="kind",
        hint="edit: fill, …",
        job_tag=lambda edit: f"-{edit.kind}", job_spec=_edit_spec,
        card_fields=(("edit", "kind"),), captions=("edited", "original"), outline=True,
    ),
    "metamer": RunKind(
        "metamer", Metamer, "metamer", METAMER_FACTS, None, ("image", "init"),
        recipe_skips=METAMER_SKIPS, runner="texsynth.stimuli.metamer:run_metamer", keeps="image",
        commands=(Command("metamer", METAMER_HELP, task_fields=("seed",)),),
        told=_metamer_told, task_fields=("seed",), trigger="scaling", hint="scaling: S",
        job_tag=lambda metamer: f"-metamer{metamer.scaling:g}",
        index_fields=("scaling", "fixation"),
        card_fields=(("metamer scaling", "scaling"),),
        card_numbers=(("window error", "median_window_gram_error"),),
    ),
    "control": RunKind(
        "control", Control, "control", files=("image",), recipe=False,
        runner="texsynth.stimuli.controls:run_control",
        commands=(Command("control", CONTROL_HELP),),
        told=_control_told, task_fields=(), card_fields=(("control", "kind"),),
        captions=("control", "source"),
        card_numbers=(("phase correlation", "phase_correlation"), ("clipped", "clipped_fraction")),
    ),
    # A generator's samples and an equalised set write several images each, by their own
    # commands (texsynth sample, texsynth equalize); their sidecars are declared here.
    "sample": RunKind("sample", section="generator", task_fields=("size", "seed")),
    "equalize": RunKind(
        "equalize", Equalization, "equalize", frozenset({"steps"}), recipe=False, card=False
    ),
}
# fmt: on


def register_kind(kind: RunKind) -> None:
    """Add (or replace) a kind of run; its sidecars, commands and jobs follow from it."""
    KINDS[kind.name] = kind


def kind_of_record(record: Record) -> RunKind:
    """The kind of run a sidecar records: the first whose section it holds."""
    found = (k for k in KINDS.values() if k.section and isinstance(record.get(k.section), dict))
    return next(found, KINDS["synthesis"])


def kind_of_settings(settings: Any) -> RunKind:
    """The kind of run whose declared settings ``settings`` are (None: a synthesis)."""
    if settings is None:
        return KINDS["synthesis"]
    found = (k for k in KINDS.values() if k.fields is not None and isinstance(settings, k.fields))
    kind = next(found, None)
    if kind is None:
        raise TexsynthError(f"{type(settings).__name__} is no kind of run texsynth knows")
    return kind


__all__ = ["KINDS", "Command", "RunKind", "kind_of_record", "kind_of_settings", "register_kind"]
