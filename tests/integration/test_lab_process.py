"""The lab's command line: ready line, bad scenarios, clean stop, certificates, delays."""

from __future__ import annotations

import contextlib
import copy
import gc
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lab import RICH_SCENARIO, connect, load_scenario, running_lab, write_scenario
from wizard.lab.process import LabError, LabInfo, LabProcess
from wizard.lab.scenario import MAX_FILLER_VMS

pytestmark = pytest.mark.lab


def broken(change: Any) -> dict[str, Any]:
    scenario = load_scenario(RICH_SCENARIO)
    change(scenario)
    return scenario


def _set(path: list[Any], value: Any) -> Any:
    def change(scenario: dict[str, Any]) -> None:
        target: Any = scenario
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list[Any]) -> Any:
    def change(scenario: dict[str, Any]) -> None:
        target: Any = scenario
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD_SCENARIOS = [
    (
        _set(["vms", 0, "hardware_version"], 8),
        'vms[0].hardware_version: expected a string like "vmx-08"',
    ),
    (_set(["vms", 1, "colour"], "blue"), "vms[1].colour: unknown field"),
    (_delete(["clusters", 0, "hosts", 1, "sse41"]), "clusters[0].hosts[1].sse41: missing"),
    (_set(["format"], 2), "format: expected 1"),
    (_set(["vms", 2, "host"], "esx-z9"), 'vms[2].host: no host "esx-z9" in clusters'),
    (_set(["vms", 0, "video", "displays"], "2"), "vms[0].video.displays: expected a whole number"),
    (
        _set(["users", 0, "role"], "root"),
        "users[0].role: expected one of admin, read-only, no-power",
    ),
    (_set(["vms", 0, "screen"], [1920]), "vms[0].screen: expected [width, height] or null"),
    (
        _set(["vms", 2, "tools_running"], True),
        "vms[2].tools_running: is true for a VM that is poweredOff",
    ),
    (
        _set(["expect", "ghost"], {"verdict": "affected", "recommended": None}),
        'expect["ghost"]: no VM of that name',
    ),
    (
        _set(["vms", 0, "extra_config", "mks.enable3d"], True),
        'vms[0].extra_config["mks.enable3d"]: expected a string',
    ),
    (_set(["filler_vms"], -1), "filler_vms: expected a whole number from 0 to 20000"),
]


