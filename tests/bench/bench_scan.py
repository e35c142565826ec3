"""``check --all``: the facts of every VM from bulk reads, then the verdict and fixes of each.

``scan_all`` with ``check --all --json``'s judging, what it runs before it prints (each page
judged while the next is on its way); the facts read alone beside it; wall time and round
trips. ``scan_judge_s`` is what the scan takes beyond the facts read alone. And ``check
--all`` itself from the command line, end to end (process start, login, read, judge, output
written to a file, logout), with ``--json`` and as text: seconds and the size of what it wrote.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.common import PYTHON, REPO, Lab, RoundTrips, median, session
from wizard.check_text import scan_asks_privileges, scan_judge, scan_report
from wizard.vsphere.facts import collect_all_facts, scan_all
from wizard.vsphere.session import Session


def scan(s: Session) -> tuple[int, float, float]:
    """(VMs judged, seconds reading the facts alone, seconds of the scan as ``check --all
    --json`` runs it: each page judged and written while the next is on its way)."""
    start = time.perf_counter()
    everything = collect_all_facts(s)
    read = time.perf_counter() - start
    start = time.perf_counter()
    judged = scan_all(
        s,
        scan_judge(as_json=True, detail=False, version="bench"),
        asks_privileges=scan_asks_privileges(detail=False),
    )
    scan_report(judged, as_json=True, detail=False)
    whole = time.perf_counter() - start
    assert len(judged) == len(everything)
    return len(everything), read, whole


def command_line(lab: Lab, *options: str) -> tuple[float, int]:
    """``check --all OPTIONS`` end to end: (seconds, bytes written)."""
    info = lab.info
    with tempfile.TemporaryDirectory(prefix="bench-scan-") as tmp:
        out = Path(tmp) / "out"
        start = time.perf_counter()
        with out.open("wb") as sink:
            subprocess.run(
                [
                    str(PYTHON), "-m", "wizard", "check", "--vcenter",
                    f"{info.host}:{info.port}", "--user", info.user, "--password-stdin",
                    "--trust-fingerprint", info.thumbprint_sha256, "--all", *options,
                ],
                input=(info.password + "\n").encode(),
                stdout=sink,
                stderr=subprocess.PIPE,
                cwd=REPO,
                env=dict(os.environ),
                check=True,
                timeout=600,
            )  # fmt: skip
        return time.perf_counter() - start, out.stat().st_size


def run(lab: Lab, runs: int) -> dict[str, Any]:
    """The figures for one lab."""
    counter = RoundTrips()
    totals: list[float] = []
    reads: list[float] = []
    judges: list[float] = []
    trips: dict[str, int] = {}
    with session(lab) as s:
        for number in range(runs):
            count, read, whole = scan(s)
            if number == 0:
                with counter.counting() as calls:
                    scan_all(
                        s,
                        scan_judge(as_json=True, detail=False, version="bench"),
                        asks_privileges=scan_asks_privileges(detail=False),
                    )
                trips = dict(calls)
            assert count == lab.size, (count, lab.size)
            totals.append(whole)
            reads.append(read)
            judges.append(max(0.0, whole - read))
    as_json: list[tuple[float, int]] = []
    as_text: list[tuple[float, int]] = []
    for _ in range(runs):  # in turn: a machine slowing down during the runs weighs on both alike
        as_json.append(command_line(lab, "--json"))
        as_text.append(command_line(lab))
    return {
        "vms": lab.size,
        "cli_json_s": median([r[0] for r in as_json]),
        "cli_json_bytes": as_json[-1][1],
        "cli_text_s": median([r[0] for r in as_text]),
        "cli_text_bytes": as_text[-1][1],
        "scan_s": median(totals),
        "scan_runs_s": [round(x, 3) for x in totals],
        "scan_read_s": median(reads),
        "scan_judge_s": median(judges),
        "scan_round_trips": sum(trips.values()),
        "scan_requests": trips,
    }
