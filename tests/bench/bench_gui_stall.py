"""Benchmark the GUI thread's longest stall with a slow vCenter, and say where it was.

Run as ``.venv/bin/python tests/bench/bench_gui_stall.py [--latency-ms 300] [--runs 1]``
(offscreen unless ``QT_QPA_PLATFORM`` says otherwise). It starts the training lab with every
SOAP call delayed, walks the wizard through connect, list, check, apply and Done exactly as
``tests/gui/test_responsiveness.py`` does, and prints for each phase the longest gap between
two ticks of a 10 ms timer on the GUI thread. A watchdog thread samples the GUI thread's
Python stack whenever a tick is more than 50 ms late, so the longest stall comes with the
code the GUI thread was running.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

from tests.bench.common import scratch_data_folder  # noqa: E402
from tests.gui.test_responsiveness import (  # noqa: E402
    LIMIT_S,
    PHASES,
    SCENARIO,
    StallMeter,
    walk,
)
from tests.helpers.lab import lab_binary_for_tests  # noqa: E402
from wizard import paths  # noqa: E402
from wizard.lab.process import LabProcess  # noqa: E402
from wizard.lab.scenario import bundled_scenarios_dir  # noqa: E402
from wizard.ui import dialogs  # noqa: E402
from wizard.ui.app import MainWindow, create_application  # noqa: E402
from wizard.ui.gateway import load_back_end  # noqa: E402

SAMPLE_AFTER_S = 0.050
WATCH_EVERY_S = 0.005


class Watchdog(threading.Thread):
    """Samples the GUI thread's stack while the meter's ticks are late."""

    def __init__(self, meter: StallMeter, gui_thread: int) -> None:
        super().__init__(name="stall-watchdog", daemon=True)
        self._meter = meter
        self._gui = gui_thread
        self._done = threading.Event()
        self.samples: dict[float, list[str]] = {}

    def run(self) -> None:
        while not self._done.wait(WATCH_EVERY_S):
            last = self._meter.last_tick
            if last is None or last in self.samples:
                continue
            if time.perf_counter() - last > SAMPLE_AFTER_S:
                frame = sys._current_frames().get(self._gui)
                if frame is not None:
                    self.samples[last] = traceback.format_stack(frame)

    def stop(self) -> None:
        self._done.set()
        self.join()


def pump_until(condition: Callable[[], bool], seconds: float) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the walk did not get on in time")
        loop = QEventLoop()
        QTimer.singleShot(10, loop.quit)
        loop.exec()


def trust_once(dialog: QDialog, on_done: Callable[[int], None]) -> None:
    code = (
        dialogs.CertificateDialog.TRUST_ONCE
        if isinstance(dialog, dialogs.CertificateDialog)
        else int(QDialog.DialogCode.Rejected)
    )
    dialog.deleteLater()
    on_done(code)


@dataclass(frozen=True)
class Run:
    """One walk's figures.

    Attributes:
        in_flight: the longest gap per phase while network jobs were in flight (what the test
            asserts).
        every: the longest gap per phase, counting the GUI's own work between jobs too.
        longest: the longest gap of all, its phase, and the GUI thread's stack during it.
        seconds: how long the walk took.
    """

    in_flight: dict[str, float]
    every: dict[str, float]
    longest: tuple[float, str, str] | None
    seconds: float


def one_run(latency_ms: int, binary: Path) -> Run:
    """Walk once with the meter and the watchdog; return the figures."""
    stalls: list[tuple[float, str, float]] = []
    started = time.perf_counter()
    with LabProcess(
        Path(bundled_scenarios_dir()) / SCENARIO, delay_ms=latency_ms, binary=binary
    ) as lab:
        win = MainWindow()
        meter = StallMeter(lambda: win.ctx.worker.busy, win)
        meter.stall_s = SAMPLE_AFTER_S
        meter.on_stall = lambda gap, phase, since: stalls.append((gap, phase, since))
        dog = Watchdog(meter, threading.main_thread().ident or 0)
        try:
            win.resize(1000, 760)
            win.show()
            load_back_end()  # as the application does once its first window is painted
            meter.start()
            dog.start()
            walk(win, lab.info, pump_until, meter.set_phase)
        finally:
            meter.stop()
            dog.stop()
            win.ctx.applying = False
            win.close()
            win.shutdown()
            win.deleteLater()
            _settle()
    longest = None
    if stalls:
        gap, stall_phase, since = max(stalls)
        stack = "".join(dog.samples.get(since, ["(no sample)\n"])[-8:])
        longest = (gap, stall_phase, stack)
    return Run(
        {p: s.gap_s for p, s in meter.in_flight.items()},
        {p: s.gap_s for p, s in meter.every.items()},
        longest,
        time.perf_counter() - started,
    )


def _settle() -> None:
    """Let Qt delete what was scheduled for deletion before the next run."""
    end = time.monotonic() + 0.2
    while time.monotonic() < end:
        loop = QEventLoop()
        QTimer.singleShot(10, loop.quit)
        loop.exec()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    paths.set_basedir(scratch_data_folder("bench-gui-stall-"))
    create_application()
    dialogs.show_modal = trust_once
    binary = lab_binary_for_tests()
    print(f"GUI thread stalls, lab latency {args.latency_ms} ms a call, {args.runs} run(s)")
    print(f"{'':29}" + "".join(f"{p:>9}" for p in PHASES))
    for number in range(1, args.runs + 1):
        run = one_run(args.latency_ms, binary)
        for label, worst in (("in flight", run.in_flight), ("every gap", run.every)):
            cells = "".join(f"{worst.get(p, 0.0) * 1000:6.0f} ms" for p in PHASES)
            print(f"run {number} {label:10} {run.seconds:5.1f} s {cells}")
        if run.longest is not None:
            gap, where_phase, stack = run.longest
            verdict = "over" if gap >= LIMIT_S else "under"
            print(
                f"  longest: {gap * 1000:.0f} ms in {where_phase} "
                f"({verdict} {LIMIT_S * 1000:.0f} ms); the GUI thread was at:"
            )
            print("".join(f"    {line}" for line in stack.splitlines(True)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
