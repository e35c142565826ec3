"""Settling what earlier runs left open: a journal entry whose step has no outcome (the process
died, an answer was lost) is decided from the VM's real values, or from the task vCenter still
lists, and journaled; and the changes an entry really made, for its undo."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from wizard.audit import JournalEntry, VmBusy
from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import Change
from wizard.kb.plan import (
    ChangeState,
    StepId,
    UnreadableChange,
    change_from_json,
    identity_differences,
    reconcile_state,
)
from wizard.vsphere.change_steps import RECONFIGURE_DESCRIPTION
from wizard.vsphere.errors import VmGone, VsphereError
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.job import Job, JobSteps, value_now
from wizard.vsphere.results import Outcome, Reconciliation
from wizard.vsphere.tasks import TaskState, find_task

log = logging.getLogger(__name__)


class Reconciler(JobSteps):
    """Reconciles dangling journal entries."""

    def reconcile(self, entry: JournalEntry, facts_now: VmFacts | None) -> Reconciliation:
        """Decide from the VM's real values what a dangling entry did, and journal it.

        Args:
            entry: an entry whose intent has no outcome (the process died in between).
            facts_now: the VM read now by its moref (None when it no longer exists).
        """
        try:
            changes = tuple(change_from_json(c) for c in entry.changes)
        except UnreadableChange as exc:
            changes = ()
            log.warning("Entry %s: %s", entry.id, exc)
        if facts_now is None:
            state, power, message = (
                "vm_gone",
                None,
                f"{entry.vm.name} ({entry.vm.moref}) no longer exists in this vCenter.",
            )
        elif identity_differences(
            replace(facts_now, moref=entry.vm.moref, instance_uuid=entry.vm.instance_uuid),
            facts_now,
        ):
            state, power, message = (
                "other_vm",
                facts_now.power_state,
                f"{entry.vm.moref} is now another VM (instance UUID {facts_now.instance_uuid}, "
                f"not {entry.vm.instance_uuid}): the entry's VM is gone.",
            )
        else:
            task = self._task_of(entry) if entry.dangling_step == StepId.RECONFIGURE else None
            if task is not None and task.state not in ("success", "error"):
                # The change is still on its way: nothing is settled yet, so nothing is written.
                return Reconciliation(
                    entry.id,
                    "in_progress",
                    facts_now.power_state,
                    f"{entry.vm.name}: vCenter is still running the change that entry "
                    f"{entry.id} sent (task {task.task_id}); the entry stays open until it ends.",
                )
            found = reconcile_state(changes, facts_now) if changes else ChangeState.NOT_APPLIED
            state, power = found.value, facts_now.power_state
            words = {
                ChangeState.APPLIED: "the change is in place",
                ChangeState.NOT_APPLIED: "the change was not made",
                ChangeState.PARTIAL: "only part of the change is in place",
                ChangeState.CHANGED_SINCE: "the settings have other values now (changed since)",
            }[found]
            message = f"{entry.vm.name}: {words}; the VM is {facts_now.power_state}."
            went_down = entry.dangling_step in (
                StepId.SHUTDOWN,
                StepId.POWER_OFF,
                StepId.RECONFIGURE,
                StepId.POWER_ON,
            )
            if went_down and facts_now.power_state == PowerState.OFF:
                message += (
                    " It was shut down for the change and is still off: the next fix on this "
                    "VM powers it on again, or power it on now (vSphere Client, or "
                    f"'checkpoint-wizard power-on {entry.id}')."
                )
        step = entry.dangling_step or "end"
        record = {
            "state": state,
            "power_state": power,
            "found": [
                {"key": c.key, "value": v}
                for c, v in ((c, value_now(facts_now, c)) for c in changes if facts_now is not None)
            ],
        }
        if entry.dangling_step is not None:
            self.journal.outcome(entry.id, step, "reconciled", **record)
        # A later end replaces an earlier one ("unknown" becomes what the VM shows).
        self.journal.end(entry.id, "reconciled", message=message, **record)
        return Reconciliation(entry.id, state, power, message)

    def reconcile_dangling(self) -> tuple[Reconciliation, ...]:
        """Reconcile every dangling entry of this vCenter whose run is over.

        An entry whose run still holds its VM's lease (another window, another terminal) is
        alive, not dangling: it is left alone.
        """
        done = []
        for entry in self.journal.read().dangling:
            if not entry.same_vcenter(str(self.session.endpoint), self.vcenter_id):
                continue
            try:
                with self.journal.lease(
                    entry.vcenter_id or entry.vcenter,
                    entry.vm.instance_uuid,
                    action="reconcile",
                    user=self.session.user,
                ):
                    done.append(self._reconcile_now(entry))
            except VmBusy as busy:
                log.info("Entry %s is still being run: %s", entry.id, busy.owner)
        return tuple(done)

    def _reconcile_now(self, entry: JournalEntry) -> Reconciliation:
        try:
            facts: VmFacts | None = collect_facts(self.session, entry.vm.moref)
        except VmGone:
            facts = None
        return self.reconcile(entry, facts)

    def _task_of(self, entry: JournalEntry) -> TaskState | None:
        """The reconfigure task a dangling entry sent, when vCenter still lists it."""
        sent = next(
            (
                r
                for r in reversed(entry.records)
                if r.step == StepId.RECONFIGURE and r.phase == "intent"
            ),
            None,
        )
        since = sent.data.get("server_time") if sent is not None else None
        if not isinstance(since, str):
            return None
        try:
            return find_task(
                self.session,
                entry.vm.moref,
                RECONFIGURE_DESCRIPTION,
                since=datetime.fromisoformat(since),
                user=entry.user,
            )
        except (VsphereError, ValueError):
            return None

    def _settle_earlier(self, job: Job) -> Reconciliation | None:
        """Reconcile this VM's dangling entries (their runs are over: we hold the lease).

        Returns the first one whose change vCenter is still carrying out, if any.
        """
        for entry in self.journal.read().dangling:
            if entry.vm.instance_uuid != job.identity.instance_uuid or not entry.same_vcenter(
                str(self.session.endpoint), self.vcenter_id
            ):
                continue
            found = self._reconcile_now(entry)
            self._report(
                StepId.REREAD,
                "running",
                None,
                f"An earlier run did not finish (entry {entry.id}): {found.message}",
            )
            if found.state == "in_progress":
                return found
        return None

    @staticmethod
    def _applied_changes(entry: JournalEntry, recorded: Sequence[Change]) -> tuple[Change, ...]:
        """The changes an entry really made: all when it ended applied or was reconciled so."""
        if entry.outcome == Outcome.APPLIED:
            return tuple(recorded)
        for record in reversed(entry.records):
            if record.phase == "end" and record.data.get("state") in (
                ChangeState.APPLIED,
                ChangeState.PARTIAL,
            ):
                return tuple(recorded)
            if (
                record.step == StepId.RECONFIGURE
                and record.phase == "outcome"
                and record.data.get("outcome") == "succeeded"
            ):
                return tuple(recorded)
        return ()
