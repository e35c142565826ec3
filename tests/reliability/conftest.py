"""Fixtures of the reliability harness: the lab (as for the integration tests)."""

from tests.helpers.lab import lab_binary_path, shared_lab, start_lab

__all__ = ["lab_binary_path", "shared_lab", "start_lab"]
