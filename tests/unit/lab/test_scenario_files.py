"""Scenario paths that are not regular files: refused at once, never waited on.

Opening a named pipe for reading waits until someone opens it for writing, and reading a terminal
waits for a line: a scenario path that names one used to freeze ``checkpoint-wizard lab`` (deaf to
SIGTERM and Ctrl+C) and, dropped into the trainer's scenarios folder as ``*.json``, training mode
before its window appeared.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wizard.lab.scenario import (
    DEFAULT_SCENARIO_ID,
    ScenarioError,
    bundled_scenarios_dir,
    list_scenarios,
    load_scenario,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system")

GOOD = bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json"

QUICK_S = 5.0


@contextlib.contextmanager
def fifo(path: Path) -> Iterator[Path]:
    """A named pipe at ``path``; a reader still waiting on it at the end is let go."""
    os.mkfifo(path)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):  # no reader waiting: nothing to release
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def within(seconds: float, call: Callable[[], object]) -> object:
    """Run ``call`` in a thread; fail (instead of hanging the test run) when it takes longer."""
    result: list[object] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    start = time.monotonic()
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still waiting after {seconds:.0f} s")
    assert time.monotonic() - start < seconds
    return result[0]


def test_a_named_pipe_is_refused_at_once(tmp_path: Path) -> None:
    with fifo(tmp_path / "scenario.json") as path:
        outcome = within(QUICK_S, lambda: load_scenario(path))
    assert isinstance(outcome, ScenarioError), outcome
    assert outcome.path == "(file)"
    assert outcome.problem == "is a named pipe (FIFO), not a regular file"
    assert "Give the path of a scenario's .json file" in str(outcome)


def test_a_terminal_or_other_device_is_refused(tmp_path: Path) -> None:
    outcome = within(QUICK_S, lambda: load_scenario(Path("/dev/null")))
    assert isinstance(outcome, ScenarioError)
    assert outcome.problem == "is a character device, not a regular file"


def test_a_link_to_a_regular_file_is_read(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    shutil.copy(GOOD, real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert load_scenario(link).id == DEFAULT_SCENARIO_ID


def test_a_link_to_a_named_pipe_is_refused(tmp_path: Path) -> None:
    with fifo(tmp_path / "pipe") as pipe:
        link = tmp_path / "link.json"
        link.symlink_to(pipe)
        outcome = within(QUICK_S, lambda: load_scenario(link))
    assert isinstance(outcome, ScenarioError)
    assert "named pipe" in outcome.problem


def test_the_folder_scan_lists_a_named_pipe_with_its_reason(tmp_path: Path) -> None:
    shutil.copy(GOOD, tmp_path / "a-good.json")
    with fifo(tmp_path / "b-pipe.json"):
        outcome = within(QUICK_S, lambda: list_scenarios([tmp_path]))
    assert isinstance(outcome, list)
    assert [(entry.path.name, entry.ok) for entry in outcome] == [
        ("a-good.json", True),
        ("b-pipe.json", False),
    ]
    assert "is a named pipe (FIFO), not a regular file" in str(outcome[1].error)
