"""The report of one run: what was found, what was changed, whether it worked, as HTML and PDF.

:func:`report_html` turns plain data (:class:`ReportData`) into a self-contained HTML page; it
does no I/O and escapes every value (VM names may hold ``<``, ``&`` or quotes).
:func:`save_report` writes that page and a PDF of it (Qt's ``QTextDocument`` printed on a
``QPdfWriter``). The style sheet is ``resources/ui/report/report.css``, kept to what both a
browser and Qt's rich text understand.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wizard import __version__, paths
from wizard.kb.facts import VmFacts
from wizard.kb.model import ARTICLE_ID, Assessment, Change, Remedy, Verdict
from wizard.kb.plan import ChangeCheck
from wizard.ui.pages.check import CONDITION_TITLES, STATE_LOOK
from wizard.ui.ticket import VERDICT_SHORT, UndoNote, duration_words, local_time
from wizard.vsphere.records import MigrationOutcome

STEP_STATES = {
    "pending": "Not run",
    "running": "Did not finish",
    "done": "Done",
    "failed": "Failed",
    "skipped": "Skipped",
    "cancelled": "Not started (stopped)",
}
EVIDENCE_TEXT_LIMIT = 400


@dataclass(frozen=True)
class StepLine:
    """One step of an apply or undo as it ended.

    Attributes:
        title: the step in words ("Shut down the guest").
        state: a ``wizard.ui.pages.apply.StepState`` value.
        message: what the executor said about it.
        task_id: the vCenter task that ran it, if any.
    """

    title: str
    state: str
    message: str = ""
    task_id: str | None = None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, as plain values.

    Attributes:
        facts: the VM as checked.
        assessment: the verdict with its conditions and evidence.
        vcenter: ``host:port`` connected to.
        user: who ran the wizard.
        when: when the report was made (local time).
        remedy: the fix chosen (None: none).
        applied: whether the wizard applied it.
        result_message: the executor's sentence about the apply.
        changes: every change, before -> after.
        steps: the apply's steps and how each ended.
        verified: whether the VM was re-read and every change found in place.
        checks: each change as found when verifying.
        verdict_after: the verdict after the change.
        journal_id: the apply's journal entry.
        task_ids: vCenter tasks of the apply.
        vmotion: vMotion tests run from the Done page, in order.
        undo: the undo, when one was run.
        undo_steps: its steps.
    """

    facts: VmFacts
    assessment: Assessment
    vcenter: str
    user: str
    when: datetime
    remedy: Remedy | None = None
    applied: bool = False
    result_message: str = ""
    changes: tuple[Change, ...] = ()
    steps: tuple[StepLine, ...] = ()
    verified: bool = False
    checks: tuple[ChangeCheck, ...] = ()
    verdict_after: Verdict | None = None
    journal_id: str | None = None
    task_ids: tuple[str, ...] = ()
    vmotion: tuple[MigrationOutcome, ...] = ()
    undo: UndoNote | None = None
    undo_steps: tuple[StepLine, ...] = ()
    version: str = __version__
    article: str = ARTICLE_ID


