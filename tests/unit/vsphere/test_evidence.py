"""The article's signatures, found in real-looking event texts and log lines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wizard.kb.facts import EvidenceKind
from wizard.vsphere._pyvmomi import vim, vmodl
from wizard.vsphere.evidence import (
    SIGNATURES,
    evidence_from_events,
    folder_url_path,
    match_signatures,
    scan_log_lines,
    split_datastore_path,
)

IO_ERROR = "An I/O error occurred while saving the checkpoint: 0 (Resource temporarily unavailable)"
# Lines as ESXi writes them, with the article's texts in place.
LOG_LINES = [
    "2024-03-05T09:14:02.118Z| vmx| I005: MigrateSetState: Transitioning from state 9 to 11.",
    "2024-03-05T09:14:02.119Z| vmx| I005: Migrate_SetFailure: Failed waiting for data. "
    "Error bad0006. Limit exceeded.",
    "2024-03-05T09:14:02.120Z| vmx| I005: Msg_Post: Error",
    "2024-03-05T09:14:02.120Z| vmx| I005: [vob.vmotion.chkpt.toobig] vMotion migration "
    "[ac1f0a2b:1709630041123456] failed. The checkpoint data length (9437184 bytes) or the offset "
    "(8388608 bytes) exceeds the maximum checkpoint data length (8388608 byte).",
    "2024-03-05T09:14:02.121Z| vmx| I005: [msg.moduletable.powerOnFailed] Module Migrate power on "
    "failed.",
    "2024-03-05T09:14:03.000Z| vmx| I005: Tools: Running status rpc handler: 0 => 1.",
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "A general system error occurred: Failed to flush checkpoint data!",
            "Failed to flush checkpoint data",
        ),
        (
            "a general system error occurred: FAILED TO FLUSH  CHECKPOINT\tDATA!",
            "Failed to flush checkpoint data",
        ),
        (IO_ERROR, IO_ERROR),
        (
            "Failed to write checkpoint data (offset 33554432, size 16384): Failed to resume VM.",
            "Failed to write checkpoint data",
        ),
        (
            "vmx| Migrate_SetFailure: Failed waiting for data. Error 195887110. Limit exceeded.",
            "Failed waiting for data. Error 195887110. Limit exceeded.",
        ),
        (
            "vmx| [msg.checkpoint.migration.writefail] Failed to write checkpoint data",
            "[msg.checkpoint.migration.writefail]",
        ),
        ("Migration to host esx-b1 failed: timeout", None),
        ("Failed to flush the buffer", None),
        ("", None),
    ],
)
def test_match_signatures(text: str, expected: str | None) -> None:
    assert match_signatures(text) == expected


def test_both_editions_are_listed() -> None:
    assert {s.edition for s in SIGNATURES} == {"seed", "later"}
    assert len({s.text for s in SIGNATURES}) == len(SIGNATURES)


def test_log_scan_keeps_matching_lines_with_numbers_and_times() -> None:
    items = scan_log_lines(iter(enumerate(LOG_LINES, start=101)), "vmware.log")
    assert [i.source for i in items] == [
        "vmware.log line 102",
        "vmware.log line 104",
        "vmware.log line 105",
    ]
    assert [i.signature for i in items] == [
        "Failed waiting for data. Error bad0006. Limit exceeded.",
        "[vob.vmotion.chkpt.toobig]",
        "[msg.moduletable.powerOnFailed] Module Migrate power on failed.",
    ]
    assert all(i.kind is EvidenceKind.LOG for i in items)
    assert items[0].time == datetime(2024, 3, 5, 9, 14, 2, 119000, tzinfo=UTC)


def test_log_scan_of_a_tail_says_so() -> None:
    (item, *_) = scan_log_lines(iter([(3, LOG_LINES[1])]), "vmware-2.log", " of its last 4096 KiB")
    assert item.source == "vmware-2.log line 3 of its last 4096 KiB"


def test_long_lines_are_trimmed() -> None:
    (item,) = scan_log_lines(
        iter([(1, "Failed to flush checkpoint data " + "x" * 2000)]), "vmware.log"
    )
    assert len(item.text) == 500


def test_folder_url_encodes_odd_names() -> None:
    url = folder_url_path("Büro-PC 7%2f2 50%25", "vmware.log", "DC #1/Europe", "datastore 1 (SSD)")
    assert url == (
        "/folder/B%C3%BCro-PC%207%252f2%2050%2525/vmware.log"
        "?dcPath=DC%20%231%2FEurope&dsName=datastore%201%20%28SSD%29"
    )


def test_folder_url_of_a_vm_at_the_datastore_root() -> None:
    assert folder_url_path("", "vmware.log", "DC", "ds").startswith("/folder/vmware.log?")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("[datastore1] HD-W7-042/HD-W7-042.vmx", ("datastore1", "HD-W7-042/HD-W7-042.vmx")),
        ("[datastore 1 (SSD)] a b/", ("datastore 1 (SSD)", "a b/")),
        ("[ds]vm.vmx", ("ds", "vm.vmx")),
    ],
)
def test_split_datastore_path(path: str, expected: tuple[str, str]) -> None:
    assert split_datastore_path(path) == expected


def test_split_datastore_path_refuses_a_plain_path() -> None:
    with pytest.raises(ValueError, match="datastore path"):
        split_datastore_path("/vmfs/volumes/ds/vm.vmx")


def _failed_migrate_event(key: int, message: str, stack: list[str]) -> object:
    reason = vmodl.fault.SystemError(
        reason="Failed to flush checkpoint data!",
        msg="A general system error occurred: " + message,
        faultMessage=[vmodl.LocalizableMessage(key="msg", message=m) for m in stack],
    )
    return vim.event.VmFailedMigrateEvent(
        key=key,
        createdTime=datetime(2024, 3, 5, 9, 14, 5, tzinfo=UTC),
        fullFormattedMessage="Migration of HD-W7-042 from esx-a1 to esx-a2 failed",
        reason=reason,
    )


def test_failed_migrate_event_is_evidence() -> None:
    event = _failed_migrate_event(4711, "Failed to flush checkpoint data!", [])
    (item,) = evidence_from_events([event])
    assert item.kind is EvidenceKind.EVENT
    assert item.source == "event 4711 (vim.event.VmFailedMigrateEvent)"
    assert item.signature == "Failed to flush checkpoint data"
    assert "esx-a2" in item.text
    assert "Failed to flush checkpoint data!" in item.text
    assert item.time == datetime(2024, 3, 5, 9, 14, 5, tzinfo=UTC)


def test_error_stack_of_the_fault_is_searched() -> None:
    event = _failed_migrate_event(
        12,
        "Something else",
        ["An I/O error occurred while saving the checkpoint: 0 (Resource temporarily unavailable)"],
    )
    (item,) = evidence_from_events([event])
    assert item.signature.startswith("An I/O error occurred")


def test_task_event_with_the_failure_is_task_evidence() -> None:
    info = vim.TaskInfo(
        key="task-9",
        state="error",
        error=vmodl.fault.SystemError(
            msg="A general system error occurred: Failed to flush checkpoint data!"
        ),
    )
    event = vim.event.TaskEvent(
        key=5, fullFormattedMessage="Task: Migrate virtual machine", info=info
    )
    (item,) = evidence_from_events([event])
    assert item.kind is EvidenceKind.TASK


def test_unrelated_events_are_not_evidence() -> None:
    event = vim.event.VmFailedMigrateEvent(
        key=1,
        fullFormattedMessage="Migration failed",
        reason=vmodl.fault.SystemError(msg="Host is in maintenance mode"),
    )
    assert evidence_from_events([event]) == ()
