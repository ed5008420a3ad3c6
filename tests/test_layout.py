"""The package's layout: imports follow the data flow, never back up it, and never circle.

Stages, in the order data flows through them (docs/design.md). A module may import its own
stage and any stage before it; every import is counted, also one inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "texsynth"
STAGES: tuple[tuple[str, ...], ...] = (
    ("core",),
    ("image",),
    ("features",),
    ("statistics",),
    ("losses",),
    ("optimize",),
    ("synthesis",),
    ("batch", "report", "experiments", "stimuli", "evaluation"),  # tools on top of a synthesis
    ("cli", "app"),  # what people run: the command line, the web app
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> set[str]:
    """Every texsynth module ``path`` imports (relative imports resolved)."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found |= {n for n in names if _is_module(n)} or {target}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] == "texsynth" and m != module}


def _is_module(name: str) -> bool:
    path = PACKAGE.parent / name.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def stage(module: str) -> int | None:
    parts = module.split(".")
    if len(parts) < 2:
        return None  # the package itself: its lazy public names
    return next(i for i, names in enumerate(STAGES) if parts[1] in names)


GRAPH = {module_name(p): imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_stage():
    loose = [m for m in GRAPH if m != "texsynth" and m.count(".") == 1 and m.split(".")[1]
             not in {name for names in STAGES for name in names}]  # fmt: skip
    assert not loose, f"modules outside the stage packages: {loose}"


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a later stage than the importer's, as "importer -> imported"."""
    found = []
    for module, targets in sorted(graph.items()):
        here = stage(module)
        for target in sorted(targets - {"texsynth"}):  # the root: __version__, lazy names
            if here is not None and stage(target) > here:
                found.append(f"{module} -> {target}")
    return found


def circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (its modules in order), or [] when there is none."""
    state: dict[str, str] = {}

    def visit(module: str, path: list[str]) -> list[str]:
        state[module] = "open"
        for target in sorted(graph.get(module, set()) - {"texsynth"}):
            if state.get(target) == "open":
                return [*path[path.index(target) :], target]
            if target not in state and (found := visit(target, [*path, target])):
                return found
        state[module] = "done"
        return []

    for module in sorted(graph):
        if module not in state and (found := visit(module, [module])):
            return found
    return []


def test_no_import_runs_back_up_the_data_flow():
    assert upward_imports(GRAPH) == []


def test_there_is_no_import_circle():
    assert circle(GRAPH) == []


def test_the_checks_catch_what_they_look_for():
    bad = {"texsynth.image.io": {"texsynth.losses.terms"}, "texsynth.losses.terms": set()}
    assert upward_imports(bad) == ["texsynth.image.io -> texsynth.losses.terms"]
    loop = {"texsynth.batch.jobs": {"texsynth.report"}, "texsynth.report": {"texsynth.batch.jobs"}}
    assert circle(loop) == ["texsynth.batch.jobs", "texsynth.report", "texsynth.batch.jobs"]
    assert upward_imports(loop) == []  # one stage: only the circle check sees this


def test_a_stage_module_imports_only_what_it_needs():
    """The stage packages re-export nothing (issue 37): importing the coarse-to-fine plan
    does not load the driver, the losses or the networks, and the old top-level paths,
    removed, are not found."""
    import subprocess
    import sys

    code = (
        "import sys, importlib, texsynth.synthesis.scales\n"
        "heavy = ['texsynth.synthesis.run', 'texsynth.losses.terms', 'texsynth.features.network']\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "try:\n    importlib.import_module('texsynth.image_io')\n"
        "except ModuleNotFoundError:\n    print('gone')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split("\n")[:2] == ["[]", "gone"]
