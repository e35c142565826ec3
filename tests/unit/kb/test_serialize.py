"""The JSON of ``check --json`` keeps its stable contract: the ids scripts rely on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from tests.helpers.facts import make_evidence, make_facts, with_extra
from wizard.kb import assess, remedies
from wizard.kb.facts import VmFacts
from wizard.kb.serialize import assessment_to_json, to_json_text

VERDICTS = {"confirmed", "affected", "mitigated", "at_risk", "possibly_affected", "not_affected"}
CONDITIONS = ["C1_display", "C2_wddm", "C3_hw8", "C4_3d_off"]
REMEDIES = {"lower_resolution", "stay_on_hw7", "raise_buffer", "enable_3d"}
CAVEATS = {
    "power_off_required",
    "user_loses_resolution",
    "not_durable",
    "estimate_beyond_article",
    "overhead_256mb",
    "ha_admission_control",
    "cpu_without_sse41",
    "resolution_above_3d_max",
    "downgrade_not_in_place",
    "tools_needed",
}


def check(facts: VmFacts) -> dict[str, Any]:
    result = assess(facts)
    return assessment_to_json(result, remedies(result, facts), facts, "1.2.3")


def test_vm_identity_verdict_and_tool_version() -> None:
    data = check(make_facts())
    assert data["vm"] == {
        "name": "HD-W7-042",
        "moref": "vm-42",
        "instance_uuid": "5003a1b2-0000-0000-0000-000000000042",
        "vcenter": "vc01.lab.local:443",
    }
    assert data["verdict"] == "affected"
    assert data["verdict"] in VERDICTS
    assert data["tool_version"] == "1.2.3"


def test_conditions_carry_id_state_value_source_detail() -> None:
    conditions = check(make_facts())["conditions"]
    assert [c["id"] for c in conditions] == CONDITIONS
    for condition in conditions:
        assert condition["state"] in {"met", "not_met", "unknown"}
        assert {"value", "source", "detail"} <= condition.keys()
    assert conditions[0]["source"] == "guest.screen; config.hardware.device[500].numDisplays"


def test_remedies_carry_the_contract_fields() -> None:
    items = check(make_facts())["remedies"]
    assert {r["id"] for r in items} == REMEDIES
    assert sum(r["recommended"] for r in items) == 1
    for remedy in items:
        assert {
            "available",
            "why_not",
            "recommended",
            "needs_power_off",
            "missing_privileges",
            "changes",
            "caveats",
        } <= remedy.keys()
        for caveat in remedy["caveats"]:
            assert caveat["id"] in CAVEATS
            assert isinstance(caveat["applies"], bool)
            assert caveat["detail"]


def test_changes_use_from_and_to_with_values_as_vcenter_stores_them() -> None:
    raise_buffer = next(r for r in check(make_facts())["remedies"] if r["id"] == "raise_buffer")
    assert raise_buffer["changes"] == [
        {
            "target": "extraConfig",
            "key": "migrate.baseCptCacheSize",
            "from": None,
            "to": "24117248",
        }
    ]


def test_unavailable_remedy_says_why() -> None:
    stay = next(r for r in check(make_facts())["remedies"] if r["id"] == "stay_on_hw7")
    assert stay["available"] is False
    assert "snapshot" in stay["why_not"]


def test_no_recommendation_for_a_mitigated_vm() -> None:
    data = check(with_extra(make_facts(), cpt="33554432"))
    assert data["verdict"] == "mitigated"
    assert not any(r["recommended"] for r in data["remedies"])


def test_evidence_is_listed_with_its_time() -> None:
    item = make_evidence()
    stamped = type(item)(
        item.kind, item.source, item.signature, item.text, datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    )
    data = check(make_facts(evidence=(stamped,)))
    assert data["verdict"] == "confirmed"
    assert data["evidence"] == [
        {
            "kind": "event",
            "source": "event 4711 (VmFailedMigrateEvent)",
            "signature": "Failed to flush checkpoint data",
            "text": "A general system error occurred: Failed to flush checkpoint data!",
            "time": "2024-05-01T09:30:00+00:00",
        }
    ]


def test_json_text_round_trips() -> None:
    facts = make_facts()
    result = assess(facts)
    text = to_json_text(result, remedies(result, facts), facts, "1.2.3")
    assert text.endswith("\n")
    assert json.loads(text) == check(facts)


def test_the_scan_summary_keeps_every_id_of_the_full_form_in_a_fraction_of_its_size() -> None:
    from wizard.kb.serialize import assessment_summary_json

    facts = make_facts()
    result = assess(facts)
    found = remedies(result, facts)
    full = assessment_to_json(result, found, facts, "1.2.3")
    brief = assessment_summary_json(result, found, facts, "1.2.3")
    assert (full["scope"], brief["scope"]) == ("full", "summary")
    for key in ("vm", "verdict", "reason", "required_cpt_cache_bytes"):
        assert brief[key] == full[key], key
    assert [(c["id"], c["state"], c["value"]) for c in brief["conditions"]] == [
        (c["id"], c["state"], c["value"]) for c in full["conditions"]
    ]
    for b, f in zip(brief["remedies"], full["remedies"], strict=True):
        for key in ("id", "available", "recommended", "missing_privileges", "changes"):
            assert b[key] == f[key], key
        assert b["caveats"] == [{"id": c["id"], "applies": c["applies"]} for c in f["caveats"]]
    assert len(json.dumps(brief)) * 2 < len(json.dumps(full))


def test_a_scan_is_one_json_array_with_one_vm_a_line() -> None:
    from wizard.kb.serialize import json_array_text

    docs = [check(make_facts()), check(with_extra(make_facts(), cpt="16777216"))]
    text = json_array_text(docs)
    assert json.loads(text) == docs
    assert len(text.splitlines()) == 4  # "[", a line each, "]"
    assert json.loads(json_array_text([])) == []
