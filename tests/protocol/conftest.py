"""Hypothesis without per-example deadlines: CI machines are noisy, correctness is the point."""

from hypothesis import settings

settings.register_profile("jsctl", deadline=None, print_blob=True)
settings.load_profile("jsctl")
