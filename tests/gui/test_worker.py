"""The worker thread bridge: results, errors, cancellation, sessions and stopping."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.fakes import FakeSession
from wizard.ui.worker import CancelToken, NotConnected, SessionWorker


@pytest.fixture
def worker(qtbot: QtBot) -> Iterator[SessionWorker]:
    w = SessionWorker()
    yield w
    w.stop()


def test_result_comes_back_on_the_gui_thread(qtbot: QtBot, worker: SessionWorker) -> None:
    seen: list[bool] = []

    def work() -> int:
        seen.append(threading.current_thread() is threading.main_thread())
        return 42

    job = worker.submit(work)
    with qtbot.waitSignal(job.succeeded) as blocker:
        pass
    assert blocker.args == [42]
    assert seen == [False]


def test_error_is_reported(qtbot: QtBot, worker: SessionWorker) -> None:
    def boom() -> None:
        raise ValueError("nope")

    job = worker.submit(boom)
    with qtbot.waitSignal(job.failed) as blocker:
        pass
    assert isinstance(blocker.args[0], ValueError)


def test_session_jobs_need_a_session(qtbot: QtBot, worker: SessionWorker) -> None:
    job = worker.submit_session(lambda s: s)
    with qtbot.waitSignal(job.failed) as blocker:
        pass
    assert isinstance(blocker.args[0], NotConnected)


def test_session_is_handed_to_jobs_and_closed_on_stop(qtbot: QtBot) -> None:
    worker = SessionWorker()
    session = FakeSession()
    opened = worker.open_session(lambda: session, description="connect")
    with qtbot.waitSignal(worker.sessionChanged):
        pass
    assert worker.connected
    assert opened.done
    job = worker.submit_session(lambda s: s is session)
    with qtbot.waitSignal(job.succeeded) as blocker:
        pass
    assert blocker.args == [True]
    worker.stop()
    assert session.closed


def test_cancel_drops_a_late_result(qtbot: QtBot, worker: SessionWorker) -> None:
    gate = threading.Event()
    job = worker.submit(lambda: gate.wait(5))
    got: list[object] = []
    job.succeeded.connect(got.append)
    with qtbot.waitSignal(job.cancelled):
        job.cancel()
    gate.set()
    after = worker.submit(lambda: "next")
    with qtbot.waitSignal(after.succeeded):
        pass
    assert got == []


def test_cancelled_session_is_closed(qtbot: QtBot, worker: SessionWorker) -> None:
    gate = threading.Event()
    session = FakeSession()

    def slow() -> FakeSession:
        gate.wait(5)
        return session

    job = worker.open_session(slow, description="connect")
    job.cancel()
    gate.set()
    probe = worker.submit(lambda: None)
    with qtbot.waitSignal(probe.succeeded):
        pass
    assert session.closed
    assert not worker.connected


def test_token_and_progress(qtbot: QtBot, worker: SessionWorker) -> None:
    def steps(*, cancel: CancelToken, report: object) -> int:
        assert callable(report)
        for i in range(3):
            cancel.raise_if_cancelled()
            report(i)
        return 3

    job = worker.submit(steps, with_token=True, with_report=True)
    seen: list[object] = []
    job.progress.connect(seen.append)
    with qtbot.waitSignal(job.succeeded):
        pass
    assert seen == [0, 1, 2]


def test_stop_while_a_job_runs_leaves_no_running_thread(qtbot: QtBot) -> None:
    worker = SessionWorker()
    gate = threading.Event()
    started = threading.Event()

    def busy() -> None:
        started.set()
        gate.wait(5)

    worker.submit(busy)
    assert started.wait(5)
    threading.Timer(0.05, gate.set).start()
    worker.stop()
    assert worker._thread.isFinished()


def test_a_bulk_read_does_not_hold_up_session_calls(qtbot: QtBot, worker: SessionWorker) -> None:
    session = FakeSession()
    worker.open_session(lambda: session, description="connect")
    with qtbot.waitSignal(worker.sessionChanged):
        pass
    gate = threading.Event()
    bulk = worker.submit_bulk(lambda s: gate.wait(10) and s is session, description="list")
    order: list[str] = []
    bulk.succeeded.connect(lambda _r: order.append("bulk"))
    quick = worker.submit_session(lambda s: s is session, description="check")
    quick.succeeded.connect(lambda r: order.append(f"quick {r}"))
    # The quick call ends while the bulk read is still held: it did not queue behind it.
    with qtbot.waitSignal(quick.succeeded, timeout=5000):
        pass
    assert order == ["quick True"]
    gate.set()
    with qtbot.waitSignal(bulk.succeeded, timeout=5000):
        pass
    assert order == ["quick True", "bulk"]


def test_bulk_jobs_need_a_session(qtbot: QtBot, worker: SessionWorker) -> None:
    job = worker.submit_bulk(lambda s: s)
    with qtbot.waitSignal(job.failed) as blocker:
        pass
    assert isinstance(blocker.args[0], NotConnected)


def test_stop_during_a_bulk_read_logs_out_and_stops_both_threads(qtbot: QtBot) -> None:
    worker = SessionWorker()
    session = FakeSession()
    worker.open_session(lambda: session, description="connect")
    with qtbot.waitSignal(worker.sessionChanged):
        pass
    gate = threading.Event()
    started = threading.Event()

    def long_read(_s: object) -> None:
        started.set()
        gate.wait(5)

    job = worker.submit_bulk(long_read)
    got: list[str] = []
    job.succeeded.connect(lambda _r: got.append("late result"))
    job.cancelled.connect(lambda: got.append("cancelled"))
    assert started.wait(5)
    threading.Timer(0.05, gate.set).start()
    worker.stop()
    assert session.closed
    assert worker._thread.isFinished()
    assert worker._bulk_thread is not None
    assert worker._bulk_thread.isFinished()
    qtbot.wait(50)  # the read's late outcome arrives on the GUI thread, and is dropped
    assert got == ["cancelled"]
