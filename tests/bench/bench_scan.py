"""``check --all``: the facts of every VM from bulk reads, then the verdict and fixes of each.

``collect_all_facts`` + ``kb.assess`` + ``kb.remedies`` per VM, what ``check --all`` runs before
it prints; wall time and round trips. And ``check --all`` itself from the command line, end to
end (process start, login, read, judge, output written to a file, logout), with ``--json`` and
as text: seconds and the size of what it wrote.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.bench.common import PYTHON, REPO, Lab, RoundTrips, median, session
from wizard.kb import assess, remedies
from wizard.vsphere.facts import collect_all_facts
from wizard.vsphere.session import Session


def scan(s: Session) -> tuple[int, float, float]:
    """(VMs judged, seconds reading, seconds judging)."""
    start = time.perf_counter()
    everything = collect_all_facts(s)
    read = time.perf_counter() - start
    for facts in everything:
        remedies(assess(facts), facts)
    return len(everything), read, time.perf_counter() - start - read


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
            with counter.counting() as calls:
                count, read, judge = scan(s)
                if number == 0:
                    trips = dict(calls)
            assert count == lab.size, (count, lab.size)
            totals.append(read + judge)
            reads.append(read)
            judges.append(judge)
    as_json = [command_line(lab, "--json") for _ in range(runs)]
    as_text = [command_line(lab) for _ in range(runs)]
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
