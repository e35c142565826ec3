"""Safe means safe: the journal always tells the truth, and no change is ever made twice.

Each test replays, against the lab, a way an outside tester broke that promise: an answer lost
while vCenter was still working, a link that stays down, a second apply on a VM left off, two
runs on one VM, a forced undo, a guest that went off after the time limit, and the same vCenter
typed two ways. Network faults go through :class:`tests.helpers.faultproxy.FaultProxy`; "two
runs" are two real processes holding the journal's real OS lock.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import (
    SCENARIO,
    at,
    behind_proxy,
    check,
    read,
    reconfigure_tasks,
    run_task,
    someone_else,
    start_cli,
)
from tests.helpers.faultproxy import Fault, FaultProxy
from tests.helpers.lab import StartLab, running_lab, vim, vm_of
from tests.helpers.vsphere_lab import session_to, trusting
from wizard.audit import Journal, VmIdentity
from wizard.kb import RemedyId, Verdict, assess
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.results import ApplyRequest, ApplyResult, Outcome, Reason, StepUpdate
from wizard.vsphere.session import Endpoint, Session

pytestmark = pytest.mark.lab

KEY = "migrate.baseCptCacheSize"
SENDING = "Sending the change"
DUAL_BUFFER = "24117248"  # two 1920x1200 screens, the article's figure


def executor(session: Session, journal: Journal, **options: Any) -> Executor:
    options.setdefault("tools_timeout", 5.0)
    options.setdefault("reconnect_timeout", 10.0)
    options.setdefault("settle_timeout", 3.0)
    return Executor(session, journal, **options)


def apply(
    session: Session,
    journal: Journal,
    name: str = "Dual W7",
    remedy: RemedyId = RemedyId.RAISE_BUFFER,
    *,
    on_progress: Callable[[StepUpdate], None] | None = None,
    executor_options: dict[str, Any] | None = None,
    **request: Any,
) -> ApplyResult:
    facts, chosen = check(session, name, remedy)
    request.setdefault("allow_shutdown", True)
    request.setdefault("shutdown_timeout", 10.0)
    run = executor(session, journal, on_progress=on_progress, **(executor_options or {}))
    return run.apply(ApplyRequest(facts, chosen, **request))


def power_off_by_hand(lab: LabInfo, name: str) -> None:
    with someone_else(lab) as si:
        run_task(vm_of(si, name).PowerOffVM_Task())


def set_by_hand(lab: LabInfo, name: str, key: str, value: str) -> None:
    with someone_else(lab) as si:
        spec = vim.vm.ConfigSpec(extraConfig=[vim.option.OptionValue(key=key, value=value)])
        run_task(vm_of(si, name).ReconfigVM_Task(spec))


def value(session: Session, name: str = "Dual W7") -> str | None:
    return read(session, name).extra(KEY)  # noqa: S610 (VmFacts.extra)


# ------------------------------------------------------------------------ lost answers


def cut_while_sending(proxy: FaultProxy, *, down: float) -> Callable[[StepUpdate], None]:
    """As the change is sent: the link dies 0.3 s after vCenter got the request, and is back
    ``down`` seconds later. The answer is lost; whether the change was made is not known."""

    def link_dies() -> None:
        proxy.arm(Fault.CUT_AFTER_DELIVERY, seconds=0.3)
        proxy.go_down(down)

    return at("reconfigure", "running", link_dies, message=SENDING)


def test_an_answer_lost_while_vcenter_is_still_working_is_found_not_called_failed(
    start_lab: StartLab, journal: Journal
) -> None:
    # vCenter takes 1.5 s to act on the reconfigure; the link dies 0.3 s after the request
    # arrived and is back 0.5 s later. The first look finds no task and the old value: that is
    # not proof that nothing happened. The run keeps looking and follows the task it finds.
    lab = start_lab(SCENARIO, method_delays={"ReconfigVM_Task": 1500})
    with behind_proxy(lab, lifetime=90.0, timeout=5.0) as (proxy, session):
        result = apply(session, journal, on_progress=cut_while_sending(proxy, down=0.8))
        assert proxy.fired == [Fault.CUT_AFTER_DELIVERY]
        assert result.outcome is Outcome.APPLIED, result.message
        assert result.verified
        assert value(session) == DUAL_BUFFER
    assert reconfigure_tasks(lab, "Dual W7") == 1
    entry = journal.read().entry(result.entry_id or "")
    assert entry is not None
    assert not entry.is_dangling
    assert entry.outcome == "applied"


def test_a_change_that_lands_after_the_run_gave_up_is_settled_and_can_be_undone(
    start_lab: StartLab, journal: Journal
) -> None:
    # vCenter acts 4 s after the link died; the run looks for 1 s only. It must not say
    # "nothing was changed": the entry stays open, and undo settles it first, then undoes it.
    lab = start_lab(SCENARIO, method_delays={"ReconfigVM_Task": 4000})
    with behind_proxy(lab, lifetime=90.0, timeout=5.0) as (proxy, session):
        result = apply(
            session,
            journal,
            on_progress=cut_while_sending(proxy, down=0.5),
            executor_options={"settle_timeout": 1.0},
        )
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.OUTCOME_UNKNOWN
        assert "Nothing was changed" not in result.message
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.is_dangling
        assert entry.outcome == "unknown"

        deadline = time.monotonic() + 15
        while value(session) != DUAL_BUFFER and time.monotonic() < deadline:
            time.sleep(0.5)
        assert value(session) == DUAL_BUFFER  # it did land

        # A second apply changes nothing: it settles the open entry first.
        again = apply(session, journal)
        assert again.outcome is Outcome.NOTHING_TO_DO, again.message
        settled = journal.read().entry(entry.id)
        assert settled is not None
        assert not settled.is_dangling

        undone = executor(session, journal).undo(entry.id, allow_shutdown=True)
        assert undone.outcome is Outcome.APPLIED, undone.message
        assert value(session) is None
        assert read(session, "Dual W7").power_state == "poweredOn"
    assert reconfigure_tasks(lab, "Dual W7") == 2  # the change and its undo, nothing more


def test_a_link_that_stays_down_leaves_an_open_entry_and_no_second_change(
    lab: LabInfo, journal: Journal
) -> None:
    with behind_proxy(lab, lifetime=90.0, timeout=2.0) as (proxy, session):

        def link_goes_down_for_good() -> None:
            proxy.arm(Fault.DROP_AFTER_REQUEST)
            proxy.go_down(8.0)

        result = apply(
            session,
            journal,
            on_progress=at("reconfigure", "running", link_goes_down_for_good, message=SENDING),
            executor_options={"reconnect_timeout": 2.0},
        )
        assert result.outcome is Outcome.FAILED
        assert result.reason is Reason.OUTCOME_UNKNOWN
        assert "not known" in result.message
        entry = journal.read().entry(result.entry_id or "")
        assert entry is not None
        assert entry.is_dangling
        assert entry.outcome == "unknown"
        time.sleep(6.5)  # the link comes back

        # The VM was left off (the power-on could not reach vCenter) with the change in place.
        assert read(session, "Dual W7").power_state == "poweredOff"
        again = apply(session, journal)
        assert again.outcome is Outcome.NOTHING_TO_DO, again.message
        assert value(session) == DUAL_BUFFER  # not raised again to the video memory's maximum
        assert read(session, "Dual W7").power_state == "poweredOn"  # given back to the user
        assert entry.id in again.message
    assert reconfigure_tasks(lab, "Dual W7") == 1


# ------------------------------------------------------------------- a second apply


def test_a_second_apply_on_a_vm_now_off_changes_nothing(lab: LabInfo, journal: Journal) -> None:
    with session_to(lab) as session:
        first = apply(session, journal)
        assert first.verified, first.message
        assert value(session) == DUAL_BUFFER
        power_off_by_hand(lab, "Dual W7")

        facts, remedy = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        assert facts.screen is None or facts.screen == (0, 0)  # no screen reported when off
        assert remedy.changes == ()
        assert not any("less than" in note for note in assess(facts).notes)

        second = apply(session, journal)
        assert second.outcome is Outcome.NOTHING_TO_DO, second.message
        assert value(session) == DUAL_BUFFER
        # Switched off by someone else: not ours to power on.
        assert read(session, "Dual W7").power_state == "poweredOff"
    assert reconfigure_tasks(lab, "Dual W7") == 1


# ------------------------------------------------------------------------ forced undo


def test_undoing_a_forced_undo_puts_back_the_value_it_really_found(
    lab: LabInfo, journal: Journal
) -> None:
    with session_to(lab) as session:
        first = apply(session, journal)
        assert first.verified, first.message
        set_by_hand(lab, "Dual W7", KEY, "30000000")
        refused = executor(session, journal).undo(first.entry_id or "", allow_shutdown=True)
        assert refused.reason is Reason.STALE_PLAN
        forced = executor(session, journal).undo(
            first.entry_id or "", allow_shutdown=True, force=True
        )
        assert forced.outcome is Outcome.APPLIED, forced.message
        assert value(session) is None
        entry = journal.read().entry(forced.entry_id or "")
        assert entry is not None
        assert [(c["from"], c["to"]) for c in entry.changes] == [("30000000", None)]

        back = executor(session, journal).undo(forced.entry_id or "", allow_shutdown=True)
        assert back.outcome is Outcome.APPLIED, back.message
        assert value(session) == "30000000"
        # Words, not ids: "the verdict is “Possibly affected” again", never possibly_affected.
        for said in (forced.message, back.message):
            assert not any(v.value in said for v in Verdict if "_" in v.value), said


# ------------------------------------------------------------------ shutdown timeout


def test_a_guest_that_goes_off_after_the_time_limit_gets_its_power_back_next_run(
    lab: LabInfo, journal: Journal
) -> None:
    # The lab's guests shut down in 0.5 s: a 0.2 s limit gives up just before the guest goes.
    with session_to(lab) as session:
        timed_out = apply(session, journal, shutdown_timeout=0.2)
        assert timed_out.reason is Reason.SHUTDOWN_TIMEOUT
        assert "may still be shutting down" in timed_out.message
        time.sleep(1.0)
        assert read(session, "Dual W7").power_state == "poweredOff"

        again = apply(session, journal)
        assert again.outcome is Outcome.APPLIED, again.message
        assert again.verified
        assert read(session, "Dual W7").power_state == "poweredOn"
        assert f"entry {timed_out.entry_id}" in again.message
        assert journal.read().dangling == ()


# ---------------------------------------------------------------------- two runs


_HOLD = """
import sys, time
from pathlib import Path
from wizard.audit import Journal
journal = Journal(Path(sys.argv[1]))
with journal.lease(sys.argv[2], sys.argv[3], action="apply", user="tech2@lab.local"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def other_run(journal: Journal) -> Iterator[Callable[[str, str], subprocess.Popen[str]]]:
    """Start another process that holds a VM's lease, as a second technician's live run does."""
    started: list[subprocess.Popen[str]] = []

    def start(vcenter_id: str, instance_uuid: str) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HOLD, str(journal.path), vcenter_id, instance_uuid],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        started.append(proc)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        return proc

    yield start
    for proc in started:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_second_run_on_the_same_vm_is_refused_and_leaves_the_live_entry_alone(
    lab: LabInfo,
    journal: Journal,
    other_run: Callable[[str, str], subprocess.Popen[str]],
) -> None:
    with session_to(lab) as session:
        facts, _ = check(session, "Dual W7", RemedyId.RAISE_BUFFER)
        vm = VmIdentity(facts.name, facts.moref, facts.instance_uuid)
        # The other technician's run has begun and shut the guest down (its entry is open).
        live = journal.begin(
            action="apply",
            vcenter=str(session.endpoint),
            vcenter_id=session.instance_uuid,
            user="tech2@lab.local",
            vm=vm,
            remedy="raise_buffer",
            changes=[],
        )
        journal.intent(live, "shutdown", power_state="poweredOn")
        holder = other_run(session.instance_uuid, facts.instance_uuid)

        assert executor(session, journal).reconcile_dangling() == ()
        result = apply(session, journal)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.VM_BUSY
        assert "Another run" in result.message
        assert f"process {holder.pid}" in result.message
        assert "tech2@lab.local" in result.message
        entry = journal.read().entry(live)
        assert entry is not None
        assert [r.phase for r in entry.records] == ["begin", "intent"]  # untouched
        assert read(session, "Dual W7").power_state == "poweredOn"

        holder.send_signal(signal.SIGKILL)  # the other run dies: the OS frees its lease
        holder.wait(10)
        (settled,) = executor(session, journal).reconcile_dangling()
        assert settled.entry_id == live


