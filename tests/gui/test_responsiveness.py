"""The GUI thread never waits on the network: a 10 ms timer keeps ticking with a slow vCenter.

The lab answers every SOAP call 300 ms late. The wizard is walked through connect, list, check
and apply (and the Done page's host read); a :class:`StallMeter` on the GUI thread records the
longest gap between its ticks in each phase. The 100 ms limit holds for gaps during which the
worker had network jobs in flight the whole time: a GUI thread that waited on the network
would stall there for a latency or more. The GUI's own work between jobs (a page built, a
result shown) is not network waiting and, on a busy 2-core machine, may take longer: it is
reported, not asserted. A network call made on the GUI thread outside any job is caught
directly instead: every socket connect and HTTP request is checked for the thread it runs on.
The first 200 ms after the window is shown are ignored (first paint, fonts), and a walk over
the limit is repeated once on a fresh lab: starving a process is noise that rarely repeats,
a GUI thread that waits on the network stalls on every walk.

``tests/bench/bench_gui_stall.py`` runs the same walk outside pytest and also says where the
GUI thread was during the longest stall.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject, Qt, QTimer, Slot
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, fill_connect, open_windows
from tests.helpers.lab import StartLab
from wizard.lab.process import LabInfo
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.apply import ApplyPage
from wizard.ui.pages.base import PageId
from wizard.ui.pages.check import CheckPage
from wizard.ui.pages.choose_vm import ChooseVmPage
from wizard.ui.pages.done import DonePage
from wizard.ui.pages.ready import ReadyPage

pytestmark = LAB_MARKS


LATENCY_MS = 300
LIMIT_S = 0.100
TICK_MS = 10
WARM_UP_S = 0.200
PHASES = ("connect", "list", "check", "apply", "done")
SCENARIO = "dual-screen-win7.json"
VM = "HD-W7-042"
PHASE_TIMEOUT_S = 180.0

Wait = Callable[[Callable[[], bool], float], None]
"""``wait(condition, seconds)``: process events until ``condition()`` holds."""
THINK_S = 0.05
"""A pause between two clicks, as a person makes (each page change is then measured alone)."""


@dataclass(frozen=True)
class Stall:
    """The longest gap between two ticks in one phase.

    Attributes:
        gap_s: seconds between the two ticks (the timer's own 10 ms included).
        at_s: when the gap ended, seconds after the meter started.
        ticks: how many gaps were measured in the phase.
    """

    gap_s: float
    at_s: float
    ticks: int


def _keep_worst(table: dict[str, Stall], phase: str, gap: float, at: float) -> None:
    old = table.get(phase)
    ticks = old.ticks + 1 if old is not None else 1
    if old is None or gap > old.gap_s:
        table[phase] = Stall(gap, at, ticks)
    else:
        table[phase] = Stall(old.gap_s, old.at_s, ticks)


class StallMeter(QObject):
    """A 10 ms timer on the GUI thread that records the longest gap between ticks per phase.

    Attributes:
        phase: the phase the walk is in; gaps are filed under it.
        in_flight: the longest gap of each phase among gaps during which network jobs were in
            flight the whole time (busy at both ticks): the GUI thread waiting on the network
            would show here.
        every: the longest gap of each phase among all gaps (the GUI's own work too: page
            changes, results shown).
        last_tick: ``perf_counter()`` of the last tick (None before the first).
        stall_s: gaps longer than this are passed to ``on_stall``.
        on_stall: called with (gap, phase, tick before the gap) for each such gap.
    """

    def __init__(self, busy: Callable[[], bool], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy = busy
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self.on_timer_timeout)
        self._start = 0.0
        self._ignore_until = 0.0
        self._last_busy = False
        self.phase = ""
        self.in_flight: dict[str, Stall] = {}
        self.every: dict[str, Stall] = {}
        self.last_tick: float | None = None
        self.stall_s = LIMIT_S
        self.on_stall: Callable[[float, str, float], None] | None = None

    def set_phase(self, phase: str) -> None:
        """File the gaps from now on under ``phase``."""
        self.phase = phase

    def start(self) -> None:
        self._start = time.perf_counter()
        self._ignore_until = self._start + WARM_UP_S
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    @Slot()
    def on_timer_timeout(self) -> None:
        now = time.perf_counter()
        busy = self._busy()
        last, self.last_tick = self.last_tick, now
        was_busy, self._last_busy = self._last_busy, busy
        if last is None or now < self._ignore_until:
            return
        gap, at = now - last, now - self._start
        _keep_worst(self.every, self.phase, gap, at)
        if busy and was_busy:
            _keep_worst(self.in_flight, self.phase, gap, at)
        if self.on_stall is not None and gap > self.stall_s:
            self.on_stall(gap, self.phase, last)


def walk(win: MainWindow, lab: LabInfo, wait: Wait, phase: Callable[[str], None]) -> None:
    """Connect, list, check, apply and reach Done, saying ``phase(name)`` as each begins."""
    wz = win.wizard
    worker = win.ctx.worker

    def idle() -> bool:
        return not worker.busy

    def click_next() -> None:
        end = time.perf_counter() + THINK_S
        wait(lambda: time.perf_counter() >= end, 1.0)
        wz.next()

    phase("connect")
    click_next()
    fill_connect(win, f"{lab.host}:{lab.port}", lab.user, lab.password)
    click_next()
    wait(lambda: wz.currentId() == PageId.CHOOSE_VM, PHASE_TIMEOUT_S)

    phase("list")
    choose = wz.page_of(PageId.CHOOSE_VM)
    assert isinstance(choose, ChooseVmPage)
    wait(lambda: choose.model.rowCount() > 0 and idle(), PHASE_TIMEOUT_S)
    choose.filter_edit.setText(VM)
    choose.apply_filter()
    assert win.ctx.vm is not None

    phase("check")
    click_next()
    check = wz.page_of(PageId.CHECK)
    assert isinstance(check, CheckPage)
    wait(lambda: check.isComplete() and idle(), PHASE_TIMEOUT_S)

    phase("apply")
    click_next()
    click_next()
    ready = wz.page_of(PageId.READY)
    assert isinstance(ready, ReadyPage)
    ready.confirm_check.setChecked(True)
    click_next()
    apply = wz.page_of(PageId.APPLY)
    assert isinstance(apply, ApplyPage)
    wait(lambda: apply.isComplete() and idle(), PHASE_TIMEOUT_S)

    phase("done")
    click_next()
    done = wz.page_of(PageId.DONE)
    assert isinstance(done, DonePage)
    wait(lambda: done.vmotion.host_combo.count() > 0 and idle(), PHASE_TIMEOUT_S)
    phase("")


def slow_lab(start: Callable[..., LabInfo]) -> LabInfo:
    """The training scenario's lab with every SOAP call 300 ms late."""
    return start(Path(bundled_scenarios_dir()) / SCENARIO, delay_ms=LATENCY_MS)


@pytest.fixture
def gui_thread_requests(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every socket connect and HTTP request made on the GUI thread (there should be none)."""
    made: list[str] = []
    gui = threading.main_thread()
    connect = socket.socket.connect
    request = http.client.HTTPConnection.request

    def checked_connect(self: socket.socket, address: Any) -> None:
        if threading.current_thread() is gui:
            made.append(f"connect {address}")
        connect(self, address)

    def checked_request(
        self: http.client.HTTPConnection, method: str, url: str, *a: Any, **kw: Any
    ) -> None:
        if threading.current_thread() is gui:
            made.append(f"{method} {url}")
        request(self, method, url, *a, **kw)

    monkeypatch.setattr(socket.socket, "connect", checked_connect)
    monkeypatch.setattr(http.client.HTTPConnection, "request", checked_request)
    return made


def measure_walk(qtbot: QtBot, lab: LabInfo) -> StallMeter:
    """Walk a fresh window through the slow lab under a running meter; return the meter."""

    def wait(condition: Callable[[], bool], seconds: float) -> None:
        qtbot.waitUntil(condition, timeout=int(seconds * 1000))

    with open_windows(qtbot) as open_window:
        win = open_window(show=False)
        meter = StallMeter(lambda: win.ctx.worker.busy, win)
        try:
            win.show()
            qtbot.waitExposed(win)
            meter.start()
            walk(win, lab, wait, meter.set_phase)
            meter.stop()
            assert win.ctx.result is not None
            assert win.ctx.result.verified
        finally:
            meter.stop()
    return meter


def figures(meter: StallMeter) -> dict[str, str]:
    """Each phase's longest gap in flight and at all, for the failure message."""
    return {
        p: f"{s.gap_s * 1000:.0f} ms in flight ({s.ticks} ticks), "
        f"{meter.every[p].gap_s * 1000:.0f} ms at all"
        for p, s in meter.in_flight.items()
    }


def test_gui_thread_never_stalls_with_a_slow_vcenter(
    qtbot: QtBot,
    start_lab: StartLab,
    recorder: DialogRecorder,
    gui_thread_requests: list[str],
) -> None:
    """A stall above the limit must show again on a second walk (fresh lab) to fail the test.

    A GUI thread that waits on the network stalls on every walk; a busy machine that starves
    the process for a moment does not do so twice in a row.
    """
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_ONCE
    seen = []
    for _attempt in range(2):
        meter = measure_walk(qtbot, slow_lab(start_lab))
        seen.append(figures(meter))
        assert set(meter.in_flight) >= set(PHASES), seen
        assert all(s.ticks >= 3 for s in meter.in_flight.values()), seen
        if all(s.gap_s < LIMIT_S for s in meter.in_flight.values()):
            break
    else:
        pytest.fail(f"the GUI thread stalled {LIMIT_S * 1000:.0f} ms or more twice: {seen}")
    assert gui_thread_requests == []