def _lab_on(binary: Path, scenario: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Run the lab binary on ``scenario`` to its end (a bad scenario ends it at once)."""
    return subprocess.run(
        [str(binary), "--scenario", str(scenario)],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary folder the lab gets (its datastore lives there), one of the test's own."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


@pytest.mark.parametrize(("change", "message"), BAD_SCENARIOS)
def test_bad_scenario_exits_2_naming_the_field(
    lab_binary_path: Path, tmp_path: Path, change: Any, message: str
) -> None:
    path = write_scenario(broken(change), tmp_path)
    result = _lab_on(lab_binary_path, path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("scenario error: " + message), lines[0]


def test_bad_json_and_missing_file_are_scenario_errors(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    (tmp_path / "bad.json").write_text('{"format": 1,', encoding="utf-8")
    for path in [tmp_path / "bad.json", tmp_path / "missing.json"]:
        result = _lab_on(lab_binary_path, path)
        assert result.returncode == 2
        assert result.stderr.startswith("scenario error: ")


def test_lab_process_raises_with_the_labs_message(lab_binary_path: Path, tmp_path: Path) -> None:
    path = write_scenario(broken(_set(["vms", 0, "power_state"], "on")), tmp_path)
    lab = LabProcess(path, binary=lab_binary_path)
    with pytest.raises(LabError, match=r"code 2: scenario error: vms\[0\]\.power_state"):
        lab.start()
    assert lab.returncode == 2


def test_sigterm_leaves_no_process_and_no_files(lab_binary_path: Path, temp: Path) -> None:
    lab = LabProcess(RICH_SCENARIO, binary=lab_binary_path)
    info = lab.start()
    assert info.url == f"https://127.0.0.1:{info.port}/sdk"
    assert info.user == "helpdesk@lab.local"
    assert os.listdir(temp)  # the datastore lives there while the lab runs
    pid = lab.pid
    with connect(info) as si:
        si.RetrieveContent()
        assert lab.stop() == 0
    assert os.listdir(temp) == []
    assert pid is not None
    if sys.platform != "win32":
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_certificate_files_are_made_once_and_kept(lab_binary_path: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "tls" / "lab.pem", tmp_path / "tls" / "lab.key"
    with running_lab(RICH_SCENARIO, tmp_path, lab_binary_path, cert_file=cert, key_file=key) as lab:
        first = lab.info.thumbprint_sha256
    assert cert.is_file()
    assert key.is_file()
    with running_lab(RICH_SCENARIO, tmp_path, lab_binary_path, cert_file=cert, key_file=key) as lab:
        assert lab.info.thumbprint_sha256 == first
        with connect(lab.info) as si:
            assert si.RetrieveContent().about.apiType == "VirtualCenter"
    with running_lab(RICH_SCENARIO, tmp_path, lab_binary_path) as lab:
        assert lab.info.thumbprint_sha256 != first


def test_port_filler_and_delays(lab_binary_path: Path, tmp_path: Path) -> None:
    scenario = copy.deepcopy(load_scenario(RICH_SCENARIO))
    with running_lab(
        scenario,
        tmp_path,
        lab_binary_path,
        filler_vms=7,
        method_delays={"CurrentTime": 300},
    ) as lab:
        with connect(lab.info) as si:
            content = si.RetrieveContent()
            view = content.viewManager.CreateContainerView(content.rootFolder, [], True)
            names = [o.name for o in view.view if o.name.startswith("filler-")]
            view.DestroyView()
            assert len(names) == 7
            start = time.monotonic()
            si.CurrentTime()
            assert time.monotonic() - start >= 0.3
        port = lab.info.port
    with running_lab(scenario, tmp_path, lab_binary_path, port=port) as again:
        assert again.info.port == port


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_next_start_removes_what_a_killed_lab_left(
    lab_binary_path: Path, tmp_path: Path, temp: Path
) -> None:
    killed = LabProcess(RICH_SCENARIO, binary=lab_binary_path)
    killed.start()
    assert killed.pid is not None
    os.kill(killed.pid, signal.SIGKILL)
    killed.stop()
    assert os.listdir(temp)  # a killed lab cannot clean up
    with running_lab(RICH_SCENARIO, tmp_path, lab_binary_path):
        pass
    assert os.listdir(temp) == []


@pytest.mark.skipif(sys.platform == "win32", reason="checks the pid with a POSIX signal")
def test_a_forgotten_lab_is_stopped_by_the_safety_net(lab_binary_path: Path) -> None:
    lab = LabProcess(RICH_SCENARIO, binary=lab_binary_path)
    lab.start()
    pid = lab.pid
    assert pid is not None
    del lab
    gc.collect()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes in the file system")
def test_a_named_pipe_as_the_scenario_is_refused_at_once(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    pipe = tmp_path / "scenario.json"
    os.mkfifo(pipe)
    try:
        result = _lab_on(lab_binary_path, pipe, timeout=10)
    finally:
        with contextlib.suppress(OSError):  # a reader still waiting on it is let go
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert result.returncode == 2
    assert result.stderr == (
        f"scenario error: (file): {pipe} is a named pipe (FIFO), not a regular file\n"
    )


def _start_building(binary: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    """A lab busy building 20,000 filler VMs (half a minute and more), with its lifeline."""
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [
            str(binary),
            "--scenario",
            str(RICH_SCENARIO),
            "--filler-vms",
            "20000",
            "--exit-with-parent",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not any(n.startswith("checkpoint-lab-") for n in os.listdir(tmp_path)):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the lab never started building"
        time.sleep(0.01)
    time.sleep(0.5)
    return proc


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is POSIX")
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGINT", "stdin closed"])
def test_a_stop_while_building_ends_the_lab_at_once_and_cleanly(
    lab_binary_path: Path, tmp_path: Path, how: str
) -> None:
    proc = _start_building(lab_binary_path, tmp_path)
    start = time.monotonic()
    if how != "stdin closed":  # communicate() closes it
        proc.send_signal(getattr(signal, how))
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    took = time.monotonic() - start
    assert proc.returncode == 0, err
    assert out == b""  # never ready
    assert took < 3.0, f"{how}: {took:.1f} s"
    assert os.listdir(tmp_path) == []


def test_the_lab_stops_when_its_lifeline_closes(lab_binary_path: Path, tmp_path: Path) -> None:
    env = dict(os.environ, TMPDIR=str(tmp_path))
    proc = subprocess.Popen(
        [str(lab_binary_path), "--scenario", str(RICH_SCENARIO), "--exit-with-parent"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    assert LabInfo.from_ready_line(proc.stdout.readline().decode()).port > 0
    start = time.monotonic()
    err = proc.communicate(timeout=30)[1]  # closes its stdin
    assert proc.returncode == 0, err
    assert time.monotonic() - start < 3.0
    assert os.listdir(tmp_path) == []


def test_without_the_option_a_closed_stdin_does_not_stop_the_lab(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    """Run by hand or from a service (stdin at /dev/null), the lab keeps running."""
    proc = subprocess.Popen(
        [str(lab_binary_path), "--scenario", str(RICH_SCENARIO)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith(b'{"url"')
        time.sleep(0.5)
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_filler_vms_beyond_the_scenario_cap_are_refused_before_starting() -> None:
    for count in (-1, MAX_FILLER_VMS + 1, 100_000):
        with pytest.raises(ValueError, match=f"from 0 to {MAX_FILLER_VMS}"):
            LabProcess(RICH_SCENARIO, filler_vms=count)
