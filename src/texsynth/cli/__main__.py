"""``python -m texsynth.cli``: the same as the ``texsynth`` command."""

from . import main

main()
