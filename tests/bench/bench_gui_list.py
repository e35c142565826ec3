"""The picker's VM list on screen: first rows, then the whole list.

Run as ``.venv/bin/python tests/bench/bench_gui_list.py [--vms 10000] [--latency-ms 0]
[--runs 3]`` (offscreen unless ``QT_QPA_PLATFORM`` says otherwise). Each run starts a lab of
``--vms`` VMs, opens the main window without a VM named, connects (the lab's certificate
trusted before) and times, from the moment the Choose VM page asks for the list: the first
rows in the table and painted, and the whole list in the table and painted. The GUI thread's
longest pause while the list arrives is printed too (a timer that should fire every 5 ms).

``--json`` prints the medians as one line of JSON instead (for ``run.py``).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QTimer  # noqa: E402

from tests.bench.bench_gui_verdict import _trust_once, connect_filled, pump_until  # noqa: E402
from tests.bench.common import lab_of, median, scratch_data_folder  # noqa: E402
from wizard import paths  # noqa: E402
from wizard.ui import dialogs  # noqa: E402
from wizard.ui.app import create_application  # noqa: E402
from wizard.ui.pages.base import PageId  # noqa: E402
from wizard.ui.pages.choose_vm import ChooseVmPage  # noqa: E402


def one_run(latency_ms: int, vms: int) -> dict[str, Any]:
    """One connect and list; its figures."""
    with lab_of(vms, delay_ms=latency_ms) as lab, connect_filled(lab) as win:
        wz = win.wizard
        choose = wz.page_of(PageId.CHOOSE_VM)
        assert isinstance(choose, ChooseVmPage)
        asked: list[float] = []
        original = choose._start_list

        def start_list() -> None:
            asked.append(time.perf_counter())
            original()

        choose._start_list = start_list  # type: ignore[method-assign]
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        wz.next()  # Connect
        pump_until(lambda: bool(asked))
        timer.start()
        pump_until(lambda: choose.model.rowCount() > 0, 120.0)
        win.repaint()
        first = time.perf_counter()
        first_count = choose.model.rowCount()
        pump_until(lambda: choose.model.rowCount() >= vms, 300.0)
        win.repaint()
        whole = time.perf_counter()
        timer.stop()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        return {
            "first_rows_s": first - asked[0],
            "first_rows": first_count,
            "whole_s": whole - asked[0],
            "longest_pause_s": max(gaps, default=0.0),
        }


def measure(latency_ms: int, vms: int, runs: int) -> dict[str, Any]:
    """Medians of ``runs`` connects."""
    walks = [one_run(latency_ms, vms) for _ in range(runs)]
    return {
        "latency_ms": latency_ms,
        "vms": vms,
        "first_rows_s": median([w["first_rows_s"] for w in walks]),
        "first_rows_runs_s": [round(w["first_rows_s"], 3) for w in walks],
        "first_rows": walks[-1]["first_rows"],
        "whole_s": median([w["whole_s"] for w in walks]),
        "whole_runs_s": [round(w["whole_s"], 3) for w in walks],
        "longest_pause_s": max(w["longest_pause_s"] for w in walks),
    }


def run(latencies_ms: tuple[int, ...], vms: int, runs: int) -> list[dict[str, Any]]:
    """The figures at each latency, each in a fresh process (for ``run.py``)."""
    from tests.bench.common import child_json

    return [
        child_json(
            [__file__, "--json", "--latency-ms", str(ms), "--vms", str(vms), "--runs", str(runs)],
            env={"QT_QPA_PLATFORM": "offscreen"},
        )
        for ms in latencies_ms
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--vms", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args()
    paths.set_basedir(scratch_data_folder("bench-gui-list-"))
    create_application()
    dialogs.show_modal = _trust_once
    figures = measure(args.latency_ms, args.vms, args.runs)
    if args.json:
        print(json.dumps(figures))
        return 0
    print(
        f"VM list on screen, {args.vms:,} VMs, {args.latency_ms} ms a call: first "
        f"{figures['first_rows']} rows {figures['first_rows_s']:.3f} s "
        f"(runs {figures['first_rows_runs_s']}), whole list {figures['whole_s']:.3f} s "
        f"(runs {figures['whole_runs_s']}); GUI thread's longest pause "
        f"{figures['longest_pause_s'] * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