@pytest.mark.slow
def test_a_second_technician_mid_way_through_the_first_run_is_told_and_changes_nothing(
    start_lab: StartLab, tmp_path: Path
) -> None:
    # Two terminals on one computer: the second starts while the first is shutting the guest
    # down (vCenter is slow to power on, so the first run lasts a few seconds).
    lab = start_lab(SCENARIO, method_delays={"PowerOnVM_Task": 3000})
    args = ("apply", "--vm", "Dual W7", "--remedy", "raise_buffer", "--allow-shutdown", "--yes")
    first = start_cli(tmp_path, lab, *args, "--json")
    assert first.stdin is not None
    assert first.stderr is not None
    first.stdin.write(lab.password + "\n")
    first.stdin.close()
    seen = ""
    while "shutdown" not in seen:
        line = first.stderr.readline()
        assert line, "the first run ended before its shutdown"
        seen += line
    second = start_cli(tmp_path, lab, *args, "--json")
    out2, err2 = second.communicate(lab.password + "\n", timeout=120)
    out1 = first.stdout.read() if first.stdout is not None else ""
    first.wait(120)
    for stream in (first.stdout, first.stderr):
        if stream is not None:
            stream.close()
    one, two = json.loads(out1), json.loads(out2)
    assert one["outcome"] == "applied", one
    assert two["outcome"] == "refused", (two, err2)
    assert two["reason"] == "vm_busy", two
    assert "Another run" in two["message"]
    assert second.returncode == 5
    assert reconfigure_tasks(lab, "Dual W7") == 1
    lines = (tmp_path / "data" / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    assert not any('"reconciled"' in line for line in lines)  # nobody settled a live run


# -------------------------------------------------------------- one vCenter, two names


def test_an_entry_is_settled_through_another_name_of_the_same_vcenter(
    lab: LabInfo, journal: Journal
) -> None:

    class Killed(BaseException):
        pass

    def killed() -> None:
        raise Killed

    with session_to(lab) as session:
        with pytest.raises(Killed):
            apply(session, journal, on_progress=at("power_on", "running", killed))
        assert session.endpoint.host == "127.0.0.1"
    with Session.connect(
        Endpoint("localhost", lab.port), lab.user, lab.password, trust=trusting(lab), timeout=5.0
    ) as other_name:
        again = apply(other_name, journal)
        assert again.outcome is Outcome.NOTHING_TO_DO, again.message
        assert value(other_name) == DUAL_BUFFER
        assert read(other_name, "Dual W7").power_state == "poweredOn"
        assert journal.read().dangling == ()
    assert reconfigure_tasks(lab, "Dual W7") == 1


# -------------------------------------------------------------------------- a full disk


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs for the journal: a real filesystem that really fills up."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for a real full disk needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"this machine cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the filesystem of ``folder`` until only ``leave`` bytes are free.

    A file's last page may still have room after the disk is full; the journal's is padded to
    a page boundary with empty lines (which the journal skips) so that its next record needs a
    page the disk no longer has.
    """
    journal = folder / "journal.jsonl"
    if journal.exists():
        with journal.open("ab") as f:
            f.write(b"\n" * (-journal.stat().st_size % 4096))
    filler = folder / "filler"
    with filler.open("ab") as f:
        while (free := shutil.disk_usage(folder).free) > leave:
            try:
                f.write(b"\0" * min(65536, free - leave))
                f.flush()
            except OSError:
                break
    return filler


def test_a_disk_too_full_to_record_a_run_changes_nothing(lab: LabInfo, tiny_disk: Path) -> None:
    journal = Journal(tiny_disk / "journal.jsonl")
    fill(tiny_disk, leave=200 * 1024)
    with session_to(lab) as session:
        result = apply(session, journal)
        assert result.outcome is Outcome.REFUSED
        assert result.reason is Reason.JOURNAL_FAILED
        assert "Nothing was changed" in result.message
        assert "Free some disk space" in result.next_step
        now = read(session, "Dual W7")
        assert now.power_state == "poweredOn"
        assert now.extra(KEY) is None  # noqa: S610 (VmFacts.extra)


def test_a_disk_that_fills_up_mid_run_stops_before_the_change_and_gives_power_back(
    lab: LabInfo, tiny_disk: Path
) -> None:
    journal = Journal(tiny_disk / "journal.jsonl")
    filler: list[Path] = []
    with session_to(lab) as session:
        result = apply(
            session,
            journal,
            on_progress=at(
                "shutdown", "running", lambda: filler.append(fill(tiny_disk)), message="Shutting"
            ),
        )
        assert filler
        assert result.outcome is Outcome.FAILED, result.message
        assert result.reason is Reason.JOURNAL_FAILED
        assert "journal could not be written" in result.message
        now = read(session, "Dual W7")
        assert now.power_state == "poweredOn"
        assert now.extra(KEY) is None  # noqa: S610 (VmFacts.extra)

        filler[0].unlink()  # the technician frees some space and runs the fix again
        again = apply(session, journal)
        assert again.outcome is Outcome.APPLIED, again.message
        assert value(session) == DUAL_BUFFER
        assert not journal.read().dangling
    assert reconfigure_tasks(lab, "Dual W7") == 1


# ----------------------------------------------------------------- vCenter goes away


def test_a_vcenter_that_dies_mid_run_is_reported_while_waiting_and_after(
    lab_binary_path: Path, tmp_path: Path, journal: Journal
) -> None:
    updates: list[str] = []
    with running_lab(SCENARIO, tmp_path, lab_binary_path) as process:
        lab = process.info

        def on_progress(update: StepUpdate) -> None:
            updates.append(update.message)
            if (
                update.step == "shutdown"
                and update.message.startswith("Shutting")
                and process.pid is not None
            ):
                os.kill(process.pid, signal.SIGKILL)

        with session_to(lab, timeout=2.0) as session:
            started = time.monotonic()
            result = apply(
                session,
                journal,
                on_progress=on_progress,
                executor_options={"reconnect_timeout": 4.0},
                shutdown_timeout=300.0,
            )
            took = time.monotonic() - started
    assert took < 60, f"silent for {took:.0f} s"
    assert any("vCenter does not answer" in u for u in updates), updates
    assert result.outcome is Outcome.FAILED
    assert result.message
    assert "power" in (result.message + result.next_step).lower()
    entry = journal.read().entry(result.entry_id or "")
    assert entry is not None
    assert entry.is_dangling  # whether the guest went down is not known: settled next time
