"""The thread bridge: worker threads per vCenter session, so the GUI never waits on the network.

pyVmomi blocks. A :class:`SessionWorker` owns a ``QThread`` and, inside it, the session; pages
hand it callables with :meth:`SessionWorker.submit` (any function) or
:meth:`SessionWorker.submit_session` (a function that takes the session first) and get a
:class:`Job` back whose signals report the result on the GUI thread. Jobs run one after another
in submission order; a cancelled job that has not started is skipped, and the result of one that
was already running is dropped when it arrives. Long jobs made of several remote calls receive a
:class:`CancelToken` and check it between calls.

A long read (the whole VM list) goes to :meth:`SessionWorker.submit_bulk`: a second thread of its
own, using the same session, so that the short calls (finding and checking the VM of a ticket)
never queue behind it. The two threads share the session as ``together()`` in
``wizard.vsphere.collector`` does: pyVmomi hands each request its own pooled connection. Should
the session expire under both, one logs in again and the other waits for that login
(``Session.call``), so no second session is left on vCenter.

The owner calls :meth:`SessionWorker.stop` when its window closes: it closes the session in the
worker thread, then quits and waits for both threads (a ``QThread`` destroyed while running
aborts the process). A bulk read still in flight then fails or ends on its own; its job was
cancelled, so what it brings is dropped.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QObject, QThread, Signal, Slot

_log = logging.getLogger(__name__)


class Closable(Protocol):
    """What the worker needs of a session: a way to log out."""

    def close(self) -> None: ...


class Cancelled(Exception):
    """Raised inside a job by :meth:`CancelToken.raise_if_cancelled` at a safe point."""


class NotConnected(Exception):
    """A session job was submitted while the worker holds no session."""

    def __init__(self) -> None:
        super().__init__("Not connected to vCenter. Go back to the Connect page and sign in.")


class CancelToken:
    """Thread-safe cancellation flag shared by a job and the GUI.

    Attributes:
        cancelled: whether cancellation was asked for.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next safe point."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was asked for (call between remote calls)."""
        if self._event.is_set():
            raise Cancelled


