"""The images of fixed small syntheses, stored before refactors that must not change them.

See ``regression_cases.py``. An image passes bit for bit when it equals a stored one;
otherwise it must lie within a tenth of two iterations' worth of change of a stored image
of this machine (of the nearest stored image where this machine has none). The second
path is for other CPUs, and for a float path that a few processes take on the same machine:
the ``paper`` case (SciPy L-BFGS-B, float32) ended on a second, slightly different image
in 3–10% of fresh processes on the Intel/AMX machine, with the same code and inputs (not
OpenBLAS threads: with one thread it still happened; it vanished when every evaluation was
traced). The redesign was checked bit for bit on all cases.
"""

from __future__ import annotations

import json

import pytest

from texsynth.features.network import fast_bfloat16

from regression_cases import CASES, DATA, check_stored, run_case

INDEX = json.loads((DATA / "index.json").read_text())


def synthesize(source, size, recipe, **options):
    from texsynth import synthesize as library_synthesize

    return library_synthesize(source, size, recipe, **options)


@pytest.mark.parametrize("name", list(CASES))
def test_synthesis_gives_the_stored_image(name, vgg_weights):
    stored = INDEX[name]["stored"]
    if stored[0]["precision"] == "bfloat16" and not fast_bfloat16("cpu"):
        pytest.skip("stored with native bfloat16, which this CPU lacks")
    result = run_case(name, synthesize)
    check_stored(name, result.image.numpy(), result.final_loss, DATA, "regression_cases.py")
