"""Lab fixtures for the integration tests (they live in tests/helpers/lab.py)."""

from tests.helpers.lab import lab_binary_path, shared_lab, start_lab

__all__ = ["lab_binary_path", "shared_lab", "start_lab"]
