"""An unexpected error in the wizard ends it cleanly: worker threads stopped, no lab left, a
normal exit code, one line on stderr and the traceback in the log, never Qt's abort.

Each test runs the real wizard (``python -m wizard --training``, offscreen) in a process of its
own, with one piece of it broken by a small start-up script.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.helpers.lab import wizard_process_env
from wizard.lab.scenario import bundled_scenarios_dir

pytestmark = pytest.mark.lab

REPO = Path(__file__).resolve().parents[2]
SCENARIO = bundled_scenarios_dir() / "dual-screen-win7.json"


def run_broken_wizard(tmp_path: Path, breakage: str) -> tuple[int, str, str]:
    """Run the wizard in training mode after ``breakage`` (Python run first); return its exit
    code, its stderr and its log file."""
    script = tmp_path / "broken.py"
    script.write_text(
        textwrap.dedent(breakage)
        + textwrap.dedent(
            f"""
            import sys
            from wizard.cli import main
            sys.exit(main(["--training", {str(SCENARIO)!r}]))
            """
        ),
        encoding="utf-8",
    )
    env = wizard_process_env(tmp_path)
    temp = Path(env["TMPDIR"])
    result = subprocess.run(
        [sys.executable, str(script)],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    log = tmp_path / "base" / "logs" / "checkpoint-wizard.log"
    deadline = time.monotonic() + 5  # a lab stopping by itself may take a moment
    while [n for n in os.listdir(temp) if n.startswith("checkpoint-lab-")]:
        assert time.monotonic() < deadline, "the lab was left running or did not clean up"
        time.sleep(0.05)
    return result.returncode, result.stderr, log.read_text(encoding="utf-8") if log.exists() else ""


def test_an_error_while_the_window_is_built_ends_with_code_1(tmp_path: Path) -> None:
    code, err, log = run_broken_wizard(
        tmp_path,
        """
        import wizard.ui.app

        def broken(*args, **kwargs):
            raise RuntimeError("a bug while building the window")

        wizard.ui.app.TrainingController = broken
        """,
    )
    assert code == 1, err
    assert "QThread: Destroyed while thread" not in err
    assert "Traceback" not in err
    assert "stopped after an unexpected error (RuntimeError: a bug while building" in err
    assert "checkpoint-wizard.log" in err
    assert "Traceback" in log
    assert "RuntimeError: a bug while building the window" in log


def test_an_error_after_the_window_closed_ends_with_code_1(tmp_path: Path) -> None:
    code, err, log = run_broken_wizard(
        tmp_path,
        """
        from PySide6.QtCore import QTimer
        import wizard.ui.app

        shown = wizard.ui.app.MainWindow.show

        def show_then_quit(self):
            shown(self)
            QTimer.singleShot(300, wizard.ui.app.QApplication.quit)

        def broken_exec(self):
            raise RuntimeError("a bug in the event loop")

        wizard.ui.app.MainWindow.show = show_then_quit
        wizard.ui.app.QApplication.exec = broken_exec
        """,
    )
    assert code == 1, err
    assert "QThread: Destroyed while thread" not in err
    assert "Traceback" not in err
    assert "RuntimeError: a bug in the event loop" in log


def test_an_error_in_a_slot_is_logged_and_the_wizard_carries_on(tmp_path: Path) -> None:
    code, err, log = run_broken_wizard(
        tmp_path,
        """
        from PySide6.QtCore import QTimer
        import wizard.ui.app

        shown = wizard.ui.app.MainWindow.show

        def boom():
            raise RuntimeError("a bug in a slot")

        def show_then_quit(self):
            shown(self)
            QTimer.singleShot(100, boom)
            QTimer.singleShot(600, self.close)

        wizard.ui.app.MainWindow.show = show_then_quit
        """,
    )
    assert code == 0, err
    assert "Traceback" not in err
    assert "unexpected error (RuntimeError: a bug in a slot)" in err
    assert "RuntimeError: a bug in a slot" in log
    assert "Traceback" in log


def test_a_call_that_never_returns_does_not_abort_the_exit(tmp_path: Path) -> None:
    """The worker gives up waiting for a stuck call after its bound; the process still exits
    with its own code instead of Qt's abort."""
    code, err, log = run_broken_wizard(
        tmp_path,
        """
        import threading
        from PySide6.QtCore import QTimer
        import wizard.ui.app
        import wizard.ui.worker

        stop = wizard.ui.worker.SessionWorker.stop

        def quick_stop(self, timeout_ms=15000, *, cancel_pending=True):
            stop(self, 300, cancel_pending=cancel_pending)  # a shorter bound, for the test

        shown = wizard.ui.app.MainWindow.show

        def show_then_hang_then_close(self):
            shown(self)
            self.ctx.worker.submit(threading.Event().wait, description="a call that hangs")
            QTimer.singleShot(600, self.close)

        wizard.ui.worker.SessionWorker.stop = quick_stop
        wizard.ui.app.MainWindow.show = show_then_hang_then_close
        """,
    )
    assert code == 0, err
    assert "QThread: Destroyed while thread" not in err
    assert "worker thread(s) still running" in log
