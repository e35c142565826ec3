"""Labs for the integration tests of ``wizard.vsphere``: a scenario written for the test, run.

The scenarios are written here rather than taken from ``resources/scenarios`` so that each test
states exactly the inventory it asserts against (odd names, one failed vMotion, filler VMs).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.lab import scenario_vm
from tests.helpers.lab import write_scenario as write_scenario_file
from wizard.lab.binary import LabUnavailable
from wizard.lab.process import LabInfo, LabProcess
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy

USER = "helpdesk@lab.local"
PASSWORD = "Helpdesk-Lab-1"

ODD_NAME = "Büro-PC 7/2 50%"
FAILED_VM = "HD-W7-042"


def write_scenario(directory: Path, *, filler_vms: int = 0) -> Path:
    """A small inventory: two clusters, odd names, one VM with a failed vMotion."""
    scenario = {
        "format": 1,
        "id": "vsphere-gateway-test",
        "title": "Gateway test inventory",
        "briefing": "Written by tests/helpers/vsphere_lab.py.",
        "login": {"user": USER, "password": PASSWORD},
        "users": [{"user": "viewer@lab.local", "password": "Viewer-Lab-1", "role": "read-only"}],
        "filler_vms": filler_vms,
        "clusters": [
            {
                "name": "Cluster-A",
                "ha": {"enabled": True, "admission_control": True},
                "hosts": [
                    {
                        "name": "esx-a1.lab.local",
                        "cpu_model": "Intel Xeon E5-2680 v2",
                        "sse41": True,
                    },
                    {
                        "name": "esx-a2.lab.local",
                        "cpu_model": "Intel Core 2 Duo E6850",
                        "sse41": False,
                    },
                ],
            },
            {
                "name": "Cluster B/2",
                "ha": {"enabled": False, "admission_control": False},
                "hosts": [
                    {"name": "esx-b1.lab.local", "cpu_model": "AMD EPYC 7302", "sse41": True}
                ],
            },
        ],
        "vms": [
            scenario_vm(FAILED_VM, "esx-a1.lab.local", history={"failed_vmotion": True}),
            scenario_vm(
                ODD_NAME,
                "esx-b1.lab.local",
                guest_id="windows7Guest",
                tools_guest_id=None,
                tools_running=False,
                power_state="poweredOff",
                screen=None,
                extra_config={"migrate.baseCptCacheSize": "16777216"},
            ),
            scenario_vm(
                "linux-web 01",
                "esx-a2.lab.local",
                hardware_version="vmx-13",
                guest_id="rhel7_64Guest",
                tools_guest_id="rhel7_64Guest",
                video={"displays": 1, "vram_kb": 4096, "auto_detect": False, "enable_3d": False},
                upgrade_policy={"policy": "never", "version": "vmx-13"},
            ),
        ],
        "expect": {},
    }
    directory.mkdir(parents=True, exist_ok=True)
    return write_scenario_file(scenario, directory)


@contextlib.contextmanager
def running_lab(scenario: Path, **options: Any) -> Iterator[LabInfo]:
    """Run the lab on ``scenario``; skip the test when the lab cannot be built here."""
    try:
        lab = LabProcess(scenario, **options)
        lab.start()
    except LabUnavailable as exc:
        pytest.skip(f"the training lab is unavailable: {exc}")
    try:
        yield lab.info
    finally:
        lab.stop()


def endpoint(info: LabInfo, port: int | None = None) -> Endpoint:
    """The lab's address, or that of a fault proxy on ``port`` in front of it."""
    return Endpoint(info.host, port if port is not None else info.port)


def trusting(info: LabInfo) -> TrustPolicy:
    """A policy that accepts the lab's certificate, as ``--trust-fingerprint`` would."""
    return TrustPolicy(MemoryPinStore(), expected_fingerprint=info.thumbprint_sha256)


@contextlib.contextmanager
def session_to(
    info: LabInfo,
    *,
    port: int | None = None,
    user: str | None = None,
    password: str | None = None,
    timeout: float = 5.0,
) -> Iterator[Session]:
    """The product's session to the lab, closed afterwards.

    ``port`` goes through a proxy in front of the lab; ``user`` and ``password`` log in as
    someone other than the scenario's login.
    """
    with Session.connect(
        endpoint(info, port),
        user or info.user,
        password if password is not None else info.password,
        trust=trusting(info),
        timeout=timeout,
    ) as s:
        yield s