def e(value: object) -> str:
    """Escape for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def _bullets(title: str, items: Iterable[object]) -> list[str]:
    """A bold title and a bulleted list, as lines of HTML."""
    return [f"<p><b>{e(title)}:</b></p><ul>", *(f"<li>{e(i)}</li>" for i in items), "</ul>"]


def _value(value: str | None, missing: str) -> str:
    return f"<code>{e(value)}</code>" if value is not None else f"<i>{e(missing)}</i>"


def _table(
    head: Sequence[str] | None,
    rows: Iterable[Sequence[str]],
    cls: str = "",
    widths: Sequence[int] = (),
) -> str:
    """A table (no header row when ``head`` is None); ``rows`` hold escaped HTML.

    ``widths`` are the columns' shares of the width in percent (Qt's PDF layout otherwise
    squeezes the wordy columns).
    """
    cls_attr = f' class="{cls}"' if cls else ""
    out = [f'<table{cls_attr} width="100%" cellspacing="0" cellpadding="4" border="1">']
    if head is not None:
        cells = [
            f'<th width="{widths[i]}%">{e(h)}</th>' if i < len(widths) else f"<th>{e(h)}</th>"
            for i, h in enumerate(head)
        ]
        out.append("<tr>" + "".join(cells) + "</tr>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _facts_table(d: ReportData) -> str:
    f = d.facts
    host = f.host.name if f.host is not None else "unknown"
    cluster = f.cluster.name if f.cluster is not None else "none (standalone host)"
    screen = f"{f.screen[0]}x{f.screen[1]}" if f.screen else "not reported by Tools"
    rows = [
        ("VM", f"<b>{e(f.name)}</b> ({e(f.moref)})"),
        ("Instance UUID", f"<code>{e(f.instance_uuid)}</code>"),
        ("vCenter", e(d.vcenter or f.vcenter)),
        ("Checked by", e(d.user or "unknown")),
        ("Report written", e(f"{d.when:%Y-%m-%d %H:%M} {d.when.strftime('%Z')}".strip())),
        ("Host, cluster", f"{e(host)}, {e(cluster)}"),
        ("Power, hardware", f"{e(f.power_state)}, {e(f.hardware_version)}"),
        ("Guest OS", e(f.tools_guest_id or f.guest_id)),
        ("Guest screen", e(screen)),
    ]
    return _table(None, ([f'<span class="key">{k}</span>', v] for k, v in rows), "facts")


def _verdict_section(a: Assessment) -> str:
    good = a.verdict in (Verdict.NOT_AFFECTED, Verdict.MITIGATED)
    cls = "good" if good else "bad"
    out = [
        "<h2>Verdict</h2>",
        f'<p class="{cls}"><b>{e(VERDICT_SHORT[a.verdict])}.</b></p>',
        f"<p>{e(a.reason)}</p>",
        _table(
            ("Condition", "State", "Value", "Source", "Why"),
            (
                [
                    e(CONDITION_TITLES.get(c.id, c.id.value)),
                    e(STATE_LOOK[c.state][1]),
                    e(c.value),
                    f"<code>{e(c.source)}</code>",
                    e(c.detail),
                ]
                for c in a.conditions
            ),
            widths=(20, 10, 18, 24, 28),
        ),
    ]
    if a.mitigations:
        out += _bullets("Mitigations in place", a.mitigations)
    if a.notes:
        out += _bullets("Notes", a.notes)
    return "\n".join(out)


def _evidence_section(a: Assessment) -> str:
    out = ["<h2>Evidence</h2>"]
    if not a.evidence:
        out.append("<p>No trace of the failure was found in events, tasks or the log.</p>")
        return "\n".join(out)

    def text(t: str) -> str:
        return t if len(t) <= EVIDENCE_TEXT_LIMIT else t[: EVIDENCE_TEXT_LIMIT - 1] + "…"

    out.append(
        _table(
            ("When", "Where", "Signature", "Text"),
            (
                [
                    e(f"{item.time:%Y-%m-%d %H:%M %Z}".strip() if item.time else "unknown"),
                    e(f"{item.kind.value}: {item.source}"),
                    f"<code>{e(item.signature)}</code>",
                    e(text(item.text)),
                ]
                for item in a.evidence
            ),
            widths=(16, 22, 20, 42),
        )
    )
    return "\n".join(out)


def _fix_section(d: ReportData) -> str:
    out = ["<h2>Fix</h2>"]
    r = d.remedy
    if r is None:
        out.append("<p>No fix was chosen; nothing was changed.</p>")
        return "\n".join(out)
    out.append(f"<p><b>{e(r.title)}</b>: {e(r.summary)}</p>")
    if r.reason:
        out.append(f"<p>{e(r.reason)}</p>")
    applying = [c for c in r.caveats if c.applies]
    if applying:
        out += _bullets("Caveats that apply to this VM", (c.detail for c in applying))
    else:
        out.append("<p>No caveat of this fix applies to this VM.</p>")
    if r.manual_steps:
        out += _bullets("Also possible by hand", r.manual_steps)
    if not d.applied:
        out.append("<p><b>The fix was not applied from the wizard; nothing was changed.</b></p>")
    return "\n".join(out)


def _changes_section(d: ReportData) -> str:
    if not d.changes:
        return ""
    return "\n".join(
        [
            "<h2>Changes</h2>",
            _table(
                ("Setting", "Before", "After"),
                (
                    [
                        f"<code>{e(c.key)}</code>",
                        _value(c.before, "not set"),
                        _value(c.after, "removed"),
                    ]
                    for c in d.changes
                ),
            ),
        ]
    )


def _steps_table(steps: Sequence[StepLine]) -> str:
    return _table(
        ("Step", "Result", "Details", "Task"),
        (
            [
                e(s.title),
                f'<span class="{e(s.state)}">{e(STEP_STATES.get(s.state, s.state))}</span>',
                e(s.message),
                e(s.task_id or ""),
            ]
            for s in steps
        ),
        widths=(30, 13, 45, 12),
    )


def _apply_section(d: ReportData) -> str:
    if not d.applied and not d.steps:
        return ""
    out = ["<h2>Steps</h2>"]
    if d.result_message:
        out.append(f"<p>{e(d.result_message)}</p>")
    if d.steps:
        out.append(_steps_table(d.steps))
    out.append("<h2>Verification</h2>")
    if d.verified:
        out.append('<p class="good"><b>Verified:</b> the VM was read again after the change.</p>')
    else:
        out.append('<p class="bad"><b>Not verified.</b> Check the VM again.</p>')
    if d.checks:
        out.append(
            _table(
                ("Setting", "Wanted", "Found", "In place"),
                (
                    [
                        f"<code>{e(c.change.key)}</code>",
                        _value(c.change.after, "removed"),
                        _value(c.found, "not set"),
                        "yes" if c.in_place else '<span class="bad">no</span>',
                    ]
                    for c in d.checks
                ),
            )
        )
    if d.verdict_after is not None:
        out.append(f"<p>Verdict after the change: {e(VERDICT_SHORT[d.verdict_after])}.</p>")
    return "\n".join(out)


def _vmotion_section(d: ReportData) -> str:
    out = ["<h2>vMotion test</h2>"]
    if not d.vmotion:
        out.append("<p>Not run from the wizard.</p>")
        return "\n".join(out)
    out.append(
        _table(
            ("Time", "From", "To", "Outcome", "Task"),
            (
                [
                    e(local_time(t.finished_at)),
                    e(t.source_host),
                    e(t.destination_host),
                    (
                        f'<span class="good">Succeeded</span> in {duration_words(t.duration_s)}'
                        if t.succeeded
                        else f'<span class="bad">Failed:</span> {e(t.message)}'
                    ),
                    e(t.task_id),
                ]
                for t in d.vmotion
            ),
            widths=(8, 21, 21, 38, 12),
        )
    )
    return "\n".join(out)


def _undo_section(d: ReportData) -> str:
    u = d.undo
    if u is None:
        return ""
    head = "The change was undone" if u.ok else "The undo failed"
    cls = "good" if u.ok else "bad"
    out = [
        "<h2>Undo</h2>",
        f'<p class="{cls}"><b>{e(head)}</b> at {e(local_time(u.when))}. {e(u.message)}</p>',
    ]
    if u.journal_id:
        out.append(f"<p>Journal entry of the undo: <code>{e(u.journal_id)}</code></p>")
    if d.undo_steps:
        out.append(_steps_table(d.undo_steps))
    return "\n".join(out)


def _record_section(d: ReportData) -> str:
    rows = [
        ("Journal entry", f"<code>{e(d.journal_id)}</code>" if d.journal_id else "none"),
        ("vCenter tasks", e(", ".join(d.task_ids)) if d.task_ids else "none"),
        ("Product", e(f"Checkpoint Wizard {d.version}")),
        ("Article", e(d.article)),
    ]
    return "<h2>Record</h2>\n" + _table(
        None, ([f'<span class="key">{k}</span>', v] for k, v in rows), "facts"
    )


def report_css() -> str:
    """The report's style sheet (``resources/ui/report/report.css``; empty when missing)."""
    try:
        return (paths.repo_resources() / "ui" / "report" / "report.css").read_text("utf-8")
    except OSError:
        return ""


