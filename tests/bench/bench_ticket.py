"""One VM from a ticket: from the name typed to the verdict shown, with its round trips.

``resolve_vm`` (the name as typed) + ``collect_facts`` + ``kb.assess`` + ``kb.remedies``, the
path of the Choose VM and Check pages and of ``check --vm``.
"""

from __future__ import annotations

from typing import Any

from tests.bench.common import TICKET_VM, Lab, RoundTrips, median, session, timed
from wizard.kb import assess, remedies
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.session import Session


def verdict(s: Session, name: str) -> str:
    """The verdict for the VM the ticket names."""
    facts = collect_facts(s, resolve_vm(s, name).moref)
    assessment = assess(facts)
    remedies(assessment, facts)
    return str(assessment.verdict)


def run(lab: Lab, runs: int) -> dict[str, Any]:
    """The figures for one lab."""
    counter = RoundTrips()
    with session(lab) as s:
        verdict(s, TICKET_VM)  # warm up
        with counter.counting() as calls:
            found = verdict(s, TICKET_VM)
            trips = dict(calls)
        seconds, _ = timed(lambda: verdict(s, TICKET_VM), runs)
    return {
        "vms": lab.size,
        "ticket_s": median(seconds),
        "ticket_runs_s": [round(x, 3) for x in seconds],
        "ticket_round_trips": sum(trips.values()),
        "ticket_requests": trips,
        "verdict": found,
    }
