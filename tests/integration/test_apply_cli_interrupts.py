"""Ctrl-C and a VM left off, on the command line, as a technician's hands would do it.

The command line runs as a real process; Ctrl-C is a real SIGINT sent when its progress lines
show the step we want; the lab is the real SOAP endpoint.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.helpers.apply import SCENARIO, check, journal_in, read
from tests.helpers.apply import start_cli as start_lab_cli
from tests.helpers.lab import StartLab
from tests.helpers.vsphere_lab import session_to
from wizard.kb import RemedyId
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.results import ApplyRequest, StepUpdate

pytestmark = [pytest.mark.lab, pytest.mark.slow]

KEY = "migrate.baseCptCacheSize"
APPLY = ("apply", "--vm", "Dual W7", "--remedy", "raise_buffer", "--allow-shutdown", "--yes")


def start_cli(basedir: Path, lab: LabInfo, *args: str) -> subprocess.Popen[str]:
    proc = start_lab_cli(basedir, lab, *args)
    assert proc.stdin is not None
    proc.stdin.write(lab.password + "\n")
    proc.stdin.close()
    proc.stdin = None  # given: communicate() must not flush it again
    return proc


def interrupt_when(proc: subprocess.Popen[str], seen: str) -> tuple[int, str, str]:
    """Send Ctrl-C (SIGINT) once a progress line contains ``seen``; return code, out, err."""
    assert proc.stderr is not None
    assert proc.stdout is not None
    err = ""
    while seen not in err:
        line = proc.stderr.readline()
        assert line, f"the run ended before {seen!r}:\n{err}"
        err += line
    proc.send_signal(signal.SIGINT)
    out, rest = proc.communicate(timeout=120)
    return proc.returncode, out, err + rest


def test_ctrl_c_during_the_shutdown_stops_after_it_and_gives_the_vm_back(
    start_lab: StartLab, tmp_path: Path
) -> None:
    lab = start_lab(SCENARIO)
    code, out, err = interrupt_when(start_cli(tmp_path, lab, *APPLY), "shutdown: running")
    assert "stopping after the shutdown" in err
    assert "Traceback" not in err
    assert out.startswith("CANCELLED: "), out
    assert "powered on again" in out
    assert "nothing was changed" not in err.lower().split("ctrl-c")[0]
    assert code == 5
    with session_to(lab) as session:
        now = read(session, "Dual W7")
        assert now.power_state == "poweredOn"
        assert now.extra(KEY) is None  # noqa: S610 (VmFacts.extra)
    assert not journal_in(tmp_path / "data").read().dangling


def test_ctrl_c_after_the_change_finishes_it_and_says_so(
    start_lab: StartLab, tmp_path: Path
) -> None:
    # vCenter is slow to power on, so the Ctrl-C lands while the run is finishing.
    lab = start_lab(SCENARIO, method_delays={"PowerOnVM_Task": 2000})
    code, out, err = interrupt_when(start_cli(tmp_path, lab, *APPLY), "reconfigure: done")
    assert "too late to stop" in err
    assert "nothing was changed" not in (out + err).lower()
    assert out.startswith("APPLIED: "), out
    assert code == 0
    with session_to(lab) as session:
        now = read(session, "Dual W7")
        assert now.power_state == "poweredOn"
        assert now.extra(KEY) == "24117248"  # noqa: S610 (VmFacts.extra)
    assert not journal_in(tmp_path / "data").read().dangling


class Killed(BaseException):
    """The process dies at this point: nothing after it runs."""


def test_power_on_starts_a_vm_a_killed_run_left_off(start_lab: StartLab, tmp_path: Path) -> None:
    lab = start_lab(SCENARIO)
    journal = journal_in(tmp_path / "data")

    def die_before_power_on(update: StepUpdate) -> None:
        if update.step == "power_on" and update.state == "running":
            raise Killed

    with session_to(lab) as session:
        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        with pytest.raises(Killed):
            Executor(session, journal, on_progress=die_before_power_on).apply(
                ApplyRequest(facts, remedy, allow_shutdown=True, shutdown_timeout=10.0)
            )
        assert read(session, "Dual W7").power_state == "poweredOff"
    (entry,) = journal.read().entries

    proc = start_cli(tmp_path, lab, "power-on", entry.id, "--yes")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    assert "Traceback" not in err
    assert out.startswith("APPLIED: "), out
    assert "powered on again" in out
    with session_to(lab) as session:
        assert read(session, "Dual W7").power_state == "poweredOn"
    # Its own run settled the killed one first.
    assert not journal.read().dangling
