"""Stage 1, images: reading and writing them (``io``), colour (``color``), synthetic test
patterns (``patterns``), a source's lattice from its autocorrelation (``lattice``), and for
edits the canvas (``canvas``) and its patch fill from shifted copies (``shifts``).
"""
