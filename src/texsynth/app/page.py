"""The app's page: one tab per thing people do (a new texture, fill, extend, tile, morph),
each with its controls (from the declarations, :mod:`.controls`), a Run and a Cancel
button, the result beside its source at the same pixel scale, and the files to download.
"""

# No "from __future__ import annotations": Gradio reads the handlers' annotations
# (gr.Request, gr.Progress) as objects to know what to pass them.
import functools
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from ..core.edits import EDIT_KINDS, Edit
from ..core.errors import OUT_OF_MEMORY, TexsynthError, out_of_memory
from ..core.options import declared, number_list
from ..core.recipe import PRESET, Recipe, Task
from .controls import MAIN_RECIPE_FIELDS, control, controls, given
from .jobs import Cancelled, Jobs, painted_mask

LOG = logging.getLogger("texsynth.app")
RECIPE_FIELDS = [name for name, _ in declared(Recipe)]
MIX = dict(declared(Task))["mix"]
TRACKED = gr.Progress(track_tqdm=True)
# System fonts: the default theme's come from Google Fonts, and the app fetches nothing.
THEME = gr.themes.Default(
    font=["system-ui", "sans-serif"], font_mono=["ui-monospace", "monospace"]
)  # the page's bar follows texsynth's tqdm bar
IMAGE_TYPES = [".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"]


