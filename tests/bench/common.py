"""What the benchmarks share: labs of a given size, round-trip counting, medians, the Go peer.

Not a test module: ``tests/bench`` holds benchmarks (``bench_*.py``, ``run.py``) that pytest does
not collect, and one smoke test (``test_bench_smoke.py``) that runs them at the smallest size.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import hashlib
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.lab import lab_binary_for_tests
from tests.helpers.vsphere_lab import FAILED_VM, session_to, write_scenario
from wizard.lab.process import LabInfo, LabProcess
from wizard.vsphere.session import Session

REPO = Path(__file__).resolve().parents[2]
PYTHON = REPO / ".venv" / "bin" / "python"
BENCH_CACHE = REPO / "build" / "bench"
GO_SOURCE = Path(__file__).resolve().parent / "goclient"
TICKET_VM = FAILED_VM
"""The VM named in the benchmark's ticket (one of the scenario's three named VMs)."""
NAMED_VMS = 3
"""VMs of ``tests/helpers/vsphere_lab.write_scenario``; filler VMs make up the rest."""

_SOAP_METHOD = re.compile(rb"<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)")


def scratch_data_folder(prefix: str) -> Path:
    """A data folder of the product's own (pins, settings, journal) for this process, removed
    when the process ends: a benchmark run leaves nothing in the temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def median(values: list[float]) -> float:
    """The median, rounded to the millisecond."""
    return round(statistics.median(values), 3)


def timed(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    """Run ``fn`` ``runs`` times; the wall times in seconds and the last result."""
    seconds: list[float] = []
    result: object = None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        seconds.append(time.perf_counter() - start)
    return seconds, result


class RoundTrips:
    """Counts SOAP requests on the wire, by method (pyVmomi's and the lean reader's alike)."""

    def __init__(self) -> None:
        self.calls: collections.Counter[str] = collections.Counter()

    @contextlib.contextmanager
    def counting(self) -> Iterator[collections.Counter[str]]:
        """Count every SOAP POST sent inside the block."""
        original = http.client.HTTPConnection.request
        calls = self.calls
        calls.clear()

        def request(conn: Any, method: str, url: str, body: Any = None, *a: Any, **k: Any) -> Any:
            data = body.encode() if isinstance(body, str) else body
            found = _SOAP_METHOD.search(data) if isinstance(data, bytes) else None
            if method == "POST" and found:
                calls[found.group(1).decode()] += 1
            return original(conn, method, url, body, *a, **k)

        setattr(http.client.HTTPConnection, "request", request)  # noqa: B010 (typed as Any)
        try:
            yield calls
        finally:
            setattr(http.client.HTTPConnection, "request", original)  # noqa: B010


@dataclass
class Lab:
    """A running lab of ``size`` VMs."""

    size: int
    info: LabInfo
    process: LabProcess
    started_s: float


@contextlib.contextmanager
def lab_of(size: int, *, delay_ms: int = 0) -> Iterator[Lab]:
    """The test scenario (two clusters, odd names, one failed vMotion) padded to ``size`` VMs.

    ``delay_ms``: the latency the lab adds to every call.
    """
    binary = lab_binary_for_tests()
    with tempfile.TemporaryDirectory(prefix="bench-lab-") as tmp:
        path = write_scenario(Path(tmp), filler_vms=size - NAMED_VMS)
        process = LabProcess(path, binary=binary, delay_ms=delay_ms)
        start = time.perf_counter()
        with process:
            yield Lab(size, process.info, process, time.perf_counter() - start)


def session(lab: Lab) -> contextlib.AbstractContextManager[Session]:
    """A logged-in session to the lab (generous timeout: 10,000 VMs on a busy machine)."""
    return session_to(lab.info, timeout=300.0)


def go_client() -> Path | None:
    """The Go peer, built with the lab's toolchain into ``build/bench`` (None without Go)."""
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(GO_SOURCE.glob("*.go"))))
    binary = BENCH_CACHE / f"goclient-{digest.hexdigest()[:16]}"
    if binary.is_file():
        return binary
    BENCH_CACHE.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOCACHE": str(REPO / "build" / "test-cache" / "lab" / "gocache"),
    }
    try:
        subprocess.run(
            ["go", "build", "-o", str(binary), "."],
            cwd=GO_SOURCE,
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return binary


def run_go_client(binary: Path, info: LabInfo, runs: int) -> dict[str, Any]:
    """The Go peer's figures for the lab (it logs in once, then times ``runs`` reads)."""
    out = subprocess.run(
        [str(binary), "-url", info.url, "-user", info.user, "-runs", str(runs)],
        env={**os.environ, "GOCLIENT_PASSWORD": info.password},
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def child_json(args: list[str], *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a Python child of the benchmarks and read the one JSON line it prints last."""
    out = subprocess.run(
        [str(PYTHON), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    result: dict[str, Any] = json.loads(lines[-1])
    return result
