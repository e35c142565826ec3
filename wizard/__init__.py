"""Checkpoint wizard: diagnose and fix vMotion failures caused by 'Failed to flush checkpoint data!'."""

__version__ = "0.1.0"
