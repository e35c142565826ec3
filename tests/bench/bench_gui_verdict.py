"""The GUI from Connect to the verdict of the VM named with ``--vm``, over a slow link.

Run as ``.venv/bin/python tests/bench/bench_gui_verdict.py [--latency-ms 300] [--vms 1000]
[--runs 3] [--one-thread]`` (offscreen unless ``QT_QPA_PLATFORM`` says otherwise). Each run
starts a lab of ``--vms`` VMs that delays every call, opens the main window with
``vm=NAME`` (as ``checkpoint-wizard --vm NAME`` does), waits until the back end is loaded (a
technician types the password meanwhile), fills the Connect page and presses Next (the lab's
certificate trusted before, as on any day after the first); on Choose VM it presses Next as
soon as the VM is selected (the find for the named VM selects it), and stops the clock when the
Check page shows the verdict (laid out and painted). It prints, per run, the seconds from Connect to
the verdict, to the VM selected and to the whole list on screen, and the SOAP requests
answered by the verdict: how many, and how many lay one after another (the critical path,
counted on the wire by ``tests/helpers/wire.py``).

``--one-thread`` puts the list back on the session's one worker thread and starts no early
check, as the wizard did before: the same walk, for comparison.

``--json`` prints the medians as one line of JSON instead (for ``run.py``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QEventLoop, QTimer  # noqa: E402

from tests.bench.common import TICKET_VM, Lab, lab_of, median, scratch_data_folder  # noqa: E402
from tests.gui.lab_flow import fill_connect  # noqa: E402
from tests.helpers.wire import watching  # noqa: E402
from wizard import paths  # noqa: E402
from wizard.ui import dialogs  # noqa: E402
from wizard.ui.app import MainWindow, create_application  # noqa: E402
from wizard.ui.gateway import VsphereGateway, load_back_end  # noqa: E402
from wizard.ui.pages.base import PageId  # noqa: E402
from wizard.ui.pages.check import CheckPage  # noqa: E402
from wizard.ui.pages.choose_vm import ChooseVmPage  # noqa: E402
from wizard.ui.worker import Job, SessionWorker  # noqa: E402
from wizard.vsphere.tls import fetch_certificate  # noqa: E402

TIMEOUT_S = 300.0


def pump_until(condition: Callable[[], bool], seconds: float = TIMEOUT_S) -> float:
    """Run the event loop until ``condition()``; the moment it held (``perf_counter``)."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the wizard did not get on in time")
        loop = QEventLoop()
        QTimer.singleShot(2, loop.quit)
        loop.exec()
    return time.perf_counter()


def _trust_once(dialog: Any, on_done: Callable[[int], None]) -> None:
    dialog.deleteLater()
    on_done(dialogs.CertificateDialog.TRUST_ONCE)


def one_thread() -> None:
    """The wizard as it was: the list on the session's one thread, no early check."""

    def submit_bulk(
        self: SessionWorker,
        fn: Callable[..., Any],
        *args: Any,
        description: str = "",
        with_report: bool = False,
    ) -> Job:
        return self.submit_session(fn, *args, description=description, with_report=with_report)

    find = ChooseVmPage._start_find

    def plain_find(self: ChooseVmPage, query: str, *, then_check: bool = False) -> None:
        find(self, query)

    SessionWorker.submit_bulk = submit_bulk  # type: ignore[method-assign]
    ChooseVmPage._start_find = plain_find  # type: ignore[method-assign]


def one_run(latency_ms: int, vms: int) -> dict[str, Any]:
    """One walk from Connect to the verdict; its figures."""
    with lab_of(vms, delay_ms=latency_ms) as lab, connect_filled(lab, vm=TICKET_VM) as win:
        wz = win.wizard
        choose = wz.page_of(PageId.CHOOSE_VM)
        check = wz.page_of(PageId.CHECK)
        assert isinstance(choose, ChooseVmPage)
        assert isinstance(check, CheckPage)
        with watching() as wire:
            start = time.perf_counter()
            wz.next()  # Connect
            chosen = pump_until(
                lambda: wz.currentId() == PageId.CHOOSE_VM and win.ctx.vm is not None
            )
            wz.next()  # Next on Choose VM, at once
            pump_until(lambda: wz.currentId() == PageId.CHECK and check.isComplete())
            # On screen: the conditions laid out and the window painted.
            QCoreApplication.processEvents()
            win.repaint()
            verdict = time.perf_counter()
            answered = list(wire.spans)
            title = check.banner.title_text()
        listed = pump_until(lambda: choose.model.rowCount() >= vms)
        on_path = [s for s in answered if s[1] <= verdict]
        critical = _critical(on_path)
        return {
            "verdict_s": verdict - start,
            "vm_selected_s": chosen - start,
            "list_s": listed - start,
            "first_request_s": min(s[0] for s in on_path) - start,
            "last_answer_s": max(s[1] for s in on_path) - start,
            "requests": len(on_path),
            "critical": len(critical),
            "critical_path": critical,
            "verdict": title.split(":")[0],
        }


