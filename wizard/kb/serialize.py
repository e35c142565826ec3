"""The stable machine-readable form of a check: the contract of ``check --json``.

``assessment_to_json`` builds the plain dict that ``python -m wizard check --json`` prints. The
ids in it (verdicts, conditions, remedies, caveats) are the enum values of ``wizard.kb.model``;
scripts rely on them. Extra-config and device values stay strings, as vCenter stores them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from wizard.kb.facts import EvidenceItem, VmFacts
from wizard.kb.model import Assessment, Caveat, Condition, Remedy
from wizard.kb.plan import change_to_json

FORMAT = 1
"""Version of this JSON layout; fields are only ever added."""


def assessment_to_json(
    assessment: Assessment, remedies: Sequence[Remedy], facts: VmFacts, version: str
) -> dict[str, Any]:
    """The check of one VM as plain JSON-ready data.

    Args:
        assessment: ``assess(facts)``.
        remedies: ``remedies(assessment, facts)``, in the order to show.
        facts: the facts both were made from (for the VM's identity).
        version: this tool's version.

    Returns:
        A dict of str, int, bool, None, lists and dicts only.
    """
    return {
        **_head("full", assessment, facts, version),
        "conditions": [_condition(c) for c in assessment.conditions],
        "mitigations": list(assessment.mitigations),
        "required_cpt_cache_bytes": assessment.required_cpt_cache_bytes,
        "notes": list(assessment.notes),
        "remedies": [_remedy(r) for r in remedies],
        "evidence": [_evidence(e) for e in assessment.evidence],
    }


def assessment_summary_json(
    assessment: Assessment, remedies: Sequence[Remedy], facts: VmFacts, version: str
) -> dict[str, Any]:
    """A VM's check in brief, for a risk scan of thousands of VMs (``check --all --json``).

    The same keys as :func:`assessment_to_json` with the same ids, without its prose: each
    condition keeps its id, state, value and source (not ``detail``, ``why_it_matters``),
    each remedy its id, availability, recommendation, power-off need, missing privileges,
    changes and whether each caveat applies (not its texts and steps), each evidence item its
    kind, signature and time.
    ``"scope": "summary"`` says so; ``check --all --detail`` gives the full form, which says
    ``"scope": "full"``. A scan passes no remedies for a VM that needs none
    (:func:`wizard.check_text.scan_judge`): its ``"remedies"`` is then empty.
    """
    return {
        **_head("summary", assessment, facts, version),
        "conditions": [
            {"id": c.id.value, "state": c.state.value, "value": c.value, "source": c.source}
            for c in assessment.conditions
        ],
        "required_cpt_cache_bytes": assessment.required_cpt_cache_bytes,
        "remedies": [
            {
                "id": r.id.value,
                "available": r.available,
                "recommended": r.recommended,
                "needs_power_off": r.needs_power_off,
                "missing_privileges": list(r.missing_privileges),
                "changes": [change_to_json(c) for c in r.changes],
                "caveats": [{"id": c.id.value, "applies": c.applies} for c in r.caveats],
            }
            for r in remedies
        ],
        "evidence": [
            {
                "kind": e.kind.value,
                "signature": e.signature,
                "time": e.time.isoformat() if e.time is not None else None,
            }
            for e in assessment.evidence
        ],
    }


def json_array_text(docs: Iterable[dict[str, Any]]) -> str:
    """A JSON array with one document a line: fast to write and to read, easy to grep."""
    return json_lines_array([json_line(d) for d in docs])


_ONE_LINE = json.JSONEncoder(ensure_ascii=False).encode


def json_line(doc: dict[str, Any]) -> str:
    """``doc`` as one line of JSON, encoded by the standard library's C encoder (an indented
    dump runs its pure-Python encoder, about fifty times slower for a scan of 10,000 VMs; one
    encoder for every line spares building one per line)."""
    return _ONE_LINE(doc)


def json_lines_array(lines: Sequence[str]) -> str:
    """The JSON array of documents already encoded by :func:`json_line`, one a line."""
    return "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"


def to_json_text(
    assessment: Assessment, remedies: Sequence[Remedy], facts: VmFacts, version: str
) -> str:
    """``assessment_to_json`` as indented JSON text, ending with a newline."""
    data = assessment_to_json(assessment, remedies, facts, version)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _head(scope: str, assessment: Assessment, facts: VmFacts, version: str) -> dict[str, Any]:
    """What the full and the summary form both begin with: the layout, the VM, the verdict."""
    return {
        "format": FORMAT,
        "tool_version": version,
        "scope": scope,
        "vm": {
            "name": facts.name,
            "moref": facts.moref,
            "instance_uuid": facts.instance_uuid,
            "vcenter": facts.vcenter,
        },
        "verdict": assessment.verdict.value,
        "reason": assessment.reason,
    }


def _condition(condition: Condition) -> dict[str, Any]:
    return {
        "id": condition.id.value,
        "state": condition.state.value,
        "value": condition.value,
        "source": condition.source,
        "detail": condition.detail,
        "why_it_matters": condition.why_it_matters,
    }


def _remedy(remedy: Remedy) -> dict[str, Any]:
    return {
        "id": remedy.id.value,
        "title": remedy.title,
        "available": remedy.available,
        "why_not": remedy.why_not,
        "recommended": remedy.recommended,
        "reason": remedy.reason,
        "variant": remedy.variant,
        "needs_power_off": remedy.needs_power_off,
        "required_privileges": list(remedy.required_privileges),
        "missing_privileges": list(remedy.missing_privileges),
        "changes": [change_to_json(c) for c in remedy.changes],
        "caveats": [_caveat(c) for c in remedy.caveats],
        "manual_steps": list(remedy.manual_steps),
    }


def _caveat(caveat: Caveat) -> dict[str, Any]:
    return {"id": caveat.id.value, "applies": caveat.applies, "detail": caveat.detail}


def _evidence(item: EvidenceItem) -> dict[str, Any]:
    return {
        "kind": item.kind.value,
        "source": item.source,
        "signature": item.signature,
        "text": item.text,
        "time": item.time.isoformat() if item.time is not None else None,
    }
