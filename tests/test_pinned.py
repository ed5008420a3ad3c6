"""The outputs of edits, metamers, controls and generators, pinned before the refactor of
issue 37 (see ``pinned_cases.py``): the same rules as ``test_regression.py``."""

from __future__ import annotations

import json

import pytest

from texsynth.features.network import fast_bfloat16

from pinned_cases import CASES, DATA, run_case
from regression_cases import check_stored

INDEX = json.loads((DATA / "index.json").read_text())


@pytest.mark.parametrize("name", list(CASES))
def test_the_run_gives_the_pinned_image(name, vgg_weights):
    stored = INDEX[name]["stored"]
    if stored[0]["precision"] == "bfloat16" and not fast_bfloat16("cpu"):
        pytest.skip("stored with native bfloat16, which this CPU lacks")
    outcome = run_case(name)
    final = outcome.loss_history[-1] if outcome.loss_history else None
    check_stored(name, outcome.image.numpy(), final, DATA, "pinned_cases.py")
