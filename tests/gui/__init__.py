"""pytest-qt tests of the wizard (offscreen)."""
