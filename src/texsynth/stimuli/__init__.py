"""Stimuli for vision science built on texsynth's image tools: matched controls and
equalised sets (one module each)."""
