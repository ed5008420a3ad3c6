"""The docs: the README stays short, the generated references match the code, and every
relative link and picture in the README and docs/ resolves (anchors included)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def generator():
    spec = importlib.util.spec_from_file_location("generate", ROOT / "docs" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def test_the_readme_is_read_in_five_minutes():
    assert (ROOT / "README.md").stat().st_size <= 12 * 1024


def test_the_generated_references_match_the_code():
    gen = generator()
    for name, text in gen.pages().items():
        assert gen.current(name) == text, f"docs/reference/{name}: run python docs/generate.py"


def test_the_reference_names_every_option_and_registry_entry():
    from texsynth.core.options import declared, flag_of
    from texsynth.core.recipe import Recipe, Task
    from texsynth.core.registry import LOSSES, NETWORKS, OPTIMIZERS, STRUCTURES

    options = (ROOT / "docs" / "reference" / "options.md").read_text()
    for name, spec in [*declared(Recipe), *declared(Task)]:
        assert f"`{flag_of(name, spec)}`" in options, name
    registries = (ROOT / "docs" / "reference" / "registries.md").read_text()
    for registry in (NETWORKS, LOSSES, STRUCTURES, OPTIMIZERS):
        for name in registry.names():
            assert f"| `{name}` |" in registries, name


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_picture_resolves(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto: — not checked offline
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if anchor and resolved.suffix == ".md":
            assert anchor in anchors(resolved), f"{page.name}: no heading #{anchor} in {path}"


def test_the_link_checker_catches_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[gone](nowhere.md) and [here](#title)\n")
    with pytest.raises(AssertionError, match=r"nowhere\.md does not exist"):
        test_every_relative_link_and_picture_resolves(page)
    page.write_text("# Title\n\n[bad anchor](#other)\n")
    with pytest.raises(AssertionError, match="no heading #other"):
        test_every_relative_link_and_picture_resolves(page)