class Job(QObject):
    """One queued call and its outcome, living on the GUI thread.

    Exactly one of ``succeeded``, ``failed`` or ``cancelled`` is emitted, then ``finished``.

    Signals:
        succeeded(object): the callable's return value.
        failed(object): the exception it raised.
        cancelled(): the job was cancelled (its late result, if any, is dropped).
        progress(object): whatever the callable passed to its ``report`` callback.
        finished(): after any of the above.

    Attributes:
        token: the job's cancellation flag, also handed to callables that ask for it.
        description: short words for logs ("connect", "read the VM list", ...).
    """

    succeeded = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    progress = Signal(object)
    finished = Signal()

    def __init__(self, job_id: int, description: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.id = job_id
        self.description = description
        self.token = CancelToken()
        self._done = False

    @property
    def done(self) -> bool:
        """Whether the job has reported its outcome."""
        return self._done

    def cancel(self) -> None:
        """Cancel: the job reports ``cancelled`` at once; what it does later is ignored."""
        if self._done:
            return
        self.token.cancel()
        self._finish("cancelled", None)

    def _finish(self, kind: str, payload: object) -> None:
        if self._done:
            return
        self._done = True
        if kind == "ok":
            self.succeeded.emit(payload)
        elif kind == "error":
            self.failed.emit(payload)
        else:
            self.cancelled.emit()
        self.finished.emit()


class _ThreadRunner(QObject):
    """Lives in the worker thread and runs what it is given there.

    Signals:
        done(int, str, object): job id, ``"ok"``/``"error"``/``"cancelled"``, payload.
        progress(int, object): job id, progress payload.
    """

    done = Signal(int, str, object)
    progress = Signal(int, object)

    def __init__(self, owner: _ThreadRunner | None = None) -> None:
        super().__init__()
        self._session: Closable | None = None
        self._owner = owner

    @property
    def session(self) -> Closable | None:
        """The session: this runner's own, or (the bulk runner) its owner's."""
        return self._owner._session if self._owner is not None else self._session

    @Slot(int, object)
    def on_worker_run(self, job_id: int, call: object) -> None:
        assert callable(call)
        try:
            result = call(self)
        except Cancelled:
            self.done.emit(job_id, "cancelled", None)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the page that asked
            _log.info("job %d failed: %s", job_id, type(exc).__name__)
            self.done.emit(job_id, "error", exc)
        else:
            self.done.emit(job_id, "ok", result)

    def close_session(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            try:
                session.close()
            except Exception as exc:  # noqa: BLE001 - logging out must never stop a shutdown
                _log.info("closing the session failed: %s", type(exc).__name__)


class SessionWorker(QObject):
    """Runs gateway calls on a thread of its own and owns the vCenter session there.

    Signals:
        sessionChanged(bool): a session was opened (True) or closed (False).
        busyChanged(bool): whether any job is queued or running.
        _run(int, object): internal, queues a call to the worker thread.
        _run_bulk(int, object): internal, queues a call to the bulk thread.

    Attributes:
        connected: whether the worker holds a session (as last reported to the GUI thread).
    """

    sessionChanged = Signal(bool)
    busyChanged = Signal(bool)
    _run = Signal(int, object)
    _run_bulk = Signal(int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, Job] = {}
        self._runner = _ThreadRunner()
        self._thread = self._start_thread("vcenter-worker", self._runner, self._run)
        # Started on the first bulk job only: most workers (the lab's) never need it.
        self._bulk_runner: _ThreadRunner | None = None
        self._bulk_thread: QThread | None = None
        self._stopped = False
        self.connected = False

    def _start_thread(self, name: str, runner: _ThreadRunner, run: Any) -> QThread:
        thread = QThread()
        thread.setObjectName(name)
        runner.moveToThread(thread)
        run.connect(runner.on_worker_run)
        runner.done.connect(self.on_runner_done)
        runner.progress.connect(self.on_runner_progress)
        thread.finished.connect(runner.deleteLater)
        thread.start()
        return thread

    # ------------------------------------------------------------------------ submitting

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        description: str = "",
        with_token: bool = False,
        with_report: bool = False,
    ) -> Job:
        """Run ``fn(*args)`` on the worker thread.

        Args:
            fn: any callable; it must not touch widgets.
            description: short words for the log.
            with_token: pass the job's :class:`CancelToken` as keyword ``cancel``.
            with_report: pass a ``report(payload)`` callable as keyword ``report``; each call
                emits the job's ``progress`` signal on the GUI thread.
        """
        return self._queue(fn, args, description, with_token, with_report, needs_session=False)

    def submit_session(
        self,
        fn: Callable[..., Any],
        *args: Any,
        description: str = "",
        with_token: bool = False,
        with_report: bool = False,
    ) -> Job:
        """Run ``fn(session, *args)`` on the worker thread; fails with NotConnected without one."""
        return self._queue(fn, args, description, with_token, with_report, needs_session=True)

    def submit_bulk(
        self,
        fn: Callable[..., Any],
        *args: Any,
        description: str = "",
        with_report: bool = False,
    ) -> Job:
        """Run ``fn(session, *args)`` on the bulk thread, beside the jobs of :meth:`submit_session`.

        For one long read that other calls must not wait for (the whole VM list). Bulk jobs run
        one after another; they fail with NotConnected without a session. ``with_report`` as
        for :meth:`submit` (passed as the keyword ``report``).
        """
        if self._bulk_thread is None and not self._stopped:
            self._bulk_runner = _ThreadRunner(owner=self._runner)
            self._bulk_thread = self._start_thread(
                "vcenter-bulk", self._bulk_runner, self._run_bulk
            )
        return self._queue(
            fn, args, description, False, with_report, needs_session=True, run=self._run_bulk
        )

    def open_session(self, factory: Callable[..., Closable], *args: Any, description: str) -> Job:
        """Run ``factory(*args)`` on the worker thread and keep what it returns as the session.

        A session opened by a job that was cancelled in the meantime is closed at once.
        The job succeeds with None: the session object never leaves the worker thread.
        """
        job = self._new_job(description or "connect")

        def call(runner: _ThreadRunner) -> None:
            session = factory(*args)
            if job.token.cancelled:
                session.close()
                raise Cancelled
            runner.close_session()
            runner._session = session
            return None

        job.succeeded.connect(self.on_session_opened)
        self._run.emit(job.id, call)
        return job

    def close_session(self) -> Job:
        """Log out on the worker thread (queued after any running job)."""
        job = self._new_job("log out")

        def call(runner: _ThreadRunner) -> None:
            runner.close_session()

        job.finished.connect(self.on_session_closed)
        self._run.emit(job.id, call)
        return job

    def _queue(
        self,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        description: str,
        with_token: bool,
        with_report: bool,
        *,
        needs_session: bool,
        run: Any = None,
    ) -> Job:
        job = self._new_job(description or getattr(fn, "__name__", "job"))
        job_id, token = job.id, job.token
        progress = self._runner.progress

        def call(runner: _ThreadRunner) -> object:
            if token.cancelled:
                raise Cancelled
            kwargs: dict[str, Any] = {}
            if with_token:
                kwargs["cancel"] = token
            if with_report:
                kwargs["report"] = lambda payload: progress.emit(job_id, payload)
            if needs_session:
                session = runner.session
                if session is None:
                    raise NotConnected
                return fn(session, *args, **kwargs)
            return fn(*args, **kwargs)

        (run if run is not None else self._run).emit(job.id, call)
        return job

    def _new_job(self, description: str) -> Job:
        if self._stopped:
            raise RuntimeError("the worker was stopped")
        job = Job(next(self._ids), description, self)
        was_idle = not self._jobs
        self._jobs[job.id] = job
        job.finished.connect(job.deleteLater)
        _log.debug("job %d queued: %s", job.id, description)
        if was_idle:
            self.busyChanged.emit(True)
        return job

    # ------------------------------------------------------------------------ results

    @Slot(int, str, object)
    def on_runner_done(self, job_id: int, kind: str, payload: object) -> None:
        job = self._jobs.pop(job_id, None)
        if job is not None:
            _log.debug("job %d %s: %s", job_id, kind, job.description)
            job._finish(kind, payload)
        if not self._jobs:
            self.busyChanged.emit(False)

    @Slot(int, object)
    def on_runner_progress(self, job_id: int, payload: object) -> None:
        job = self._jobs.get(job_id)
        if job is not None and not job.done:
            job.progress.emit(payload)

    @Slot(object)
    def on_session_opened(self, _result: object) -> None:
        self.connected = True
        self.sessionChanged.emit(True)

    @Slot()
    def on_session_closed(self) -> None:
        if self.connected:
            self.connected = False
            self.sessionChanged.emit(False)

    # ------------------------------------------------------------------------ lifetime

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running."""
        return bool(self._jobs)

    def stop(self, timeout_ms: int = 15000, *, cancel_pending: bool = True) -> None:
        """Cancel every job, log out, quit the thread and wait for it. Safe to call twice.

        Args:
            timeout_ms: how long to wait for a running call to return.
            cancel_pending: False lets queued jobs run first (e.g. stopping the lab).
        """
        if self._stopped:
            return
        self._stopped = True
        if cancel_pending:
            for job in list(self._jobs.values()):
                job.cancel()

        def logout_and_quit(runner: _ThreadRunner) -> None:
            # Quit from inside the thread, after the logout: a quit() from here could leave the
            # queued logout unprocessed.
            runner.close_session()
            QThread.currentThread().quit()

        def quit_bulk(_runner: _ThreadRunner) -> None:
            QThread.currentThread().quit()

        if self._bulk_thread is not None:
            self._run_bulk.emit(0, quit_bulk)
        self._run.emit(0, logout_and_quit)
        for thread in (self._thread, self._bulk_thread):
            if thread is not None and not thread.wait(timeout_ms):
                # A remote call that never returns: the process is ending anyway, and a running
                # QThread must not be destroyed, so keep it referenced until then.
                _log.warning("the vCenter worker did not stop within %d ms", timeout_ms)
                _STUCK.append(thread)
        self.connected = False


_STUCK: list[QThread] = []
