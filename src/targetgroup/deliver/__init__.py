"""Deliver: the files people open after a run (flag lists, leadership counts, manifest)."""