@contextlib.contextmanager
def connect_filled(lab: Lab, *, vm: str | None = None) -> Iterator[MainWindow]:
    """The main window (``vm`` as ``--vm`` gives it) on the Connect page, filled in for the
    lab, the back end loaded and the lab's certificate trusted on an earlier day ("always
    trust": no question between Connect and the login); closed afterwards. Each window has
    a data folder of its own: the pins of earlier runs' labs (other ports) would make the
    login wait for the service content, as for a technician with several vCenters."""
    paths.set_basedir(scratch_data_folder("bench-gui-"))
    win = MainWindow(vm=vm)
    try:
        win.resize(1000, 760)
        win.show()
        load_back_end()  # as the application does once its first window is painted
        settle_until = time.monotonic() + 1.5
        pump_until(lambda: time.monotonic() >= settle_until)
        gateway = win.ctx.gateway
        assert isinstance(gateway, VsphereGateway)
        gateway.pin(fetch_certificate(lab.info.host, lab.info.port, 10.0))
        if win.wizard.currentId() == PageId.WELCOME:
            win.wizard.next()
        fill_connect(win, f"{lab.info.host}:{lab.info.port}", lab.info.user, lab.info.password)
        yield win
    finally:
        win.close()
        win.shutdown()
        win.deleteLater()
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _critical(spans: list[tuple[float, float, str]]) -> list[str]:
    from tests.helpers.wire import Wire

    wire = Wire()
    wire.spans.extend(spans)
    return wire.critical_path()


def measure(latency_ms: int, vms: int, runs: int) -> dict[str, Any]:
    """Medians of ``runs`` walks (round trips of the last)."""
    walks = [one_run(latency_ms, vms) for _ in range(runs)]
    last = walks[-1]
    return {
        "latency_ms": latency_ms,
        "vms": vms,
        "verdict_s": median([w["verdict_s"] for w in walks]),
        "verdict_runs_s": [round(w["verdict_s"], 3) for w in walks],
        "vm_selected_s": median([w["vm_selected_s"] for w in walks]),
        "list_s": median([w["list_s"] for w in walks]),
        "requests": last["requests"],
        "critical": last["critical"],
        "critical_path": last["critical_path"],
        "verdict": last["verdict"],
    }


def _setup(old: bool) -> None:
    paths.set_basedir(scratch_data_folder("bench-gui-verdict-"))
    create_application()
    dialogs.show_modal = _trust_once
    if old:
        one_thread()


def run(latencies_ms: tuple[int, ...], vms: int, runs: int) -> list[dict[str, Any]]:
    """The figures at each latency, each in a fresh process (for ``run.py``)."""
    from tests.bench.common import child_json

    return [
        child_json(
            [
                str(Path(__file__)),
                "--json",
                "--latency-ms",
                str(ms),
                "--vms",
                str(vms),
                "--runs",
                str(runs),
            ],
            env={"QT_QPA_PLATFORM": "offscreen"},
        )
        for ms in latencies_ms
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=300)
    parser.add_argument("--vms", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--one-thread", action="store_true", help="the wizard as it was")
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args()
    _setup(args.one_thread)
    figures = measure(args.latency_ms, args.vms, args.runs)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"Connect to verdict, --vm {TICKET_VM}, {args.vms} VMs, {args.latency_ms} ms a call"
        f"{' (one thread, as before)' if args.one_thread else ''}: "
        f"{figures['verdict_s']:.2f} s (runs {figures['verdict_runs_s']}); VM selected "
        f"{figures['vm_selected_s']:.2f} s, whole list {figures['list_s']:.2f} s; "
        f"{figures['requests']} requests, {figures['critical']} in a row: "
        f"{' > '.join(figures['critical_path'])}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
