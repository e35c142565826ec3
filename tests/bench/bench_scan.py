"""``check --all``: the facts of every VM from bulk reads, then the verdict and fixes of each.

``collect_all_facts`` + ``kb.assess`` + ``kb.remedies`` per VM, what ``check --all`` runs before
it prints; wall time and round trips.
"""

from __future__ import annotations

import time
from typing import Any

from tests.bench.common import Lab, RoundTrips, median, session
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
    return {
        "vms": lab.size,
        "scan_s": median(totals),
        "scan_runs_s": [round(x, 3) for x in totals],
        "scan_read_s": median(reads),
        "scan_judge_s": median(judges),
        "scan_round_trips": sum(trips.values()),
        "scan_requests": trips,
    }
