"""Kinds of run declared once (texsynth.core.kinds): a kind added from one file (the worked
example of docs/design.md, tests/kind_example.py) gets its command, replay, sidecar checks,
batch jobs and report cards from its declaration alone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from kind_example import NEGATIVE
from PIL import Image

from texsynth.core import kinds
from texsynth.core.kinds import KINDS, kind_of_record

from conftest import assert_one_error


@pytest.fixture()
def negative_kind(monkeypatch: pytest.MonkeyPatch):
    """The example kind registered, with its command on the real entry point."""
    from texsynth import cli
    from texsynth.cli.runs import run_command

    monkeypatch.setitem(KINDS, "negative", NEGATIVE)
    command = run_command(NEGATIVE, NEGATIVE.commands[0])
    monkeypatch.setitem(cli.cli.commands, "negative", command)
    return NEGATIVE


def grey_png(path: Path, size: int = 24) -> Path:
    rng = np.random.default_rng(1)
    Image.fromarray(rng.integers(0, 256, (size, size, 3)).astype(np.uint8)).save(path)
    return path


def test_every_sidecar_section_belongs_to_one_kind():
    sections = [kind.section for kind in KINDS.values() if kind.section]
    assert len(sections) == len(set(sections))
    assert kind_of_record({"recipe": {}, "task": {}}).name == "synthesis"
    assert kind_of_record({"edit": {"kind": "fill"}}).name == "edit"
    assert kinds.kind_of_settings(None).name == "synthesis"


def test_a_new_kind_gets_its_command_and_replay(negative_kind, run_cli, tmp_path):
    image = grey_png(tmp_path / "in.png")
    done = run_cli("negative", image, "-o", tmp_path / "neg.png")
    assert done.code == 0, done.err
    assert "contrast 1" in done.err
    made = np.asarray(Image.open(tmp_path / "neg.png"))
    assert np.array_equal(made, 255 - np.asarray(Image.open(image)))
    record = json.loads((tmp_path / "neg.json").read_text())
    assert record["negative"]["contrast"] == 1.0
    again = run_cli("negative", "--recipe", tmp_path / "neg.json", "-o", tmp_path / "again.png")
    assert again.code == 0, again.err
    assert (tmp_path / "again.png").read_bytes() == (tmp_path / "neg.png").read_bytes()
    half = run_cli("negative", image, "--contrast", "0.5", "-o", tmp_path / "half.png")
    assert half.code == 0, half.err
    assert np.asarray(Image.open(tmp_path / "half.png")).std() < made.std()


def test_a_new_kinds_bad_input_is_one_line(negative_kind, run_cli, tmp_path):

    image = grey_png(tmp_path / "in.png")
    assert_one_error(run_cli("negative", image, "--contrast", "-1", "-o", tmp_path / "o.png"),
                     "--contrast")  # fmt: skip
    run_cli("negative", image, "-o", tmp_path / "neg.png")
    record = json.loads((tmp_path / "neg.json").read_text())
    record["negative"]["colour"] = "red"
    (tmp_path / "odd.json").write_text(json.dumps(record))
    odd = run_cli("negative", "--recipe", tmp_path / "odd.json", "-o", tmp_path / "o.png")
    assert_one_error(odd, "negative: unknown field 'colour'")
    other = run_cli("fill", "--recipe", tmp_path / "neg.json", "-o", tmp_path / "o.png")
    assert_one_error(other, "records no fill (it records a negative)")
    assert not (tmp_path / "o.png").exists()


def test_a_new_kind_runs_in_a_batch_and_shows_in_the_report(negative_kind, run_cli, tmp_path):
    grey_png(tmp_path / "in.png")
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(
        "jobs:\n  - {image: in.png, contrast: 0.5}\n  - {image: in.png, contrast: 1}\n"
    )
    done = run_cli("batch", manifest, "-o", tmp_path / "out", "--report")
    assert done.code == 0, done.err
    sidecars = sorted((tmp_path / "out" / "images").glob("*.json"))
    assert len(sidecars) == 2 and all("-negative" in p.name for p in sidecars)
    contrasts = sorted(json.loads(p.read_text())["negative"]["contrast"] for p in sidecars)
    assert contrasts == [0.5, 1.0]
    page = (tmp_path / "out" / "index.html").read_text()
    assert page.count('class="card') >= 2 and "contrast" in page
    stray = tmp_path / "stray.yaml"
    stray.write_text("jobs:\n  - {image: in.png, contrast: 0.5, edit: fill}\n")

    assert_one_error(run_cli("batch", stray, "-o", tmp_path / "o2"),
                     "contrast applies only to a negative (contrast: C)")  # fmt: skip


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("{image: in.png, edit: fill, mix: 0.5}", "mix does not apply to an edit"),
        ("{image: in.png, scaling: 0.5, size: 32}", "size does not apply to a metamer"),
        ("{image: in.png, scaling: 0.5, mask: in.png}", "mask applies only to an edit"),
        ("{source: in.png, scaling: 0.5}", "the metamer has no image"),
    ],
)
def test_a_job_field_its_kind_does_not_read_is_refused(run_cli, tmp_path, job, message):
    """Before kinds were declared, an edit's mix and a metamer's size were ignored."""
    grey_png(tmp_path / "in.png")
    manifest = tmp_path / "jobs.yaml"
    manifest.write_text(f"jobs:\n  - {job}\n")
    assert_one_error(run_cli("batch", manifest, "-o", tmp_path / "out"), message)
    assert not (tmp_path / "out").exists()
