"""Test-wide setup: hermetic paths, an in-memory keyring, and the `gui` marker.

Every test runs with the product's files under a temporary folder (``CHECKPOINT_WIZARD_BASEDIR``)
so nothing touches a real user's settings, journal or pinned certificates. The lab binary is
built (or found in the developer's cache) once, before the paths move, and handed to the tests
through ``CHECKPOINT_WIZARD_LAB_BIN`` so a test run never rebuilds it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_LAB_ENV = "CHECKPOINT_WIZARD_LAB_BIN"


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get(_LAB_ENV):
        return
    try:
        from wizard.lab.binary import LabUnavailable, lab_binary
    except ImportError:
        return
    # Without the toolchain the lab fixtures skip, naming what to install; unit tests still run.
    with contextlib.suppress(LabUnavailable):
        os.environ[_LAB_ENV] = str(lab_binary())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/gui/" in item.nodeid or item.nodeid.startswith("gui/"):
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def hermetic_basedir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Keep the product's files of each test in a folder of its own."""
    from wizard import paths

    base = tmp_path_factory.mktemp("basedir")
    paths.set_basedir(base)
    try:
        yield base
    finally:
        paths.set_basedir(None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[None]:
    """Tests never touch the OS keyring: an in-memory backend stands in for it."""
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeyring(KeyringBackend):
        priority = 1

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]
            self._store: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self._store.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self._store[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self._store.pop((service, username), None)

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)
