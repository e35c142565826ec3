"""Run the real command line on a pseudo-terminal, answer its prompts, and read what it shows.

The command line asks for passwords with ``getpass`` (which reads the controlling terminal,
not standard input) and for consent with ``input``. To type at those prompts, including Ctrl-D,
the child gets a pseudo-terminal as its controlling terminal: it starts a session of its own and
claims the terminal (``TIOCSCTTY``) before the command line runs. No ``fork`` in the test
process: the lab fixtures run threads, and forking a threaded process may deadlock.
"""

from __future__ import annotations

import contextlib
import os
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

CTRL_D = b"\x04"
"""End of input at the start of a line (the terminal's EOF character)."""

needs_terminal = pytest.mark.skipif(
    sys.platform == "win32", reason="needs a POSIX pseudo-terminal (pty)"
)
"""Mark a test that uses :func:`run_on_terminal`."""

_LAUNCH = (
    "import fcntl, runpy, sys, termios; "
    "fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "sys.argv = ['checkpoint-wizard', *sys.argv[1:]]; "
    "runpy.run_module('wizard', run_name='__main__', alter_sys=True)"
)


def cli_env(basedir: Path, **extra: str) -> dict[str, str]:
    """An environment for the child: its own files under ``basedir``, no OS keyring, no screen."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["CHECKPOINT_WIZARD_BASEDIR"] = str(basedir)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.update(extra)
    return env


def run_on_terminal(
    args: Sequence[str],
    answers: Sequence[tuple[str, bytes]],
    *,
    env: Mapping[str, str],
    timeout: float = 60.0,
) -> tuple[int, str]:
    """Run ``checkpoint-wizard ARGS`` on a terminal; when a prompt shows, type its answer.

    Args:
        args: the command line after the program name.
        answers: (text of the prompt, bytes to type) in the order the prompts come.
        env: the child's environment (see :func:`cli_env`).
        timeout: seconds for the whole run.

    Returns:
        The exit code and everything the terminal showed (standard output and error together,
        with the echo of what was typed).

    Raises:
        AssertionError: the run took longer than ``timeout`` (the child is killed), or it ended
            before every prompt was answered.
    """
    import pty  # POSIX only: imported here so that Windows can still collect the tests

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=dict(env),
        start_new_session=True,
        close_fds=True,
    )
    os.close(slave)
    shown = b""
    answered_up_to = 0
    pending = list(answers)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if pending and pending[0][0].encode() in shown[answered_up_to:]:
                answered_up_to = len(shown)
                os.write(master, pending.pop(0)[1])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                proc.kill()
                proc.wait()
                raise AssertionError(f"still running after {timeout:g} s; it showed:\n{shown!r}")
            ready, _, _ = select.select([master], [], [], min(remaining, 0.5))
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed its end of the terminal
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        if proc.returncode is None:
            proc.kill()
            proc.wait()
    text = shown.decode("utf-8", errors="replace")
    assert not pending, f"the prompt {pending[0][0]!r} never came; it showed:\n{text}"
    return proc.returncode, text