def on_the_page(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Every fault as one message on the page, never a stack trace."""

    @functools.wraps(handler)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except Cancelled:
            raise gr.Error("Cancelled: nothing was written.") from None
        except (TexsynthError, ValueError, OSError) as exc:
            raise gr.Error(" ".join(str(exc).split()) or type(exc).__name__) from None
        except Exception as exc:  # a fault of texsynth's: one line here, the trace in the log
            if out_of_memory(exc):
                raise gr.Error(OUT_OF_MEMORY) from None
            LOG.exception("the app's job failed")
            raise gr.Error(f"internal error ({type(exc).__name__}); see the terminal") from None

    return run


class RecipePanel:
    """The preset, the recipe options that matter most, and the rest under "more"."""

    def __init__(self, prefix: str, skip: tuple[str, ...] = ()) -> None:
        self.preset = control("preset", PRESET, "default", f"{prefix}-preset")
        main = [n for n in MAIN_RECIPE_FIELDS if n not in skip]
        self.fields = controls(Recipe, main, prefix)
        with gr.Accordion("more", open=False):
            rest = [n for n in RECIPE_FIELDS if n not in main and n not in skip]
            self.fields |= controls(Recipe, rest, prefix)

    @property
    def inputs(self) -> list[Any]:
        return [self.preset, *self.fields.values()]

    def read(self, data: dict[Any, Any]) -> tuple[str, dict[str, Any]]:
        """(preset, recipe fields given) from the page's values."""
        return data.get(self.preset) or "default", given(Recipe, self.fields, data)


def results_panel(prefix: str, preview: bool = False) -> list[Any]:
    """The result beside its source, a 2×2 wrap preview (tiles), and the downloads."""
    shown = gr.Image(
        label="result (left: source, same pixel scale)",
        elem_id=f"{prefix}-result",
        interactive=False,
        format="png",
        height=320,
        buttons=["download", "fullscreen"],  # no share: nothing leaves the machine
    )
    wrapped = gr.Image(
        label="2×2: does it wrap?",
        visible=preview,
        elem_id=f"{prefix}-wrap",
        interactive=False,
        format="png",
        height=320,
        buttons=["download", "fullscreen"],
    )
    files = gr.File(
        label="download: the PNG and its sidecar",
        file_count="multiple",
        elem_id=f"{prefix}-files",
        interactive=False,
    )
    return [shown, wrapped, files]


def beside(result: Any, source: str | None) -> np.ndarray:
    """The result and its source side by side, both at one pixel per pixel."""
    from ..image.io import load_image, to_bytes

    made = to_bytes(result.image).permute(1, 2, 0).numpy()
    if source is None:
        return _rgb(made)
    shown = to_bytes(load_image(source, grayscale=False).pixels).permute(1, 2, 0).numpy()
    height = max(made.shape[0], shown.shape[0])
    canvas = np.full((height, shown.shape[1] + 8 + made.shape[1], 3), 255, np.uint8)
    canvas[: shown.shape[0], : shown.shape[1]] = _rgb(shown)
    canvas[: made.shape[0], shown.shape[1] + 8 :] = _rgb(made)
    return canvas


def _rgb(array: np.ndarray) -> np.ndarray:
    return np.repeat(array, 3, axis=2) if array.shape[2] == 1 else array


def wrapped(result: Any) -> np.ndarray:
    """The result tiled 2×2: a seam shows as a cross through the middle."""
    made = _rgb(np.asarray(result.to_pil().convert("RGB")))
    return np.tile(made, (2, 2, 1))


def _path(upload: Any) -> str | None:
    """The path of an uploaded file (None when there is none)."""
    if upload is None:
        return None
    return str(getattr(upload, "name", upload))


class Page:
    """The tabs, and what each Run does."""

    def __init__(self, jobs: Jobs, device: str) -> None:
        self.jobs, self.device = jobs, device

    def options(self, recipe_fields: dict[str, Any]) -> dict[str, Any]:
        return {"device": self.device, **recipe_fields}

    def build(self) -> Any:
        with gr.Blocks(title="texsynth", analytics_enabled=False) as demo:
            gr.Markdown(
                "# texsynth\nNew textures like a photo, and edits of your own images: fill a "
                "hole, extend the borders, make an image tile, morph one texture into another."
                " Everything runs on this machine."
            )
            with gr.Tabs():
                with gr.Tab("New texture", id="synth"):
                    self.synth_tab()
                for kind in EDIT_KINDS:
                    with gr.Tab(kind.capitalize(), id=kind):
                        self.edit_tab(kind)
                with gr.Tab("Morph", id="morph"):
                    self.morph_tab()
        return demo

    def _buttons(self, prefix: str) -> tuple[Any, Any]:
        with gr.Row():
            run = gr.Button("Run", variant="primary", elem_id=f"{prefix}-run")
            cancel = gr.Button("Cancel", elem_id=f"{prefix}-cancel")
        return run, cancel

    def _wire(self, run: Any, cancel: Any, handler: Callable, inputs: set, outputs) -> None:
        """Run → the handler (one job at a time, the others queued); Cancel → stop it."""
        event = run.click(on_the_page(handler), inputs, outputs, concurrency_id="texsynth")

        def stop(request: gr.Request) -> None:
            self.jobs.cancel(_who(request))

        cancel.click(stop, None, None, cancels=[event], queue=False)

    # ------------------------------------------------------------------- new texture ----
    def synth_tab(self) -> None:
        sources = gr.File(
            label="source images (several: examples of one texture)",
            file_count="multiple",
            file_types=IMAGE_TYPES,
            elem_id="synth-sources",
        )
        task = controls(Task, ("size", "seed"), "synth")
        panel = RecipePanel("synth")
        run, cancel = self._buttons("synth")
        outputs = results_panel("synth", preview=True)

        def synthesise(data: dict, request: gr.Request, progress: Any = TRACKED) -> tuple:
            paths = [_path(f) for f in data.get(sources) or []]
            if not paths:
                raise TexsynthError("upload a source image first")
            task_of = _task(given(Task, task, data), tuple(paths))
            preset, recipe_fields = panel.read(data)
            options = self.options(recipe_fields)
            result = self.jobs.run("synthesis", None, preset, task_of, options, _who(request))
            return (
                beside(result, paths[0]),
                gr.update(value=wrapped(result), visible=bool(result.recipe.tileable)),
                [str(p) for p in self.jobs.keep(result, "texture")],
            )

        inputs = {sources, *task.values(), *panel.inputs}
        self._wire(run, cancel, synthesise, inputs, outputs)

    # --------------------------------------------------------------------- the edits ----
    def edit_tab(self, kind: str) -> None:
        from ..core.edits import edit_options
        from ..core.kinds import EDIT_TASKS

        image = gr.File(
            label="your image (its pixels are kept exactly)",
            file_types=IMAGE_TYPES,
            elem_id=f"{kind}-image",
        )
        hole = self._hole_inputs(image) if kind == "fill" else {}
        # The hole comes from the brush or the mask upload; the texture from the image.
        settings = controls(Edit, [n for n in edit_options(kind) if n != "mask"], kind)
        # Other images (sources, a material's maps) are the command line's; the depth is
        # the image's own (docs/app.md).
        shown = [n for n in EDIT_TASKS[kind] if n not in ("sources", "maps", "depth")]
        task = controls(Task, shown, kind)
        panel = RecipePanel(kind, skip=("tileable",))
        run, cancel = self._buttons(kind)
        outputs = results_panel(kind, preview=kind == "tile")

        def edit_it(data: dict, request: gr.Request, progress: Any = TRACKED) -> tuple:
            path = _path(data.get(image))
            if path is None:
                raise TexsynthError("upload the image to edit first")
            fields, extra = given(Edit, settings, data), {}
            if hole:
                fields["mask"] = self._mask(data, hole, path, extra)
            edit_of, task_fields = Edit(kind, path, **fields), given(Task, task, data)
            preset, recipe_fields = panel.read(data)
            _check_steering(edit_of, preset, recipe_fields, task_fields)
            options = self.options(recipe_fields)
            result = self.jobs.run(
                "edit", edit_of, preset, _task(task_fields), options, _who(request)
            )
            return (
                beside(result, path),
                gr.update(value=wrapped(result), visible=kind == "tile"),
                [str(p) for p in self.jobs.keep(result, kind, extra)],
            )

        inputs = {image, *hole.values(), *settings.values(), *task.values(), *panel.inputs}
        self._wire(run, cancel, edit_it, inputs, outputs)

    def _hole_inputs(self, image: Any) -> dict[str, Any]:
        """Fill's brush (on the image, shown when it is uploaded) and its mask upload."""
        editor = gr.ImageEditor(
            label="paint the hole (any colour), or upload a mask below",
            type="numpy",
            sources=(),
            brush=gr.Brush(colors=["#ff00ff"], default_size=12),
            elem_id="fill-editor",
            layers=False,
        )
        mask = gr.File(label="or a mask (white: fill)", file_types=IMAGE_TYPES, elem_id="fill-mask")
        image.change(
            lambda f: {"background": _path(f), "layers": [], "composite": None}, image, editor
        )
        return {"painted": editor, "mask": mask}

    def _mask(self, data: dict, hole: dict[str, Any], image: str, extra: dict[str, Path]) -> str:
        """The uploaded mask, or the painted one saved as a PNG (kept beside the result)."""
        from ..image.io import load_image

        uploaded = _path(data.get(hole["mask"]))
        if uploaded is not None:
            return uploaded
        loaded = load_image(image)
        folder = Path(tempfile.mkdtemp(dir=self.jobs.results.parent))
        layers = (data.get(hole["painted"]) or {}).get("layers") or []
        made = painted_mask(layers, (loaded.width, loaded.height), folder / "mask.png")
        if made is None:
            raise TexsynthError("paint the hole on the image (or upload a mask) first")
        extra["mask.png"] = made
        return str(made)

    # ------------------------------------------------------------------------- morph ----
    def morph_tab(self) -> None:
        with gr.Row():
            first = gr.File(label="texture A (mix 0)", file_types=IMAGE_TYPES, elem_id="morph-a")
            second = gr.File(label="texture B (mix 1)", file_types=IMAGE_TYPES, elem_id="morph-b")
        mix = gr.Slider(0, 1, value=0.5, step=0.05, label="mix (0: A, 1: B)", elem_id="morph-mix")
        series = gr.Textbox(
            label="or a series, e.g. 0,0.25,0.5,0.75,1 (one image each)", elem_id="morph-series"
        )
        task = controls(Task, ("size", "seed"), "morph")
        panel = RecipePanel("morph")
        gr.Markdown(
            "The loss left empty matches the two textures' sliced-Wasserstein "
            "barycentre; `gram` interpolates their Gram matrices (docs/stimuli.md)."
        )
        run, cancel = self._buttons("morph")
        gallery = gr.Gallery(
            label="the morph", elem_id="morph-result", columns=5, buttons=["download", "fullscreen"]
        )
        files = gr.File(
            label="download: the PNGs and their sidecars",
            file_count="multiple",
            elem_id="morph-files",
            interactive=False,
        )

        def morph(data: dict, request: gr.Request, progress: Any = TRACKED) -> tuple:
            paths = (_path(data.get(first)), _path(data.get(second)))
            if None in paths:
                raise TexsynthError("upload both textures first")
            wanted = data.get(series) or ""
            mixes = number_list(wanted) if wanted.strip() else (data.get(mix, 0.5),)
            task_fields = given(Task, task, data)
            preset, recipe_fields = panel.read(data)
            shown, kept = [], []
            for value in (MIX.parse(m) for m in mixes):
                task_of = _task(task_fields | {"mix": value}, paths)
                options = self.options(recipe_fields)
                result = self.jobs.run("synthesis", None, preset, task_of, options, _who(request))
                shown.append((beside(result, None), f"mix {value:g}"))
                kept += self.jobs.keep(result, f"morph-mix{value:g}")
            return shown, [str(p) for p in kept]

        inputs = {first, second, mix, series, *task.values(), *panel.inputs}
        self._wire(run, cancel, morph, inputs, [gallery, files])


def _task(fields: dict[str, Any], sources: tuple = ()) -> Task:
    return Task(tuple(sources), fields.get("size"), fields.get("seed", 0), mix=fields.get("mix"))


def _who(request: gr.Request) -> str:
    """The browser session a job belongs to (what its Cancel button stops)."""
    return request.session_hash or ""


def _check_steering(edit_of: Edit, preset: str, recipe: dict, task: dict) -> None:
    """The recipe, the preset and the seed steer an edit's refinement only: refused, as on
    the command line, when there is none (rather than ignored)."""
    from ..core.kinds import KINDS

    unused = KINDS["edit"].recipe_unused(edit_of)
    steering = [*recipe, *(task.keys() - {"size"})] + ["preset"] * (preset != "default")
    if unused and steering:
        raise TexsynthError(f"{', '.join(steering)} steer {unused}, or clear them")
