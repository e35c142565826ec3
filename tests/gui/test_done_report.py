"""The report's HTML and the ticket note, from plain data (no window)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.gui.fakes import confirmed_facts
from tests.helpers.facts import make_evidence
from wizard.kb import assess, remedies
from wizard.kb.model import ARTICLE_ID
from wizard.kb.plan import verify
from wizard.ui.report import ReportData, StepLine, default_report_name, e, report_html
from wizard.ui.ticket import UndoNote, ticket_note, vmotion_line
from wizard.vsphere.records import MigrationOutcome

NASTY = "<script>alert('x')</script> & \"Co\""
MESSAGE = "A general system error occurred: Failed to flush checkpoint data!"
T0 = datetime(2024, 5, 2, 15, 30, tzinfo=UTC)


def vmotion_test(
    succeeded: bool,
    message: str,
    task_id: str,
    source_host: str,
    destination_host: str,
    duration_s: float,
    finished_at: datetime | None,
) -> MigrationOutcome:
    """A vMotion test as ``wizard.vsphere.migrate`` reports one."""
    return MigrationOutcome(
        succeeded,
        message,
        task_id,
        NASTY,
        source_host,
        destination_host,
        duration_s,
        finished_at=finished_at,
    )


def _data(**overrides: object) -> ReportData:
    evidence = replace(make_evidence(), text=f"failed for {NASTY}", time=T0)
    facts = replace(confirmed_facts(), name=NASTY, evidence=(evidence,))
    assessment = assess(facts)
    remedy = next(r for r in remedies(assessment, facts) if r.recommended)
    after = replace(
        facts,
        evidence=(),
        extra_config=tuple((c.key, c.after or "") for c in remedy.changes),
    )
    data = ReportData(
        facts=facts,
        assessment=assessment,
        vcenter="vc01.lab.local:443",
        user="helpdesk@lab.local",
        when=T0,
        remedy=remedy,
        applied=True,
        result_message="Done; verified.",
        changes=remedy.changes,
        steps=(StepLine("Change the VM's settings", "done", "Reconfigured", "task-12"),),
        verified=True,
        checks=verify(remedy.changes, after),
        verdict_after=assess(after).verdict,
        journal_id="j-0001",
        task_ids=("task-12",),
        vmotion=(
            vmotion_test(False, MESSAGE, "task-9", "esx-a1", "esx-a2", 0.5, T0),
            vmotion_test(True, "moved", "task-14", "esx-a1", "esx-a2", 1.25, T0),
        ),
    )
    return replace(data, **overrides)  # type: ignore[arg-type]


def test_every_value_is_escaped() -> None:
    page = report_html(_data(), css="")
    assert "<script>" not in page
    assert e(NASTY) in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;Co&quot;" in page
    # Only our own tags remain.
    tags = set(re.findall(r"</?([a-zA-Z0-9]+)", page))
    assert tags <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "i", "code",
        "table", "tr", "th", "td", "span", "ul", "li",
    }  # fmt: skip


def test_the_report_holds_the_whole_run() -> None:
    page = report_html(_data(), css="body { color: black; }")
    for expected in (
        "vc01.lab.local:443",
        "helpdesk@lab.local",
        "2024-05-02 15:30",
        "Confirmed: vMotion of this VM has already failed for this reason.",
        "Display larger than one 1280x1024 screen",
        "<code>guest.screen; config.hardware.device[500].numDisplays</code>",
        "Failed to flush checkpoint data",
        "Raise the checkpoint buffer",
        "Caveats that apply to this VM",
        "migrate.baseCptCacheSize",
        "<i>not set</i>",
        "task-12",
        "Verified:",
        "Mitigated: the conditions hold, but a workaround is in place",
        MESSAGE,
        "Succeeded</span> in 1 s",
        "j-0001",
        ARTICLE_ID,
        "body { color: black; }",
    ):
        assert expected in page, expected
    assert "<h2>Undo</h2>" not in page


def test_a_run_without_a_change_says_so() -> None:
    page = report_html(
        _data(
            remedy=None,
            applied=False,
            changes=(),
            steps=(),
            checks=(),
            verified=False,
            verdict_after=None,
            journal_id=None,
            task_ids=(),
            vmotion=(),
        )
    )
    assert "No fix was chosen; nothing was changed." in page
    assert "Not run from the wizard." in page
    assert "<h2>Steps</h2>" not in page
    assert "<h2>Changes</h2>" not in page


def test_an_undo_is_reported() -> None:
    undo = UndoNote(True, "The earlier values are back.", "j-0002", T0.astimezone())
    page = report_html(
        _data(undo=undo, undo_steps=(StepLine("Put the old values back", "done", "", "task-20"),))
    )
    assert "The change was undone" in page
    assert "j-0002" in page
    assert "Put the old values back" in page


def _note(**kw: object) -> str:
    d = _data()
    args: dict[str, object] = {
        "facts": d.facts,
        "assessment": d.assessment,
        "remedy": d.remedy,
        "changes": d.changes,
        "applied": True,
        "verified": True,
        "after": None,
        "journal_id": "j-0001",
        "task_ids": ("task-12",),
        "user": "helpdesk@lab.local",
        "when": T0,
    }
    args.update(kw)
    return ticket_note(**args)  # type: ignore[arg-type]


def test_note_lists_tests_and_undo_in_the_order_they_happened() -> None:
    failed = vmotion_test(False, MESSAGE, "task-9", "esx-a1", "esx-a2", 0.5, T0)
    moved = vmotion_test(
        True, "moved", "task-14", "esx-a1", "esx-a2", 1.4, T0 + timedelta(minutes=5)
    )
    undo = UndoNote(True, "The earlier values are back.", "j-0002", T0 + timedelta(minutes=2))
    note = _note(vmotion=(failed, moved), undo=undo)
    lines = note.splitlines()
    i = lines.index(vmotion_line(failed))
    assert lines[i + 1].startswith("Change undone at ")
    assert lines[i + 2] == vmotion_line(moved)
    assert vmotion_line(failed).endswith(f"esx-a1 -> esx-a2: FAILED (task-9): {MESSAGE}")
    assert vmotion_line(moved).endswith("esx-a1 -> esx-a2: succeeded (task-14, 1 s).")
    assert "Journal entry: j-0001." in note
    assert "undo is possible" not in note


def test_note_keeps_offering_undo_when_it_failed() -> None:
    undo = UndoNote(False, "The VM changed since.", None, T0)
    note = _note(undo=undo)
    assert "undo is possible from the wizard" in note
    assert "Undo FAILED at " in note
    assert "vMotion test" not in _note()


def test_report_file_name_is_safe() -> None:
    assert default_report_name(NASTY, T0) == (
        "script_alert_x_script_Co-checkpoint-report-20240502-1530.html"
    )
    assert default_report_name("...", T0) == "vm-checkpoint-report-20240502-1530.html"
    assert default_report_name("Büro PC 7", T0).startswith("Büro_PC_7-")
