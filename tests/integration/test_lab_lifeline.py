"""The lab never outlives whoever started it, however that process ends.

Each test starts a real parent process (the wizard's window in training mode, ``checkpoint-wizard
lab`` or ``checkpoint-wizard check --scenario``), waits until the real lab it started answers,
sends the parent a real signal and measures how long the lab takes to end. The lab holds the read
end of a pipe whose write end only its parent has: when the parent dies, however it dies, the pipe
closes and the lab stops cleanly (it removes its datastore folder, which the tests check). On
Linux the lab also asks the kernel for a signal when its parent dies, which covers a write end
that a forked child inherited.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.lab import lab_binary_for_tests, wizard_process_env
from wizard.lab.scenario import bundled_scenarios_dir

pytestmark = [
    pytest.mark.lab,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc, sends signals"),
]

REPO = Path(__file__).resolve().parents[2]
SCENARIO = bundled_scenarios_dir() / "dual-screen-win7.json"
VM = "HD-W7-042"
LAB_COMM = "checkpoint-lab"
END_WITHIN_S = 5.0
START_WITHIN_S = 60.0
ENDED: dict[str, float] = {}  # test id -> seconds from the parent's death to the lab's end


# --------------------------------------------------------------------------- /proc helpers


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, or None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def ended(pid: int) -> bool:
    """Gone, or a zombie that only waits for whoever adopted it to collect it."""
    stat = _stat(pid)
    return stat is None or stat[0] in ("Z", "X")


def lab_children(parent: int) -> list[int]:
    """The lab processes whose parent is ``parent``."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is None or stat[1] != parent or stat[0] == "Z":
            continue
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip() == LAB_COMM:
                found.append(pid)
    return found


def listening(pid: int) -> bool:
    """Whether the process holds a listening TCP socket (the lab answers once it does)."""
    try:
        sockets = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    except OSError:
        return False
    for table in ("tcp", "tcp6"):
        try:
            lines = Path(f"/proc/{pid}/net/{table}").read_text(encoding="ascii").splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and f"socket:[{cols[9]}]" in sockets:  # 0A: LISTEN
                return True
    return False


