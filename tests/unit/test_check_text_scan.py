"""What ``check --all`` prints: a count, one line a VM with the ones to act on first."""

from __future__ import annotations

import json

from tests.helpers.facts import make_facts
from wizard.check_text import check_report


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
