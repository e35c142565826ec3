"""What ``check --all`` prints: a count, one line a VM with the ones to act on first."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers.facts import make_facts
from tests.unit.kb.test_properties import any_facts
from wizard.check_text import (
    Judged,
    check_report,
    scan_asks_privileges,
    scan_judge,
    scan_report,
)
from wizard.kb import assess, remedies
from wizard.kb.facts import VmFacts
from wizard.kb.model import Privilege, Verdict
from wizard.kb.serialize import assessment_summary_json


def _scan(*, as_json: bool = False, detail: bool = False) -> str:
    vms = [
        make_facts(name="app-01", moref="vm-1", guest_id="rhel7_64Guest", tools_guest_id=None),
        make_facts(name="HD-W7-042", moref="vm-42"),
    ]
    return check_report(vms, scan=True, as_json=as_json, detail=detail, version="1.2.3")


def test_the_text_scan_lists_the_affected_vm_first_and_details_only_it() -> None:
    text = _scan()
    lines = text.splitlines()
    assert lines[0] == "2 VMs on vc01.lab.local:443: 1 affected, 1 not affected"
    assert lines[2].split() == ["Affected", "raise_buffer", "HD-W7-042", "(vm-42)"]
    assert lines[3].split() == ["Not", "affected", "-", "app-01", "(vm-1)"]
    assert text.count("Workarounds") == 1  # the full check of the affected VM only
    assert _scan(detail=True).count("Workarounds") == 2


def test_the_json_scan_is_in_brief_unless_detail_is_asked() -> None:
    brief = json.loads(_scan(as_json=True))
    full = json.loads(_scan(as_json=True, detail=True))
    assert [d["scope"] for d in brief] == ["summary", "summary"]
    assert [d["scope"] for d in full] == ["full", "full"]
    assert [d["verdict"] for d in brief] == [d["verdict"] for d in full]
    # In brief the VM that needs nothing (app-01, first by name) lists no fixes; in full it
    # has all four.
    assert [len(d["remedies"]) for d in brief] == [0, 4]
    assert [len(d["remedies"]) for d in full] == [4, 4]


@settings(max_examples=150, deadline=None)
@given(st.lists(any_facts(), min_size=1, max_size=6))
def test_the_json_scan_in_brief_leaves_out_only_the_fixes_of_vms_that_need_none(
    vms: list[VmFacts],
) -> None:
    vms = [replace(f, moref=f"vm-{i}") for i, f in enumerate(vms)]
    judged = [scan_judge(as_json=True, detail=False, version="1")(f) for f in vms]
    brief = json.loads(scan_report(judged, as_json=True, detail=False))
    for doc, facts in zip(brief, vms, strict=True):
        assessment = assess(facts)
        every = assessment_summary_json(assessment, remedies(assessment, facts), facts, "1")
        if assessment.verdict in (Verdict.NOT_AFFECTED, Verdict.MITIGATED):
            assert not any(r["recommended"] for r in every["remedies"])
            every["remedies"] = []
        assert doc == json.loads(json.dumps(every))


@settings(max_examples=150, deadline=None)
@given(st.lists(any_facts(), min_size=1, max_size=6), st.booleans())
def test_the_text_scan_says_what_the_full_judging_says(vms: list[VmFacts], detail: bool) -> None:
    # The text scan leaves out the remedies of a VM that needs nothing: what it prints must be
    # what it prints with every VM's remedies worked out.
    vms = [replace(f, moref=f"vm-{i}") for i, f in enumerate(vms)]
    judged = [scan_judge(as_json=False, detail=detail, version="1")(f) for f in vms]
    full = [
        Judged(f, assess(f), remedies(assess(f), f), "")  # every remedy, as before
        for f in vms
    ]
    assert scan_report(judged, as_json=False, detail=detail) == scan_report(
        full, as_json=False, detail=detail
    )


@settings(max_examples=200, deadline=None)
@given(any_facts(), st.lists(st.tuples(st.sampled_from(list(Privilege)), st.booleans())))
def test_a_brief_scan_asks_privileges_for_the_vms_that_need_a_fix_whatever_they_are(
    facts: VmFacts, held: list[tuple[Privilege, bool]]
) -> None:
    # The scan judges each VM first with no privileges read, and reads them for the VMs that
    # need a fix: what it keeps of the others must be what it would say with them read.
    asks = scan_asks_privileges(detail=False)
    assert asks is not None
    without = replace(facts, privileges=())
    with_them = replace(facts, privileges=tuple((p.value, on) for p, on in held))
    for as_json in (False, True):
        judge = scan_judge(as_json=as_json, detail=False, version="1")
        first, final = judge(without), judge(with_them)
        assert first.assessment == final.assessment
        needs_fix = final.assessment.verdict not in (Verdict.NOT_AFFECTED, Verdict.MITIGATED)
        assert asks(first) is asks(final) is needs_fix
        if not needs_fix:
            assert (first.remedies, first.json_line) == (final.remedies, final.json_line)
    assert scan_asks_privileges(detail=True) is None  # in full every VM's are read first
