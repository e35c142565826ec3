"""An exam that is killed leaves its cases' temporary folder; the next exam removes it.

Real ``checkpoint-wizard training exam`` processes (offscreen window) are started, killed with
SIGKILL (nothing of theirs runs after it), and a later one is started in the same temporary
folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wizard.lab.exam import EXAM_TEMP_PREFIX
from wizard.lab.stale import make_owned_temp_dir, remove_stale_temp_dirs

REPO = Path(__file__).resolve().parents[2]
START_WITHIN_S = 60.0

pytestmark = pytest.mark.skipif(
    sys.platform == "win32", reason="sends SIGKILL, which Windows does not have"
)


def _exam_folders(temp: Path, pid: int) -> list[Path]:
    return sorted(temp.glob(f"{EXAM_TEMP_PREFIX}{pid}-*"))


def _start_exam(tmp_path: Path, temp: Path) -> subprocess.Popen[bytes]:
    key = tmp_path / "key.txt"
    key.write_text("a session key only the trainer knows\n", encoding="utf-8")
    env = dict(os.environ)
    env.update(
        {
            "TMPDIR": str(temp),
            "QT_QPA_PLATFORM": "offscreen",
            "CHECKPOINT_WIZARD_BASEDIR": str(tmp_path / "base"),
            "PYTHONPATH": str(REPO),
        }
    )
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wizard",
            "training",
            "exam",
            "--cases",
            "dual-screen-win7,seed:42:beginner",
            "--results",
            str(tmp_path / "results"),
            "--key-file",
            str(key),
        ],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for_cases(proc: subprocess.Popen[bytes], temp: Path) -> Path:
    """The exam's own folder, once both cases are written into it."""
    deadline = time.monotonic() + START_WITHIN_S
    while True:
        found = _exam_folders(temp, proc.pid)
        if found and len(list(found[0].iterdir())) == 2:
            return found[0]
        if proc.poll() is not None:
            err = proc.communicate()[1].decode(errors="replace")
            pytest.fail(f"the exam ended (code {proc.returncode}) before its cases: {err}")
        if time.monotonic() > deadline:
            pytest.fail(f"no exam folder within {START_WITHIN_S:.0f} s")
        time.sleep(0.05)


def test_a_killed_exams_folder_is_removed_by_the_next_exam(tmp_path: Path) -> None:
    temp = tmp_path / "temp"
    temp.mkdir()
    first = _start_exam(tmp_path, temp)
    try:
        left = _wait_for_cases(first, temp)
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=30)
    assert left.is_dir(), "a killed exam cannot remove its folder"

    second = _start_exam(tmp_path, temp)
    try:
        own = _wait_for_cases(second, temp)
        assert not left.exists(), f"{left} of the killed exam is still there"
        assert own.is_dir()
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            second.kill()
            second.communicate(timeout=30)


def test_folders_of_running_processes_and_other_names_are_kept(tmp_path: Path) -> None:
    """Only folders of processes that are gone go: a running exam's, this process's own and
    anything not named ``PREFIX<pid>-…`` stay."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait(30)
    try:
        running = tmp_path / f"{EXAM_TEMP_PREFIX}{sleeper.pid}-abc"
        dead = tmp_path / f"{EXAM_TEMP_PREFIX}{gone.pid}-abc"
        odd = tmp_path / f"{EXAM_TEMP_PREFIX}notapid-abc"
        other = tmp_path / f"something-else-{gone.pid}-abc"
        for folder in (running, dead, odd, other):
            folder.mkdir()
            (folder / "case.json").write_text("{}", encoding="utf-8")
        own = make_owned_temp_dir(EXAM_TEMP_PREFIX, tmp_path)
        assert own.name.startswith(f"{EXAM_TEMP_PREFIX}{os.getpid()}-")
        assert not dead.exists()
        assert running.is_dir()
        assert odd.is_dir()
        assert other.is_dir()
        assert remove_stale_temp_dirs(EXAM_TEMP_PREFIX, tmp_path) == []
        assert own.is_dir()
    finally:
        sleeper.kill()
        sleeper.wait(30)
