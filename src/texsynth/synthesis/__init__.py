"""Stage 6, synthesis: the named stages of one run (``run``: targets, scales, objectives,
iterations, finishing), the coarse-to-fine plan (``scales``), and the result with its
sidecar (``result``). The names of ``run`` are importable from here, as before.
"""

from __future__ import annotations

from .run import (
    MODEL_FIELDS,
    PRESETS,
    PreparedTarget,
    RunHooks,
    ScaleObjective,
    Size,
    Source,
    SynthesisResult,
    build_objective,
    finish,
    match_histograms,
    plan_for,
    prepare_target,
    resolve_precision,
    run_scale,
    scale_source,
    start_image,
    stop_rule,
    synthesize,
    warm_statistics,
    white_noise,
)

__all__ = [
    "MODEL_FIELDS",
    "PRESETS",
    "PreparedTarget",
    "RunHooks",
    "ScaleObjective",
    "Size",
    "Source",
    "SynthesisResult",
    "build_objective",
    "finish",
    "match_histograms",
    "plan_for",
    "prepare_target",
    "resolve_precision",
    "run_scale",
    "scale_source",
    "start_image",
    "stop_rule",
    "synthesize",
    "warm_statistics",
    "white_noise",
]