def wait_for(what: str, condition: object, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            err = proc.communicate()[1]
            pytest.fail(f"the parent ended (code {proc.returncode}) before {what}: {err!r}")
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s")
        time.sleep(0.005)


def the_lab_of(proc: subprocess.Popen[bytes], *, stop_parent: bool = False) -> int:
    """Wait for the parent's lab process; ``stop_parent`` freezes the parent the moment the lab
    appears (a ``check`` would otherwise be done before a signal could reach it)."""
    found: list[int] = []

    def appeared() -> bool:
        found[:] = lab_children(proc.pid)
        return bool(found)

    wait_for("lab process", appeared, START_WITHIN_S, proc)
    if stop_parent:
        proc.send_signal(signal.SIGSTOP)
    pid = found[0]
    wait_for("listening lab", lambda: listening(pid) or ended(pid), START_WITHIN_S, proc)
    assert not ended(pid), "the lab ended before it answered"
    return pid


def seconds_until_ended(pid: int, timeout: float = 30.0) -> float:
    start = time.monotonic()
    while not ended(pid):
        if time.monotonic() - start > timeout:
            os.kill(pid, signal.SIGKILL)  # leave nothing behind, then fail
            pytest.fail(f"the lab (pid {pid}) still ran {timeout:.0f} s after its parent died")
        time.sleep(0.001)
    return time.monotonic() - start


# --------------------------------------------------------------------------- parents


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The parent's environment: hermetic folders, the test lab, its own temporary folder."""
    return wizard_process_env(tmp_path)


def lab_leftovers(env: dict[str, str]) -> list[str]:
    """What labs left in the temporary folder (a lab that stopped cleanly leaves nothing)."""
    return [n for n in os.listdir(env["TMPDIR"]) if n.startswith("checkpoint-lab-")]


@contextlib.contextmanager
def parent(args: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wizard", *args],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def read_line(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            pytest.fail(f"no line on stdout within {timeout:.0f} s")
    return proc.stdout.readline()


SIGNALS = [signal.SIGTERM, signal.SIGKILL, signal.SIGHUP]


def _kill_and_time(
    proc: subprocess.Popen[bytes], lab: int, sig: signal.Signals, name: str, *, cont: bool = False
) -> float:
    proc.send_signal(sig)
    if cont:
        proc.send_signal(signal.SIGCONT)
    seconds = seconds_until_ended(lab)
    ENDED[name] = seconds
    return seconds


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_gui_in_training_mode(env: dict[str, str], sig: signal.Signals) -> None:
    with parent(["--training", str(SCENARIO)], env) as proc:
        lab = the_lab_of(proc)
        took = _kill_and_time(proc, lab, sig, f"gui-{sig.name}")
        proc.wait(30)
    assert took < END_WITHIN_S, f"the lab ended {took:.2f} s after the window's process"
    assert lab_leftovers(env) == []


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_lab_command(env: dict[str, str], sig: signal.Signals) -> None:
    with parent(["lab", "--scenario", str(SCENARIO)], env) as proc:
        line = read_line(proc, START_WITHIN_S)
        assert line.startswith(b'{"url": "https://127.0.0.1:')
        ready = json.loads(line)
        # What a trainer needs for --trust-fingerprint and --trust-ca-fingerprint.
        assert len(ready["ca_thumbprint_sha256"]) == len(ready["thumbprint_sha256"]) == 95
        assert ready["ca_thumbprint_sha256"] != ready["thumbprint_sha256"]
        lab = the_lab_of(proc)
        took = _kill_and_time(proc, lab, sig, f"lab-{sig.name}")
        code = proc.wait(30)
        err = proc.communicate()[1].decode()
    assert took < END_WITHIN_S, f"the lab ended {took:.2f} s after `lab`"
    if sig != signal.SIGKILL:
        assert code == 128 + sig, err
        assert "Traceback" not in err
        assert "stopped" in err
    assert lab_leftovers(env) == []


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: s.name)
def test_check_with_a_scenario(env: dict[str, str], sig: signal.Signals) -> None:
    with parent(["check", "--scenario", str(SCENARIO), "--vm", VM], env) as proc:
        lab = the_lab_of(proc, stop_parent=True)
        took = _kill_and_time(proc, lab, sig, f"check-{sig.name}", cont=True)
        code = proc.wait(30)
        err = proc.communicate()[1].decode()
    assert took < END_WITHIN_S, f"the lab ended {took:.2f} s after `check`"
    if sig != signal.SIGKILL:
        assert code == 128 + sig, err
        assert "Traceback" not in err
        assert "stopped" in err
    assert lab_leftovers(env) == []


def test_a_write_end_inherited_by_a_forked_child_does_not_keep_the_lab(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A child forked without exec keeps every descriptor, the pipe's write end too: the pipe
    then never closes, and only the kernel's parent-death signal can end the lab."""
    script = tmp_path / "fork_and_wait.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, sys, time
            from pathlib import Path
            from wizard.lab.process import LabProcess
            lab = LabProcess(Path({str(SCENARIO)!r}))
            lab.start()
            if os.fork() == 0:  # keeps the write end of the lab's pipe, outlives the parent
                time.sleep(120)
                os._exit(0)
            print(lab.pid, flush=True)
            time.sleep(120)
            """
        ),
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, cwd=REPO, stdout=subprocess.PIPE
    )
    forked: list[int] = []
    try:
        lab = int(read_line(proc, START_WITHIN_S))
        forked = [pid for pid in _children(proc.pid) if pid != lab]
        assert forked, "the forked child is missing"
        proc.kill()
        proc.wait(30)
        took = seconds_until_ended(lab)
        ENDED["forked-child-holds-pipe"] = took
        assert took < END_WITHIN_S
        assert lab_leftovers(env) == []
    finally:
        for pid in forked:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid:
                out.append(int(entry.name))
    return out


def test_a_lab_started_from_a_thread_outlives_the_thread(tmp_path: Path) -> None:
    """The kernel's parent-death signal follows the thread that started the lab: the lab must
    not take a thread's end (the GUI starts it from a worker thread) for its parent's."""
    import threading

    from wizard.lab.process import LabProcess

    lab = LabProcess(SCENARIO, binary=lab_binary_for_tests())
    starter = threading.Thread(target=lab.start)
    starter.start()
    starter.join(START_WITHIN_S)
    try:
        assert lab.pid is not None
        time.sleep(1.0)
        assert lab.returncode is None, lab.stderr_tail
        assert listening(lab.pid)
    finally:
        assert lab.stop() == 0


def test_training_mode_opens_despite_a_named_pipe_in_the_scenarios_folder(
    env: dict[str, str],
) -> None:
    """The picker reads the trainer's folder before the window appears: a named pipe there,
    named like a scenario, used to keep it waiting for a writer forever."""
    folder = Path(env["CHECKPOINT_WIZARD_BASEDIR"]) / "data" / "scenarios"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "stuck.json")
    with parent(["--training", str(SCENARIO)], env) as proc:
        lab = the_lab_of(proc)  # the window is up: it started the lab
        took = _kill_and_time(proc, lab, signal.SIGTERM, "gui-SIGTERM-with-a-pipe-in-the-folder")
    assert took < END_WITHIN_S


def test_report_how_fast_labs_end() -> None:
    """Print the figures (run with -s); the other tests assert the bound."""
    for name, seconds in sorted(ENDED.items()):
        print(f"lab ended {seconds * 1000:7.1f} ms after its parent: {name}")


def test_a_lab_whose_starter_closed_its_output_still_removes_its_folder(
    env: dict[str, str],
) -> None:
    """A starter that dies while the lab starts closes the lab's stdout before the ready line is
    written. The write used to end the lab by SIGPIPE, before it removed its datastore folder."""
    proc = subprocess.Popen(
        [env["CHECKPOINT_WIZARD_LAB_BIN"], "--scenario", str(SCENARIO), "--exit-with-parent"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdout.close()  # nobody reads the ready line
    try:
        # The ready line is written once the lab answers; the lab's port answers HTTPS by then.
        wait_for("listening lab", lambda: listening(proc.pid), START_WITHIN_S, proc)
        time.sleep(1.0)  # let it write (and fail to write) its ready line
        proc.stdin.close()
        code = proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    assert code == 0, f"the lab ended with {code} (a negative code is the signal that ended it)"
    assert lab_leftovers(env) == []
