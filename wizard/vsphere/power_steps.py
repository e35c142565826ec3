"""How a run brings the VM down and up again: consent, a shutdown through VMware Tools or a hard
power-off, the power-on (also one an earlier run owes), and the power-on after a failure."""

from __future__ import annotations

from collections.abc import Mapping

from wizard.audit import UNSETTLED, VmIdentity
from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.plan import StepId, hard_power_off
from wizard.vsphere.errors import VsphereError
from wizard.vsphere.job import Job, JobSteps, Stop, power_on_next
from wizard.vsphere.power import (
    ShutdownTimedOut,
    ToolsNotRunning,
    power_off,
    power_on,
    shutdown_guest,
)
from wizard.vsphere.results import Outcome, Reason
from wizard.vsphere.tasks import TRANSIENT_ERRORS, Progress, TaskFailed, TaskState, reconnect


class PowerSteps(JobSteps):
    """The power steps of a run."""

    def owed_power_on(self, identity: VmIdentity, power_state: str | None) -> str | None:
        """The journal entry that shut this VM down and never powered it on again.

        A run interrupted after its shutdown (killed, a lost connection, a guest that went off
        after the time limit) leaves the VM off although it was on. When the VM is still off,
        the next run on it owes the user that power-on. Returns that entry's id, or None.
        """
        if power_state != PowerState.OFF:
            return None
        for entry in reversed(self.journal.read().entries):
            if entry.vm.instance_uuid != identity.instance_uuid or not entry.same_vcenter(
                str(self.session.endpoint), self.vcenter_id
            ):
                continue
            down: bool | None = None
            for r in entry.records:
                if r.step in (StepId.SHUTDOWN, StepId.POWER_OFF) and r.phase in (
                    "intent",
                    "outcome",
                ):
                    down = r.phase == "intent" or r.data.get("outcome") != "failed"
                elif (
                    r.step == StepId.POWER_ON
                    and r.phase == "outcome"
                    and (
                        r.data.get("outcome") == "succeeded"
                        or r.data.get("power_state") == PowerState.ON
                    )
                ):
                    down = False
            if down is None:
                continue  # this entry did nothing to the power: look further back
            begin = entry.records[0].data if entry.records else {}
            consent = begin.get("consent")
            left_off = isinstance(consent, Mapping) and consent.get("leave_powered_off") is True
            return entry.id if down and not left_off else None
        return None

    def _check_power_consent(self, job: Job, now: VmFacts) -> bool:
        """Whether a hard power-off is needed (and consented to); refuse without consent.

        Decided by :func:`~wizard.kb.plan.hard_power_off`, the rule the plan shown beforehand
        (:func:`~wizard.kb.plan.planned_run`) follows too.
        """
        if hard_power_off(now.power_state, now.tools_running, allowed=job.allow_hard_poweroff):
            return True
        if now.power_state != PowerState.ON:  # suspended: no guest to shut down
            raise Stop(
                Outcome.REFUSED,
                Reason.CONSENT_HARD_POWEROFF,
                f"{now.name} is {now.power_state}: it must be powered off hard (its "
                "suspended state is lost) for this change. Nothing was changed.",
                "Allow a hard power-off (--allow-hard-poweroff), or resume the VM and shut "
                "it down normally first.",
            )
        if not now.tools_running:
            raise Stop(
                Outcome.REFUSED,
                Reason.TOOLS_NOT_RUNNING,
                f"{now.name} must be off for this change, and VMware Tools are not running in "
                "it, so its guest cannot be shut down gracefully. Nothing was changed.",
                "Choose: start Tools (or shut the guest down yourself) and run the fix again; "
                "allow a hard power-off (--allow-hard-poweroff), which loses unsaved work in "
                "the guest; or pick a fix that needs no shutdown.",
            )
        if not job.allow_shutdown:
            raise Stop(
                Outcome.REFUSED,
                Reason.CONSENT_SHUTDOWN,
                f"{now.name} must be shut down for this change and started again. Nothing was "
                "changed.",
                "Warn the user, then allow the shutdown (--allow-shutdown).",
            )
        return False

    def _power_down(self, job: Job, now: VmFacts, hard: bool) -> None:
        assert job.entry_id is not None
        step = StepId.POWER_OFF if hard else StepId.SHUTDOWN
        self._intent(job, step, power_state=now.power_state)
        self._report(step, "running", 0, "Shutting down the guest" if not hard else "Powering off")
        # From here on the VM may be going down: it is powered on again whatever happens.
        job.powered_down = True
        try:
            if hard:
                task = power_off(
                    self.session,
                    now.moref,
                    timeout=self.task_timeout,
                    down_limit=self.reconnect_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
                job.task_ids.append(task.task_id)
            else:
                shutdown_guest(
                    self.session,
                    now.moref,
                    now.name,
                    timeout=job.shutdown_timeout,
                    down_limit=self.reconnect_timeout,
                    progress=lambda pct, msg: self._report(step, "running", pct, msg),
                )
        except ToolsNotRunning as exc:
            job.powered_down = False
            self._outcome(job, step, "failed", error=exc.message)
            self._step(job, step, "failed", exc.message)
            raise Stop(
                Outcome.REFUSED,
                Reason.TOOLS_NOT_RUNNING,
                exc.message + " Nothing was changed.",
                exc.next_step,
            ) from None
        except ShutdownTimedOut as exc:
            # The guest may still be shutting down: do not power it on under it. The step stays
            # open, so that the next run on this VM powers it on again if it did go off.
            job.powered_down = False
            job.power_state = exc.power_state
            self._outcome(
                job,
                step,
                UNSETTLED,
                timed_out=True,
                power_state=exc.power_state,
                error=exc.message,
            )
            self._step(job, step, "failed", exc.message)
            raise Stop(
                Outcome.FAILED,
                Reason.SHUTDOWN_TIMEOUT,
                exc.message + " The guest may still be shutting down: if it goes off, the next "
                "fix on this VM powers it on again (or power it on from the vSphere Client).",
                exc.next_step,
            ) from None
        except TaskFailed as exc:
            job.powered_down = False
            self._task_failed(job, step, exc)
            raise self._stop_for(exc.cause, job) from None
        except VsphereError as exc:
            # After a broken connection the request may still have been carried out: say the
            # power state found (None: unknown), and power the VM on again if it went off.
            found = (
                self._power_state_now(now.moref)
                if isinstance(exc, TRANSIENT_ERRORS)
                else now.power_state
            )
            job.power_state = found
            job.powered_down = found == PowerState.OFF
            self._outcome(
                job,
                step,
                "failed" if found is not None else UNSETTLED,
                error=exc.message,
                power_state=found,
            )
            self._step(job, step, "failed", exc.message)
            stop = self._stop_for(exc, job)
            if found is None:
                stop.message += (
                    f" vCenter stopped answering while {job.identity.name} was being shut down: "
                    "nothing was changed, but whether the VM is off now is not known. When "
                    "vCenter answers again, the next fix on this VM powers it on again if it is "
                    "off (or power it on from the vSphere Client)."
                )
            raise stop from None
        job.power_state = PowerState.OFF
        self._outcome(job, step, "succeeded", power_state=PowerState.OFF)
        self._step(job, step, "done", "The VM is off.", job.task_ids[-1] if hard else None)

    def _power_on(self, job: Job) -> None:
        assert job.entry_id is not None
        moref = job.identity.moref
        step = StepId.POWER_ON
        self._intent(job, step, required=False)
        self._report(step, "running", None, "Powering the VM on")

        def send(progress: Progress | None) -> tuple[TaskState, bool]:
            return power_on(
                self.session,
                moref,
                timeout=self.task_timeout,
                tools_timeout=self.tools_timeout,
                down_limit=self.reconnect_timeout,
                progress=progress,
            )

        task: TaskState | None
        try:
            try:
                task, tools = send(lambda pct, msg: self._report(step, "running", pct, msg))
            except TRANSIENT_ERRORS:
                # A power-on sent twice is harmless (the second is refused): ask what happened.
                reconnect(self.session, timeout=self.reconnect_timeout)
                state = self._power_state_now(moref)
                if state != PowerState.ON:
                    task, tools = send(None)
                else:
                    task, tools = None, False
        except TaskFailed as exc:
            job.task_ids.append(exc.task_id)
            job.power_state = self._power_state_now(moref)
            if job.power_state == PowerState.ON:
                # Someone (a colleague, HA) started it meanwhile: what we wanted has happened.
                job.powered_down = False
                self._outcome(
                    job,
                    step,
                    "succeeded",
                    task_id=exc.task_id,
                    power_state=PowerState.ON,
                    started_by_someone_else=True,
                )
                self._step(job, step, "done", "The VM is on (someone else started it).")
                return
            self._task_failed(job, step, exc, power_state=job.power_state)
            raise Stop(Outcome.FAILED, Reason.POWER_ON_FAILED, exc.message, exc.next_step) from None
        except VsphereError as exc:
            job.power_state = self._power_state_now(moref)
            self._outcome(job, step, "failed", error=exc.message, power_state=job.power_state)
            self._step(job, step, "failed", exc.message)
            raise Stop(Outcome.FAILED, Reason.POWER_ON_FAILED, exc.message, exc.next_step) from None
        job.powered_down = False
        job.power_state = PowerState.ON
        task_id = task.task_id if task is not None else None
        if task_id:
            job.task_ids.append(task_id)
        self._outcome(
            job,
            step,
            "succeeded",
            task_id=task_id,
            power_state=PowerState.ON,
            tools_running=tools,
        )
        note = "" if tools else " (VMware Tools have not started yet)"
        self._step(job, step, "done", f"The VM is on{note}.", task_id)

    def _restore_power(self, job: Job, stop: Stop) -> VmFacts | None:
        """After a failure with the VM shut down by us: power it on again, and say so."""
        if job.leave_powered_off:
            return self._read_quietly(job)
        try:
            self._power_on(job)
        except Stop as failed:
            stop.message += (
                f" The VM was shut down for the change and could not be powered on again: "
                f"{failed.message}"
            )
            stop.next_step = power_on_next(job.entry_id)
            return self._read_quietly(job)
        stop.message += " The VM was powered on again."
        return self._read_quietly(job)
