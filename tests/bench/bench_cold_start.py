"""Cold start: process start to the first painted window, and to a usable Connect page.

The parent notes the time, starts ``python tests/bench/bench_cold_start.py --child T0``
(offscreen, a temporary base folder) and reads one line of JSON back. The child runs the product's
own ``run_gui`` with an application-wide event filter that notes the first paint of the main
window (and whether pyVmomi, keyring and truststore were loaded by then), then presses Next on
the Welcome page and notes when the Connect page is painted with its fields enabled.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LAZY_MODULES = ("pyVmomi", "keyring", "truststore")


def child(t0: float) -> None:
    """Run the GUI until the Connect page is usable; print the figures as JSON."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

    from wizard.ui import app as gui
    from wizard.ui.pages.base import PageId

    out: dict[str, Any] = {}
    application = gui.create_application()

    def main_window() -> Any:
        return next(
            (w for w in application.topLevelWidgets() if isinstance(w, gui.MainWindow)), None
        )

    class Watch(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() != QEvent.Type.Paint or not isinstance(obj, QWidget):
                return False
            window: Any = main_window()
            if window is None or id(obj.window()) != id(window):
                return False
            if "first_paint_s" not in out:
                out["first_paint_s"] = round(time.time() - t0, 3)
                out["loaded_at_first_paint"] = [m for m in LAZY_MODULES if m in sys.modules]
                QTimer.singleShot(0, lambda: window.wizard.next())
            elif "connect_s" not in out and window.wizard.currentId() == int(PageId.CONNECT):
                fields = window.wizard.currentPage().findChildren(QLineEdit)
                if fields and all(f.isEnabled() for f in fields):
                    out["connect_s"] = round(time.time() - t0, 3)
                    QTimer.singleShot(0, window.close)
            return False

    watch = Watch()
    application.installEventFilter(watch)
    QTimer.singleShot(20_000, QApplication.quit)  # never hang a benchmark
    gui.run_gui(training_scenario=None, vm=None)
    out["loaded_at_exit"] = [m for m in LAZY_MODULES if m in sys.modules]
    print(json.dumps(out))


def run(runs: int) -> dict[str, Any]:
    """Median figures of ``runs`` cold starts (each a fresh interpreter)."""
    import subprocess

    from tests.bench.common import PYTHON, median

    paints: list[float] = []
    connects: list[float] = []
    loaded: list[str] = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-cold-") as base:
            env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CHECKPOINT_WIZARD_BASEDIR": base}
            t0 = time.time()
            done = subprocess.run(
                [str(PYTHON), str(Path(__file__)), "--child", repr(t0)],
                cwd=REPO,
                env=env,
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        paints.append(figures["first_paint_s"])
        connects.append(figures["connect_s"])
        loaded = figures["loaded_at_first_paint"]
    return {
        "first_paint_s": median(paints),
        "first_paint_runs_s": paints,
        "connect_page_s": median(connects),
        "connect_page_runs_s": connects,
        "loaded_at_first_paint": loaded,
    }


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold starts to take the median of")
    parser.add_argument("--child", type=float, help=argparse.SUPPRESS)  # the measured process
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    sys.path.insert(0, str(REPO))
    print(json.dumps(run(args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
