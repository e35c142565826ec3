"""``checkpoint-wizard tour`` with a VM the scenario does not have: a message and exit 4.

The real program runs in a child process (the tour opens the wizard offscreen and starts the
scenario's lab itself), as a trainer would run it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.terminal import cli_env
from wizard import cli
from wizard.lab.binary import ENV_BINARY

pytestmark = [pytest.mark.lab, pytest.mark.slow]


@pytest.mark.parametrize("scale", ["1", "1.5"])
def test_tour_with_an_unknown_vm_says_so_and_exits_4(
    tmp_path: Path, lab_binary_path: Path, scale: str
) -> None:
    out_dir = tmp_path / "shots"
    env = cli_env(tmp_path / "base", QT_QPA_PLATFORM="offscreen")
    env[ENV_BINARY] = str(lab_binary_path)
    args = ["tour", "--scenario", "dual-screen-win7", "--vm", "HD-W7-999"]
    args += ["--out", str(out_dir), "--scale", scale]
    proc = subprocess.run(
        [sys.executable, "-m", "wizard", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert proc.returncode == cli.EXIT_NOT_FOUND, proc.stderr
    assert "Traceback" not in proc.stderr
    # Qt's offscreen platform may say a line of its own first; ours is the last one.
    message = proc.stderr.strip().splitlines()[-1]
    assert message.startswith("checkpoint-wizard: ")
    assert "HD-W7-999" in message
    assert "HD-W7-042" in message  # a close match the wizard offered
    assert "--vm" in message
    assert proc.stdout == ""
