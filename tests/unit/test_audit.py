"""The journal: append-only, flushed before each step, tolerant when read back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.audit import Journal, JournalError, VmIdentity, parse_journal

VM = VmIdentity("HD-W7-042", "vm-42", "5003a1b2-0000-0000-0000-000000000042")
CHANGE = {
    "target": "extraConfig",
    "key": "migrate.baseCptCacheSize",
    "from": None,
    "to": "16777216",
}


def _apply(journal: Journal, *, finish: bool = True) -> str:
    entry = journal.begin(
        action="apply",
        vcenter="vc01:443",
        user="helpdesk@vsphere.local",
        vm=VM,
        remedy="raise_buffer",
        changes=[CHANGE],
    )
    journal.intent(entry, "reconfigure", change_version="2026-11-26T10:00:00Z")
    if finish:
        journal.outcome(entry, "reconfigure", "succeeded", task="task-7")
        journal.end(entry, "succeeded", verification={"verdict": "mitigated"})
    return entry


def test_a_finished_apply_reads_back_with_its_changes_and_outcome(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    entry = _apply(journal)
    reading = journal.read()
    assert reading.problems == ()
    (e,) = reading.entries
    assert e.id == entry
    assert e.vm == VM
    assert e.remedy == "raise_buffer"
    assert e.changes == (CHANGE,)
    assert e.outcome == "succeeded"
    assert not e.is_dangling
    assert [r.phase for r in e.records] == ["begin", "intent", "outcome", "end"]


def test_an_intent_without_outcome_is_reported_as_dangling(tmp_path: Path) -> None:
    """A process killed between intent and outcome leaves an entry the next start must show."""
    journal = Journal(tmp_path / "journal.jsonl")
    _apply(journal)
    entry = _apply(journal, finish=False)
    dangling = journal.read().dangling
    assert [d.id for d in dangling] == [entry]
    assert dangling[0].dangling_step == "reconfigure"


def test_every_record_is_on_disk_before_the_call_returns(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    entry = journal.begin(
        action="apply", vcenter="vc", user="u", vm=VM, remedy="enable_3d", changes=[]
    )
    journal.intent(entry, "power_off")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["phase"] == "intent"


def test_a_truncated_last_line_is_reported_and_the_next_record_still_lands(
    tmp_path: Path,
) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    _apply(journal)
    with open(path, "ab") as f:
        f.write(b'{"v": 1, "entry": "dead", "pha')  # the crash happened mid-write
    second = _apply(journal)
    reading = journal.read()
    assert [p.line for p in reading.problems] == [5]
    assert reading.entry(second) is not None
    assert reading.entry(second).outcome == "succeeded"  # type: ignore[union-attr]


def test_lines_from_a_newer_version_are_read_and_flagged() -> None:
    line = json.dumps(
        {
            "v": 2,
            "entry": "e1",
            "phase": "begin",
            "step": "apply",
            "action": "apply",
            "vm": {"name": "a", "moref": "vm-1", "instance_uuid": "u"},
            "new_field": [1, 2],
        }
    )
    reading = parse_journal([line])
    assert len(reading.entries) == 1
    assert "newer version" in reading.problems[0].reason


def test_a_secret_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    entry = _apply(journal)
    with pytest.raises(ValueError, match="secret"):
        journal.outcome(entry, "guest", "succeeded", guest={"password": "hunter2"})
    assert "hunter2" not in path.read_text(encoding="utf-8")


def test_an_unwritable_journal_stops_with_a_message_saying_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    journal = Journal(blocker / "journal.jsonl")
    with pytest.raises(JournalError, match=r"cannot be written .*fix the folder's permissions"):
        _apply(journal)
    with pytest.raises(JournalError, match=r"cannot be used .*Fix the folder's permissions"):
        journal.check_room()


@given(st.lists(st.text(max_size=200), max_size=30))
def test_any_hand_edited_content_reads_without_crashing(lines: list[str]) -> None:
    reading = parse_journal(lines)
    for problem in reading.problems:
        assert problem.reason


@given(st.integers(min_value=1, max_value=400))
def test_any_truncation_of_a_real_journal_keeps_every_complete_entry(cut: int) -> None:
    lines = []
    for i in range(3):
        base = {"v": 1, "entry": f"e{i}", "time": "t"}
        lines.append(
            json.dumps(
                {
                    **base,
                    "phase": "begin",
                    "step": "apply",
                    "action": "apply",
                    "vm": {"name": "n", "moref": f"vm-{i}", "instance_uuid": "u"},
                }
            )
        )
        lines.append(json.dumps({**base, "phase": "end", "step": "end", "outcome": "succeeded"}))
    text = "\n".join(lines)
    truncated = text[: max(0, len(text) - cut)]
    reading = parse_journal(truncated.splitlines())
    complete = {e.id for e in reading.entries if e.outcome == "succeeded"}
    # Every entry whose end line survived whole is read back complete; the cut one is not.
    whole = [json.loads(line) for line in truncated.splitlines() if line in lines]
    ended = {r["entry"] for r in whole if r["phase"] == "end"}
    assert complete == ended
