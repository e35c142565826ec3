"""Pytest helpers to run the training lab and talk to it with plain pyVmomi.

``shared_lab`` is one lab per test session for the rich test scenario (read-only checks);
``start_lab`` starts a fresh lab for a scenario (a dict or a path) for tests that change
things. The lab is built once into a cache that outlives the test session (``build/test-cache``
or ``CHECKPOINT_WIZARD_TEST_CACHE``), so hermetic base folders do not rebuild it every run.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import ssl
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from pyVim import connect as _connect
from pyVim import task as _task
from pyVmomi import VmomiSupport as _VmomiSupport
from pyVmomi import vim as _vim
from pyVmomi import vmodl as _vmodl
from pyVmomi.SoapAdapter import SoapStubAdapter as _SoapStubAdapter

from wizard.lab.binary import ENV_BINARY, LabUnavailable, build_lab_binary
from wizard.lab.process import LabInfo, LabProcess

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "tests" / "integration" / "scenarios"
RICH_SCENARIO = SCENARIOS / "lab-rich.json"

StartLab = Callable[..., LabInfo]

# pyVmomi builds its types at run time: typed as Any here, once, for every lab test.
vim: Any = _vim
vmodl: Any = _vmodl
WaitForTask: Any = _task.WaitForTask
SmartConnect: Any = _connect.SmartConnect
Disconnect: Any = _connect.Disconnect
SoapStubAdapter: Any = _SoapStubAdapter
VmomiSupport: Any = _VmomiSupport


def lab_binary_for_tests() -> Path:
    """Return the lab binary, building it into the test cache; skip when it cannot be built."""
    env = os.environ.get(ENV_BINARY)
    if env:
        return Path(env)
    cache = Path(os.environ.get("CHECKPOINT_WIZARD_TEST_CACHE", REPO / "build" / "test-cache"))
    try:
        return build_lab_binary(cache_dir=cache)
    except LabUnavailable as exc:
        pytest.skip(str(exc))


def wizard_process_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the wizard run as a process of its own: its data folder
    (``tmp_path/base``) and temporary folder (``tmp_path/temp``, made here), the tests' lab, no
    screen, and this checkout on the Python path."""
    temp = tmp_path / "temp"
    temp.mkdir(exist_ok=True)
    return {
        **os.environ,
        "CHECKPOINT_WIZARD_BASEDIR": str(tmp_path / "base"),
        "CHECKPOINT_WIZARD_LAB_BIN": str(lab_binary_for_tests()),
        "TMPDIR": str(temp),
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": str(REPO),
    }


def load_scenario(path: Path = RICH_SCENARIO) -> dict[str, Any]:
    """Read a scenario file as a dict."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def scenario_vm(name: str, host: str = "esx-a1.lab.local", **overrides: Any) -> dict[str, Any]:
    """A scenario's VM: a powered-on dual-screen Windows 7 VM on HW 8 with Tools, unless overridden.

    Each call builds a fresh dict, so a test may change what it gets.
    """
    vm: dict[str, Any] = {
        "name": name,
        "host": host,
        "hardware_version": "vmx-08",
        "guest_id": "windows7_64Guest",
        "tools_guest_id": "windows7_64Guest",
        "tools_running": True,
        "power_state": "poweredOn",
        "screen": [1920, 1200],
        "video": {"displays": 2, "vram_kb": 32768, "auto_detect": False, "enable_3d": False},
        "extra_config": {},
        "upgrade_policy": {"policy": "onSoftPowerOff", "version": "vmx-08"},
        "history": {"failed_vmotion": False},
    }
    vm.update(overrides)
    return vm


def write_scenario(data: Mapping[str, Any], directory: Path, name: str = "scenario.json") -> Path:
    """Write a scenario dict to ``directory/name`` and return the path."""
    path = directory / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def pinned_ssl_context(info: LabInfo) -> ssl.SSLContext:
    """Return a context that trusts exactly the lab's certificate.

    The certificate is fetched without verification, then accepted only if its SHA-256
    fingerprint is the one the lab announced on its ready line: the trust-on-first-use way the
    product pins a vCenter (``wizard.vsphere.tls``).
    """
    pem = ssl.get_server_certificate((info.host, info.port))
    der = ssl.PEM_cert_to_DER_cert(pem)
    digest = hashlib.sha256(der).hexdigest().upper()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    if fingerprint != info.thumbprint_sha256:
        raise ssl.SSLError(f"lab certificate {fingerprint} is not {info.thumbprint_sha256}")
    context = ssl.create_default_context(cadata=pem)
    context.check_hostname = False
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    return context


def cli_login(info: LabInfo, *, user: str | None = None) -> list[str]:
    """The command line's options that sign in to the lab as its user (or ``user``), with the
    password on stdin and the lab's certificate trusted by its fingerprint."""
    return [
        "--vcenter",
        f"{info.host}:{info.port}",
        "--user",
        user or info.user,
        "--password-stdin",
        "--trust-fingerprint",
        info.thumbprint_sha256,
    ]


