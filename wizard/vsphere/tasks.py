"""Waiting on vCenter: tasks and property values, with progress, a time limit and cancel.

Waits use a private ``PropertyCollector`` and ``WaitForUpdatesEx`` with a short
``maxWaitSeconds``, so vCenter pushes each change (no polling of the object) and the loop still
looks at its deadline and cancel flag every few seconds. It never sleeps uncancellably.

A wait survives a dropped connection or a renewed session: the collector is created again and
the wait goes on until its deadline (the object's state lives on vCenter, not in the
connection). Stopping a wait never stops the task on vCenter: the caller decides what to do.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wizard.vsphere._pyvmomi import PC, vim
from wizard.vsphere.collector import moref_of, retrieve
from wizard.vsphere.errors import (
    ConnectionLost,
    ConnectionRefused,
    SessionExpired,
    TimedOut,
    TlsFailed,
    VmGone,
    VsphereError,
    translate,
)
from wizard.vsphere.session import Session

log = logging.getLogger(__name__)

MAX_WAIT_SLICE_S = 2
"""Longest single ``WaitForUpdatesEx``: how often the deadline and cancel flag are looked at."""
RECONNECT_PAUSE_S = 0.5
DOWN_LIMIT_S = 60.0
"""How long a wait goes on while vCenter does not answer at all, before it gives up."""
LAST_SECOND_POLL_S = 0.1
TRANSIENT_ERRORS = (ConnectionLost, TimedOut, ConnectionRefused, TlsFailed)
"""Errors after which asking again may work: the network, not vCenter, failed. Within a
session that was set up with a verified certificate, a TLS error means the connection broke
mid-way (``UNEXPECTED_EOF``); a certificate that really changed keeps failing until the
deadline and is then reported as it is."""


class WaitTimedOut(VsphereError):
    """What was awaited did not happen within the time allowed."""

    def __init__(self, what: str, seconds: float) -> None:
        """Name what was awaited and how long."""
        super().__init__(
            f"{what} did not happen within {seconds:g} seconds.",
            "Look at the VM in the vSphere Client before trying again.",
        )
        self.what = what
        self.seconds = seconds


class WaitCancelled(Exception):
    """The caller asked to stop waiting (the operation on vCenter goes on)."""


class TaskFailed(VsphereError):
    """A vCenter task ended in error.

    Attributes:
        task_id: the task's managed object id (``task-123``).
        cause: the task's fault, translated (e.g. :class:`~wizard.vsphere.errors.NoPermission`).
        fault: the vSphere fault type name, e.g. ``"ConcurrentAccess"``.
    """

    def __init__(self, task_id: str, cause: VsphereError, fault: str) -> None:
        """Keep the task id, the translated cause and the fault type."""
        super().__init__(cause.message, cause.next_step)
        self.task_id = task_id
        self.cause = cause
        self.fault = fault


@dataclass(frozen=True)
class TaskState:
    """A task as vCenter reports it.

    Attributes:
        task_id: ``task-123``.
        state: ``queued``, ``running``, ``success`` or ``error``.
        progress: percent done when vCenter says, else None.
        error: the fault of a failed task, translated; None otherwise.
        fault: the fault's vSphere type name (``""`` when none).
        entity: the moref of the object the task works on.
        description_id: e.g. ``VirtualMachine.reconfigure``.
        user: the user who started it, as vCenter names them.
        queue_time: when vCenter queued it (vCenter's clock).
    """

    task_id: str
    state: str
    progress: int | None
    error: VsphereError | None
    fault: str
    entity: str
    description_id: str
    user: str
    queue_time: datetime | None

    @property
    def done(self) -> bool:
        """Whether the task has ended (in success or error)."""
        return self.state in ("success", "error")


Progress = Callable[[int | None, str], None]
"""``progress(percent, message)``; percent None when unknown."""


def _task_state(task_id: str, info: Any) -> TaskState:
    error = getattr(info, "error", None)
    # pyVmomi hands a LocalizedMethodFault over as the fault itself (with its message in
    # ``msg``/``localizedMessage``); other clients wrap it in ``fault``.
    fault = (getattr(error, "fault", None) or error) if error is not None else None
    translated: VsphereError | None = None
    fault_name = ""
    if error is not None:
        fault_name = type(fault).__name__.rsplit(".", 1)[-1] if fault is not None else "unknown"
        translated = translate(fault) if fault is not None else None
        message = str(getattr(error, "localizedMessage", "") or getattr(error, "msg", "") or "")
        if translated is None or (message and type(translated) is VsphereError):
            translated = VsphereError(
                message or "The task failed.", "Look at the task in the vSphere Client."
            )
    reason = getattr(info, "reason", None)
    entity = getattr(info, "entity", None)
    progress = getattr(info, "progress", None)
    return TaskState(
        task_id=task_id,
        state=str(getattr(info, "state", "") or ""),
        progress=int(progress) if progress is not None else None,
        error=translated,
        fault=fault_name,
        entity=moref_of(entity) if entity is not None else "",
        description_id=str(getattr(info, "descriptionId", "") or ""),
        user=str(getattr(reason, "userName", "") or ""),
        queue_time=getattr(info, "queueTime", None),
    )


class _Watch:
    """A private property collector watching some properties of one object."""

    def __init__(self, session: Session, obj: Any, paths: Iterable[str]) -> None:
        self._session = session
        self._obj = obj
        self._paths = list(paths)
        self._collector: Any = None
        self._version = ""

    def open(self) -> None:
        def create() -> Any:
            collector = self._session.content.propertyCollector.CreatePropertyCollector()
            spec = PC.FilterSpec(
                objectSet=[PC.ObjectSpec(obj=self._obj, skip=False)],
                propSet=[PC.PropertySpec(type=type(self._obj), pathSet=self._paths)],
            )
            collector.CreateFilter(spec, partialUpdates=False)
            return collector

        self._collector = self._session.call(create)
        self._version = ""

    @property
    def collector_id(self) -> str:
        return moref_of(self._collector) if self._collector is not None else ""

    def next(self, max_wait: int) -> dict[str, Any] | None:
        """Changed properties (path -> value), or None when nothing changed in ``max_wait``.

        Raises:
            VmGone: the watched object was deleted.
        """
        options = PC.WaitOptions(maxWaitSeconds=max_wait)
        collector = self._collector
        update = self._session.call(lambda: collector.WaitForUpdatesEx(self._version, options))
        if update is None:
            return None
        self._version = update.version
        changes: dict[str, Any] = {}
        for filter_update in update.filterSet or ():
            for obj_update in filter_update.objectSet or ():
                if obj_update.kind == "leave":
                    raise VmGone(moref_of(self._obj))
                for change in obj_update.changeSet or ():
                    changes[change.name] = None if change.op == "remove" else change.val
        return changes

    def close(self) -> None:
        collector, self._collector = self._collector, None
        if collector is None:
            return
        try:
            self._session.call(collector.DestroyPropertyCollector)
        except VsphereError as exc:  # it dies with the session anyway
            log.info("Could not destroy a property collector: %s", exc)


def _pause(seconds: float, cancel: threading.Event | None) -> None:
    """Wait ``seconds``, returning early when cancelled (never an uncancellable sleep)."""
    (cancel or threading.Event()).wait(seconds)


def watch_until(
    session: Session,
    obj: Any,
    paths: Iterable[str],
    until: Callable[[Mapping[str, Any]], bool],
    *,
    what: str,
    timeout: float,
    cancel: threading.Event | None = None,
    on_update: Callable[[Mapping[str, Any], float], None] | None = None,
    on_retry: Callable[[str, float], None] | None = None,
    down_limit: float = DOWN_LIMIT_S,
) -> Mapping[str, Any]:
    """Wait until ``until(values)`` holds for the watched properties of ``obj``.

    Args:
        session: the session.
        obj: a pyVmomi managed object reference.
        paths: the properties to watch.
        until: decides from the current values (path -> value) whether the wait is over.
        what: what is awaited, for the timeout's message ("the guest shutdown").
        timeout: seconds allowed in all.
        cancel: set it to stop waiting (the operation on vCenter goes on).
        on_update: called with the current values and the seconds waited so far, after each
            change and every couple of seconds.
        on_retry: called with a sentence and the seconds vCenter has not answered, each time
            the connection fails and the wait tries again (so a person sees it is trying).
        down_limit: seconds vCenter may stay unreachable before the wait gives up, even when
            ``timeout`` is longer (a five-minute guest shutdown is no reason to stay silent
            for five minutes against a dead vCenter).

    Returns:
        The values that satisfied ``until``.

    Raises:
        WaitTimedOut: not within ``timeout``.
        WaitCancelled: ``cancel`` was set.
        VmGone: the object was deleted.
        VsphereError: vCenter refused the wait, or the connection stayed down to the deadline.
    """
    start = time.monotonic()
    deadline = start + timeout
    values: dict[str, Any] = {}
    watch = _Watch(session, obj, paths)
    down_since: float | None = None
    try:
        opened = False
        while True:
            if cancel is not None and cancel.is_set():
                raise WaitCancelled()
            remaining = deadline - time.monotonic()
            try:
                if not opened:
                    watch.open()
                    opened = True
                # Whole seconds, below the session's read timeout. In the last second before
                # the deadline, look without waiting (0) and pause briefly instead: vCenter
                # only takes whole seconds.
                slice_s = min(MAX_WAIT_SLICE_S, int(session.timeout) - 1, int(remaining))
                changes = watch.next(max(slice_s, 0))
                if slice_s < 1 and not (changes and until({**values, **changes})):
                    _pause(min(LAST_SECOND_POLL_S, max(remaining, 0.0)), cancel)
            except VmGone as exc:
                if exc.moref != watch.collector_id:
                    raise
                opened = False  # the session was renewed and the collector went with it
                continue
            except TRANSIENT_ERRORS as exc:
                now = time.monotonic()
                down_since = now if down_since is None else down_since
                if now >= deadline or now - down_since >= down_limit:
                    raise
                log.info("Waiting for %s: %s; asking again", what, exc.message)
                if on_retry is not None:
                    on_retry(
                        f"vCenter does not answer ({exc.message}); trying again for up to "
                        f"{min(deadline, down_since + down_limit) - now:.0f} s more",
                        now - down_since,
                    )
                opened = False
                _pause(RECONNECT_PAUSE_S, cancel)
                continue
            down_since = None
            if changes:
                values.update(changes)
            if values and until(values):
                return values
            if on_update is not None:
                on_update(values, time.monotonic() - start)
            if time.monotonic() >= deadline:
                raise WaitTimedOut(what, timeout)
    finally:
        watch.close()


def task_ref(session: Session, task_id: str) -> Any:
    """A reference to the task ``task_id``."""
    return session.managed_object(vim.Task, task_id)


def wait_for_task(
    session: Session,
    task_id: str,
    *,
    timeout: float,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    down_limit: float = DOWN_LIMIT_S,
) -> TaskState:
    """Wait for a task to end, reporting its progress.

    Returns:
        The ended task (state ``success`` or ``error``).

    Raises:
        WaitTimedOut, WaitCancelled, VsphereError: see :func:`watch_until`.
    """
    last: list[int | None] = [-1]

    def report(values: Mapping[str, Any], _waited: float) -> None:
        info = values.get("info")
        if progress is None or info is None:
            return
        pct = getattr(info, "progress", None)
        if pct != last[0]:
            last[0] = pct
            progress(int(pct) if pct is not None else None, f"vCenter task {task_id}")

    def ended(values: Mapping[str, Any]) -> bool:
        info = values.get("info")
        return info is not None and str(info.state) in ("success", "error")

    values = watch_until(
        session,
        task_ref(session, task_id),
        ["info"],
        ended,
        what=f"The end of vCenter task {task_id}",
        timeout=timeout,
        cancel=cancel,
        on_update=report,
        on_retry=(lambda message, _down: progress(None, message)) if progress else None,
        down_limit=down_limit,
    )
    state = _task_state(task_id, values["info"])
    if progress is not None and state.state == "success":
        progress(100, f"vCenter task {task_id}")
    return state


def raise_for(state: TaskState) -> TaskState:
    """Return ``state`` when the task succeeded.

    Raises:
        TaskFailed: the task ended in error.
    """
    if state.state == "error":
        cause = state.error or VsphereError("The task failed.", "Look at the task in vCenter.")
        raise TaskFailed(state.task_id, cause, state.fault)
    return state


def server_time(session: Session) -> datetime:
    """vCenter's clock now (task queue times are on it, not on ours)."""
    instance = session.managed_object(vim.ServiceInstance, "ServiceInstance")
    when: datetime = session.call(instance.CurrentTime)
    return when


def _same_user(reported: str, ours: str) -> bool:
    """vCenter may name ``helpdesk@vsphere.local`` as ``VSPHERE.LOCAL\\helpdesk``."""

    def local(name: str) -> str:
        return name.rsplit("\\", 1)[-1].split("@", 1)[0].casefold()

    return local(reported) == local(ours)


def find_task(
    session: Session,
    entity: str,
    description_id: str,
    *,
    since: datetime,
    user: str,
) -> TaskState | None:
    """Find the task we submitted when its answer was lost (the connection dropped).

    Looks at the VM's recent tasks and the task manager's, for a task on ``entity`` of kind
    ``description_id``, queued by ``user`` at or after ``since`` (vCenter's clock, read before
    submitting).

    Returns:
        The task, or None when there is none or more than one matches (then only the VM's
        re-read state can tell what happened).
    """

    def read() -> list[Any]:
        content = session.content
        vm = session.managed_object(vim.VirtualMachine, entity)
        refs: dict[str, Any] = {}
        for ref in list(content.taskManager.recentTask or ()) + list(vm.recentTask or ()):
            refs[moref_of(ref)] = ref
        if not refs:
            return []
        spec = PC.FilterSpec(
            objectSet=[PC.ObjectSpec(obj=ref, skip=False) for ref in refs.values()],
            propSet=[PC.PropertySpec(type=vim.Task, pathSet=["info"])],
        )
        return retrieve(content.propertyCollector, [spec])

    found = []
    for obj in session.call(read):
        state = _task_state(obj.moref, obj.get("info"))
        if (
            state.entity == entity
            and state.description_id == description_id
            and _same_user(state.user, user)
            and state.queue_time is not None
            and state.queue_time >= since
        ):
            found.append(state)
    log.info("Looking for our %s task on %s: %d candidates", description_id, entity, len(found))
    return found[0] if len(found) == 1 else None


def reconnect(
    session: Session,
    *,
    timeout: float,
    cancel: threading.Event | None = None,
    on_wait: Callable[[float], None] | None = None,
) -> None:
    """Wait until vCenter answers again (a new connection, the same or a renewed session).

    Args:
        on_wait: called with the seconds waited so far after each failed try, so that a
            person watching sees that the wizard is still trying.

    Raises:
        VsphereError: it did not answer within ``timeout``; SessionExpired when the session
            could not be renewed.
    """
    start = time.monotonic()
    deadline = start + timeout
    while True:
        try:
            server_time(session)
            return
        except SessionExpired:
            raise
        except TRANSIENT_ERRORS:
            if time.monotonic() >= deadline:
                raise
            if on_wait is not None:
                on_wait(time.monotonic() - start)
            _pause(RECONNECT_PAUSE_S, cancel)
