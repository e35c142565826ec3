"""``checkpoint-wizard lab`` and ``check --scenario`` refuse bad input at once, with exit 2.

Each runs as a real process: a scenario path that is a named pipe used to block it forever
(deaf to SIGTERM and Ctrl+C), and ``--filler-vms 100000`` ran for two minutes and took 870 MB
before failing.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.lab import lab_binary_for_tests
from wizard.lab.scenario import MAX_FILLER_VMS, bundled_scenarios_dir

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
SCENARIO = bundled_scenarios_dir() / "dual-screen-win7.json"
QUICK_S = 10.0


def wizard(args: list[str], tmp_path: Path) -> tuple[int, str, float]:
    """Run ``python -m wizard ARGS``; return its exit code, stderr and how long it took."""
    env = dict(os.environ)
    env.update(
        {
            "CHECKPOINT_WIZARD_BASEDIR": str(tmp_path / "base"),
            "CHECKPOINT_WIZARD_LAB_BIN": str(lab_binary_for_tests()),
            "PYTHONPATH": str(REPO),
        }
    )
    start = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "wizard", *args],
            env=env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=QUICK_S * 3,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(args)}` still ran after {QUICK_S * 3:.0f} s")
    return result.returncode, result.stderr, time.monotonic() - start


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system")
@pytest.mark.parametrize(
    "command",
    [["lab", "--scenario"], ["check", "--vm", "HD-W7-042", "--scenario"]],
    ids=["lab", "check"],
)
def test_a_named_pipe_as_the_scenario_is_refused_at_once(
    tmp_path: Path, command: list[str]
) -> None:
    pipe = tmp_path / "scenario.json"
    os.mkfifo(pipe)
    try:
        code, err, took = wizard([*command, str(pipe)], tmp_path)
    finally:  # a reader still waiting on it (the old behaviour) is let go
        with contextlib.suppress(OSError):
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert code == 2, err
    assert took < QUICK_S
    assert "(file): is a named pipe (FIFO), not a regular file" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--filler-vms", "100000", f"from 0 to {MAX_FILLER_VMS:,}"),
        ("--filler-vms", str(MAX_FILLER_VMS + 1), f"from 0 to {MAX_FILLER_VMS:,}"),
        ("--filler-vms", "-1", f"from 0 to {MAX_FILLER_VMS:,}"),
        ("--filler-vms", "1e5", "is not a whole number"),
        ("--port", "70000", "from 0 to 65,535"),
        ("--delay-ms", "-5", "from 0 to 60,000"),
    ],
)
def test_lab_options_out_of_bounds_are_usage_errors(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    code, err, took = wizard(["lab", "--scenario", str(SCENARIO), option, value], tmp_path)
    assert code == 2, err
    assert took < QUICK_S
    assert message in err
    assert "Traceback" not in err


def test_the_lab_binary_bounds_filler_vms_too(lab_binary_path: Path) -> None:
    for value in ("100000", str(MAX_FILLER_VMS + 1), "-1"):
        start = time.monotonic()
        result = subprocess.run(
            [str(lab_binary_path), "--scenario", str(SCENARIO), "--filler-vms", value],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2
        assert time.monotonic() - start < QUICK_S
        assert result.stderr == (
            f"usage error: --filler-vms must be from 0 to {MAX_FILLER_VMS}\n"
        ), result.stderr