@contextlib.contextmanager
def connect(info: LabInfo, user: str | None = None, password: str | None = None) -> Iterator[Any]:
    """Log in to the lab with pyVmomi (the scenario's login unless given) and log out after."""
    si = SmartConnect(
        host=info.host,
        port=info.port,
        user=info.user if user is None else user,
        pwd=info.password if password is None else password,
        sslContext=pinned_ssl_context(info),
    )
    try:
        yield si
    finally:
        Disconnect(si)


def vm_of(si: Any, name: str) -> Any:
    """A VM by name through a plain pyVmomi login."""
    content = si.RetrieveContent()
    view = content.viewManager.CreateContainerView(content.rootFolder, [vim.VirtualMachine], True)
    try:
        return next(vm for vm in view.view if vm.name == name)
    finally:
        view.Destroy()


def try_login(info: LabInfo, user: str, password: str) -> None:
    """Log in and out once on a stub of its own, closed even when the login fails.

    SmartConnect leaves its socket open when the login raises, which strict pytest reports as
    a ResourceWarning.
    """
    stub = SoapStubAdapter(
        host=info.host,
        port=info.port,
        version=VmomiSupport.newestVersions.Get("vim"),
        sslContext=pinned_ssl_context(info),
    )
    try:
        content = vim.ServiceInstance("ServiceInstance", stub).RetrieveContent()
        content.sessionManager.Login(user, password)
        content.sessionManager.Logout()
    finally:
        stub.DropConnections()


@contextlib.contextmanager
def running_lab(
    scenario: Mapping[str, Any] | Path,
    directory: Path,
    binary: Path | None = None,
    **options: Any,
) -> Iterator[LabProcess]:
    """Run a lab for a scenario dict (written to ``directory``) or file until the block ends."""
    path = scenario if isinstance(scenario, Path) else write_scenario(scenario, directory)
    lab = LabProcess(path, binary=binary or lab_binary_for_tests(), **options)
    with lab:
        yield lab


def fresh_labs(
    scenario: Mapping[str, Any] | Path, binary: Path, tmp: Path, prefix: str
) -> Callable[[], contextlib.AbstractContextManager[tuple[LabInfo, Path]]]:
    """Each call of the result runs a new lab in a folder of its own under ``tmp``
    (``prefix`` and a number), and yields its connection details and that folder."""
    made = 0

    @contextlib.contextmanager
    def fresh() -> Iterator[tuple[LabInfo, Path]]:
        nonlocal made
        made += 1
        directory = tmp / f"{prefix}{made}"
        directory.mkdir()
        with running_lab(scenario, directory, binary) as lab:
            yield lab.info, directory

    return fresh


@pytest.fixture(scope="session")
def lab_binary_path() -> Path:
    """The lab binary, built once per cache."""
    return lab_binary_for_tests()


@pytest.fixture(scope="session")
def shared_lab(lab_binary_path: Path) -> Iterator[LabInfo]:
    """One lab for the rich test scenario, shared by the session: do not change it."""
    with running_lab(RICH_SCENARIO, RICH_SCENARIO.parent, binary=lab_binary_path) as lab:
        yield lab.info


@pytest.fixture
def start_lab(lab_binary_path: Path, tmp_path: Path) -> Iterator[StartLab]:
    """Return a function that starts a fresh lab for a scenario; all stop after the test."""
    count = 0
    with contextlib.ExitStack() as stack:

        def start(scenario: Mapping[str, Any] | Path | None = None, **options: Any) -> LabInfo:
            nonlocal count
            count += 1
            directory = tmp_path / f"lab{count}"
            directory.mkdir()
            lab = stack.enter_context(
                running_lab(scenario or RICH_SCENARIO, directory, lab_binary_path, **options)
            )
            return lab.info

        yield start
