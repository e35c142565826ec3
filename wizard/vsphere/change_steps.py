"""The steps that change the VM and check the change: the reconfiguration (guarded by the
``changeVersion`` read at check time, followed to its task's end, a lost answer found again
rather than resent), the resolution set in the guest, and the verification by reading the VM
again and judging it anew."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime

from wizard.audit import UNSETTLED
from wizard.kb.facts import VmFacts
from wizard.kb.model import Change, ChangeTarget, RemedyId
from wizard.kb.plan import ChangeState, StepId, reconcile_state, value_differences, verify
from wizard.kb.rules import assess, upgrade_pending
from wizard.vsphere._pyvmomi import vim
from wizard.vsphere.changes import (
    UnsupportedChange,
    config_spec,
    describe_spec,
    parse_screen,
    read_video_card,
    run_resolution_tool,
)
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.job import Job, JobSteps, Stop
from wizard.vsphere.results import ApplyResult, Outcome, Reason
from wizard.vsphere.tasks import (
    TRANSIENT_ERRORS,
    TaskFailed,
    TaskState,
    find_task,
    raise_for,
    reconnect,
    server_time,
    wait_for_task,
)

RECONFIGURE_DESCRIPTION = "VirtualMachine.reconfigure"

SETTLE_PAUSE_S = 0.5


class ChangeSteps(JobSteps):
    """The change steps of a run, and its verification."""

    def _reconfigure(self, job: Job, now: VmFacts, changes: tuple[Change, ...], guard: str) -> None:
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        moref = now.moref
        try:
            card = (
                read_video_card(self.session, moref)
                if any(c.target is ChangeTarget.VIDEO_CARD for c in changes)
                else None
            )
            policy = now.upgrade_policy
            spec = config_spec(
                changes,
                change_version=guard,
                video_card=card,
                upgrade_version_key=policy.version_key if policy is not None else None,
            )
            since = server_time(self.session)
        except UnsupportedChange as exc:
            raise Stop(Outcome.FAILED, Reason.TASK_ERROR, str(exc), "") from None
        except VsphereError as exc:
            raise self._stop_for(exc, job) from None

        self._intent(job, step, spec=describe_spec(changes, guard), server_time=since.isoformat())
        self._report(step, "running", 0, "Sending the change to vCenter")
        vm = self.session.managed_object(vim.VirtualMachine, moref)
        task_id: str | None = None
        try:
            task_id = str(self.session.call(lambda: vm.ReconfigVM_Task(spec))._moId)
        except TRANSIENT_ERRORS as exc:
            task_id = self._find_lost_change(job, moref, since, exc, changes)
            if task_id is None:
                return  # the change is in place: found by reading the VM
        except VsphereError as exc:
            self._outcome(job, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise self._stop_for(exc, job) from None

        job.task_ids.append(task_id)
        try:
            state = wait_for_task(
                self.session,
                task_id,
                timeout=self.task_timeout,
                down_limit=self.reconnect_timeout,
                progress=lambda pct, msg: self._report(step, "running", pct, msg),
            )
        except VsphereError as exc:
            # Waiting failed, not the task: its real outcome is unknown until we look again.
            self._outcome(job, step, "unknown", task_id=task_id, error=exc.message)
            self._step(job, step, "failed", exc.message, task_id)
            raise Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The end of vCenter task {task_id} could not be followed: {exc.message}",
                "Look at the task in the vSphere Client, then check the VM again.",
            ) from None
        self._task_ended(job, state, changes)

    def _find_lost_change(
        self,
        job: Job,
        moref: str,
        since: datetime,
        exc: VsphereError,
        changes: tuple[Change, ...],
    ) -> str | None:
        """The answer to our submit was lost: find out what vCenter did; never resubmit.

        Whether vCenter got the request cannot be told from this side of a broken
        connection (a request lost on its way and an answer lost on its way back look the
        same). So: reconnect, then look for the task, and read the VM's values, until one of
        them settles it or ``settle_timeout`` passes. Unsettled, the step's outcome stays
        open (``unknown``): the next run on this VM settles it before changing anything.

        Returns:
            The task's id to follow, or None when the values show the change in place.
        """
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        self._report(
            step,
            "running",
            None,
            f"{exc.message} Reconnecting to find out whether vCenter got the change",
        )
        state = ChangeState.NOT_APPLIED
        try:
            reconnect(
                self.session,
                timeout=self.reconnect_timeout,
                on_wait=lambda waited: self._report(
                    step,
                    "running",
                    None,
                    f"vCenter does not answer ({waited:.0f} s of {self.reconnect_timeout:g} s); "
                    "still trying",
                ),
            )
            deadline = time.monotonic() + self.settle_timeout
            while True:
                found = find_task(
                    self.session,
                    moref,
                    RECONFIGURE_DESCRIPTION,
                    since=since,
                    user=self.session.user,
                )
                if found is not None:
                    self._report(step, "running", found.progress, f"Found task {found.task_id}")
                    return found.task_id
                state = reconcile_state(changes, collect_facts(self.session, moref))
                if state is ChangeState.APPLIED:
                    self._outcome(job, step, "succeeded", connection_lost=True, found_by="re-read")
                    self._step(
                        job, step, "done", "The change is in place (found by reading the VM)."
                    )
                    return None
                if time.monotonic() >= deadline:
                    break
                self._report(step, "running", None, "Looking for the change on vCenter")
                time.sleep(SETTLE_PAUSE_S)
        except VsphereError as again:
            self._outcome(job, step, UNSETTLED, error=again.message, connection_lost=True)
            self._step(job, step, "failed", again.message)
            raise Stop(
                Outcome.FAILED,
                Reason.OUTCOME_UNKNOWN,
                f"The connection to vCenter was lost after the change was sent, and vCenter "
                f"could not be asked again ({again.message}). Whether the change was made is "
                "not known.",
                "When vCenter answers again, the next fix, undo or power-on on this VM (or "
                "connecting with the wizard) looks the change up on the VM before anything else "
                "is done to it; 'checkpoint-wizard journal' lists it as unfinished meanwhile.",
            ) from None
        self._outcome(job, step, UNSETTLED, connection_lost=True, state=state.value)
        self._step(job, step, "failed", "vCenter shows no sign of the change so far.")
        raise Stop(
            Outcome.FAILED,
            Reason.OUTCOME_UNKNOWN,
            "The connection to vCenter was lost while the change was being sent. After "
            f"{self.settle_timeout:g} s vCenter shows no sign of it (no task, the settings "
            f"{state.value.replace('_', ' ')}), so it most likely did not arrive, but that is "
            "not certain.",
            "The journal keeps this change open: the next fix, undo or power-on on this VM (or "
            "connecting with the wizard) looks for it again before changing anything.",
        )

    def _task_ended(self, job: Job, state: TaskState, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        step = StepId.RECONFIGURE
        try:
            raise_for(state)
        except TaskFailed as exc:
            self._task_failed(job, step, exc, fault=exc.fault)
            if exc.fault == "ConcurrentAccess":
                # Show what the other change did to the settings this plan touches, as a stale
                # plan does (the power state is left out: we may have shut the VM down).
                now = self._read_quietly(job)
                if now is not None:
                    job.differences = value_differences(changes, now, expect="before")
                shown = "; ".join(d.describe() for d in job.differences)
                raise Stop(
                    Outcome.REFUSED,
                    Reason.CONCURRENT_CHANGE,
                    "vCenter refused the change because someone else changed the VM since it "
                    "was checked. Nothing was changed."
                    + (f" Changed meanwhile: {shown}." if shown else ""),
                    "Check the VM again and choose the fix anew.",
                ) from None
            if exc.fault == "InvalidPowerState":
                raise Stop(
                    Outcome.FAILED,
                    Reason.WRONG_POWER_STATE,
                    f"vCenter refused the change in the VM's power state: {exc.message} "
                    "Nothing was changed.",
                    "Check the VM's power state (someone may have started it) and run the fix "
                    "again.",
                ) from None
            raise self._stop_for(exc.cause, job) from None
        self._outcome(job, step, "succeeded", task_id=state.task_id)
        self._step(job, step, "done", "vCenter made the change.", state.task_id)

    def _guest_resolution(self, job: Job, now: VmFacts, changes: tuple[Change, ...]) -> None:
        assert job.entry_id is not None
        assert job.guest_credentials is not None
        step = StepId.GUEST_RESOLUTION
        creds = job.guest_credentials
        for change in changes:
            width, height = parse_screen(change.after or "")
            self._intent(job, step, guest_user=creds.user, screen=change.after)
            self._report(step, "running", None, f"Setting {width}x{height} in the guest")
            try:
                pid, code = run_resolution_tool(
                    self.session,
                    now.moref,
                    user=creds.user,
                    password=creds.password,
                    width=width,
                    height=height,
                    timeout=self.guest_tool_timeout,
                )
            except VsphereError as exc:
                self._outcome(job, step, "failed", error=exc.message)
                self._step(job, step, "failed", exc.message)
                stop = self._stop_for(exc, job)
                if stop.reason is Reason.TASK_ERROR:
                    stop.reason = Reason.GUEST_TOOL_FAILED
                raise stop from None
            if code != 0:
                message = (
                    f"The resolution tool ended with code {code} in the guest."
                    if code is not None
                    else "The resolution tool did not end in time."
                )
                self._outcome(job, step, "failed", pid=pid, exit_code=code)
                self._step(job, step, "failed", message)
                raise Stop(
                    Outcome.FAILED,
                    Reason.GUEST_TOOL_FAILED,
                    message + " It needs a user logged on to the guest's desktop.",
                    "Have the user log on (an interactive session), then run the fix again.",
                )
            self._outcome(job, step, "succeeded", pid=pid, exit_code=code)
            self._step(job, step, "done", f"The guest now shows {width}x{height} or less.")

    def _verify(self, job: Job, facts: VmFacts | None, *, nothing_done: bool) -> ApplyResult:
        step = StepId.VERIFY
        if not nothing_done:
            self._report(step, "running", None, "Reading the VM again")
        try:
            after = facts if facts is not None else self._read(job, job.identity.moref)
        except Stop as stop:
            self._step(job, step, "failed", stop.message)
            return self._finish(
                job,
                Outcome.FAILED,
                f"The change was made, but the VM could not be read again: {stop.message}",
                "Check the VM again.",
                Reason.VERIFICATION_FAILED,
            )
        checks = verify(job.changes, after)
        # Failures seen before this run stay on record, but cannot disprove the change.
        fresh = tuple(e for e in after.evidence if e.time is not None and e.time > job.started)
        assessment = assess(replace(after, evidence=fresh))
        verdict = assessment.verdict
        values_ok = all(c.in_place for c in checks)
        verdict_ok = job.promised is None or verdict in job.promised
        if (
            job.action == "apply"
            and job.remedy_id == RemedyId.STAY_ON_HW7
            and upgrade_pending(after)
        ):
            verdict_ok = False
        old = (
            " Earlier failures stay on record; a test vMotion proves it." if after.evidence else ""
        )
        if values_ok and not verdict_ok and nothing_done and job.action == "apply":
            # Nothing was changed, so there is no change of ours to disprove; but say plainly
            # that the verdict is not yet what the fix promises (e.g. an off VM's screen can't
            # be read, so its buffer can't be judged).
            old += f" The verdict is still “{verdict.label}”: " + (
                assessment.notes[-1] if assessment.notes else assessment.reason
            )
            verdict_ok = True
        if values_ok and verdict_ok:
            if not nothing_done:
                self._step(
                    job,
                    step,
                    "done",
                    f"Every change is in place; the verdict is “{verdict.label}”.",
                )
            if job.action == "undo":
                text = (
                    f"Undone on {after.name}: the earlier values are back (verified); the "
                    f"verdict is “{verdict.label}” again."
                )
            else:
                what = "Nothing to change: the fix is already in effect" if nothing_done else "Done"
                text = (
                    f"{what} on {after.name}; verified, the verdict is now “{verdict.label}”.{old}"
                )
            return self._finish(
                job,
                Outcome.NOTHING_TO_DO if nothing_done else Outcome.APPLIED,
                text,
                "Try a vMotion of the VM to confirm." if job.action == "apply" else "",
                facts_after=after,
                checks=checks,
                assessment=assessment,
            )
        missing = "; ".join(
            f"{c.change.key}: wanted {c.change.after}, found {c.found}"
            for c in checks
            if not c.in_place
        )
        problem = missing or f"the verdict is “{verdict.label}”, not what the fix promises"
        self._step(job, step, "failed", problem)
        return self._finish(
            job,
            Outcome.FAILED,
            f"Verification failed on {after.name}: {problem}.",
            "Check the VM again; look at its recent tasks in the vSphere Client.",
            Reason.VERIFICATION_FAILED,
            facts_after=after,
            checks=checks,
            assessment=assessment,
        )
