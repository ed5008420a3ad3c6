"""Stage 1, images: reading and writing them (``io``), colour (``color``), synthetic test
patterns (``patterns``), and a source's lattice from its autocorrelation (``lattice``).
"""
