"""The worker's two threads on one real session: an expiry under both logs in once.

The window's short calls and its VM list run on two threads with one session
(:mod:`wizard.ui.worker`). When vCenter ends that session while both have a request on its way,
both are refused; one new session must come of it, not two (the spare one would stay on vCenter,
counting against its session limit, until its idle timeout).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from tests.helpers.lab import vim
from tests.helpers.vsphere_lab import endpoint, running_lab, session_to, trusting, write_scenario
from wizard.lab.process import LabInfo
from wizard.ui.worker import Job, SessionWorker
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab


def _sessions(admin: Session) -> list[str]:
    """The keys of every session vCenter holds, as an administrator sees them."""
    return admin.call(lambda: [s.key for s in admin.content.sessionManager.sessionList or []])


def _current_key(both_refused: threading.Barrier) -> Callable[[Session], str]:
    """A job: the key of the session its request ran in, read through ``Session.call``.

    Its first request, once refused, waits until the other thread's was refused too: the two
    requests were on their way together when the session ended (the lab answers at once, so
    without the wait one thread could log in before the other's request left).
    """

    def job(session: Session) -> str:
        first = True

        def request() -> str:
            nonlocal first
            try:
                return str(session.content.sessionManager.currentSession.key)
            except vim.fault.NotAuthenticated:
                if first:
                    first = False
                    both_refused.wait(20)
                raise

        return session.call(request)

    return job


def _watch(job: Job) -> list[object]:
    """What ``job`` brings (its result or its error), once it is done. Connected as soon as it is
    submitted: a finished job is deleted when the event loop next runs."""
    got: list[object] = []
    job.succeeded.connect(got.append)
    job.failed.connect(got.append)
    return got


def _outcomes(qtbot: QtBot, *jobs: Job) -> list[Any]:
    watched = [_watch(job) for job in jobs]
    qtbot.waitUntil(lambda: all(watched), timeout=30000)
    return [got[0] for got in watched]


def test_a_session_ended_under_both_threads_is_renewed_once(qtbot: QtBot, tmp_path: Path) -> None:
    with running_lab(write_scenario(tmp_path)) as lab, session_to(lab, timeout=30) as admin:
        worker = SessionWorker()
        try:
            _check_renewed_once(qtbot, worker, lab, admin)
        finally:
            worker.stop()
        # Logging out on close ended the renewed session too: only the administrator's is left.
        assert _sessions(admin) == [admin.session_key]


def _check_renewed_once(qtbot: QtBot, worker: SessionWorker, lab: LabInfo, admin: Session) -> None:
    def connect() -> Session:
        return Session.connect(
            endpoint(lab), lab.user, lab.password, trust=trusting(lab), timeout=30
        )

    with qtbot.waitSignal(worker.sessionChanged, timeout=30000):
        worker.open_session(connect, description="connect")
    (first,) = _outcomes(qtbot, worker.submit_session(lambda s: s.session_key))
    assert sorted(_sessions(admin)) == sorted([admin.session_key, first])

    admin.call(lambda: admin.content.sessionManager.TerminateSession(sessionId=[first]))
    both_refused = threading.Barrier(2)
    short_key, bulk_key = _outcomes(
        qtbot,
        worker.submit_session(_current_key(both_refused), description="short call"),
        worker.submit_bulk(_current_key(both_refused), description="VM list"),
    )

    assert not both_refused.broken, "the two requests were not refused together"
    assert isinstance(short_key, str), short_key
    assert isinstance(bulk_key, str), bulk_key
    assert short_key == bulk_key != first
    # One new session, the one both calls ran in: no second login left behind.
    assert sorted(_sessions(admin)) == sorted([admin.session_key, short_key])