def report_html(d: ReportData, css: str = "") -> str:
    """The whole report as one HTML page. Pure: no I/O; every value is escaped."""
    title = f"vMotion checkpoint report: {d.facts.name}"
    sections = [
        f"<h1>{e(title)}</h1>",
        f'<p class="sub">“Failed to flush checkpoint data!” ({e(d.article)})</p>',
        _facts_table(d),
        _verdict_section(d.assessment),
        _evidence_section(d.assessment),
        _fix_section(d),
        _changes_section(d),
        _apply_section(d),
        _vmotion_section(d),
        _undo_section(d),
        _record_section(d),
    ]
    body = "\n".join(s for s in sections if s)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">\n'
        f"<title>{e(title)}</title>\n"
        f"<style>\n{css}\n</style>\n"
        f"</head><body>\n{body}\n</body></html>\n"
    )


def default_report_name(vm_name: str, when: datetime) -> str:
    """A file name for the report: the VM's name made safe, and the time."""
    safe = re.sub(r"[^\w.-]+", "_", vm_name).strip("._")
    return f"{safe or 'vm'}-checkpoint-report-{when:%Y%m%d-%H%M}.html"


def save_report(html_text: str, html_path: Path, *, title: str) -> Path:
    """Write the HTML to ``html_path`` and a PDF of it beside it; return the PDF's path.

    Runs on the GUI thread (Qt's text layout and PDF writer; a report takes a few tens of
    milliseconds).

    Raises:
        OSError: a file could not be written.
    """
    from PySide6.QtCore import QMarginsF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    pdf_path = html_path.with_suffix(".pdf")
    html_path.write_text(html_text, encoding="utf-8")
    writer = QPdfWriter(str(pdf_path))
    writer.setTitle(title)
    writer.setCreator(f"Checkpoint Wizard {__version__}")
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(0, 0, 0, 0),  # Qt's layout of an unpaginated document adds 2 cm
            QPageLayout.Unit.Millimeter,
        )
    )
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setHtml(html_text)
    doc.print_(writer)
    del writer  # finishes the file
    if not pdf_path.exists() or pdf_path.stat().st_size == 0:
        raise OSError(f"The PDF could not be written to {pdf_path}.")
    return pdf_path
