"""Fixtures for the integration tests: the lab's (they live in tests/helpers/lab.py), the lab
most apply tests run on, and a journal of the test's own."""

from pathlib import Path

import pytest

from tests.helpers.apply import SCENARIO, journal_in
from tests.helpers.lab import StartLab, lab_binary_path, shared_lab, start_lab
from wizard.audit import Journal
from wizard.lab.process import LabInfo

__all__ = ["journal", "lab", "lab_binary_path", "shared_lab", "start_lab"]


@pytest.fixture
def lab(start_lab: StartLab) -> LabInfo:
    """The lab on the apply tests' scenario (a module may define its own ``lab``)."""
    return start_lab(SCENARIO)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    """A journal in the test's own folder, never the user's."""
    return journal_in(tmp_path)
