"""The foundation every stage may import: errors, options declared once, the registries,
recipes and tasks, devices, the safe-write path for files, input provenance, the batch
index's columns. Nothing here imports another texsynth package, and only ``devices``
needs torch.
"""
