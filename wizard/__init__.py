"""Checkpoint wizard: diagnose and fix vMotion failures ("Failed to flush checkpoint data!")."""

__version__ = "0.1.0"
