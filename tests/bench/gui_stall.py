"""The GUI-stall benchmark (``bench_gui_stall.py``) as figures for ``run.py``.

``python tests/bench/gui_stall.py LATENCY_MS`` walks the wizard once through connect, list,
check, apply and Done against a lab that delays every call by ``LATENCY_MS``, using
``bench_gui_stall.one_run``, and prints one line of JSON: the longest stall of the GUI thread
while network jobs were in flight, per phase and overall.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def child(latency_ms: int) -> None:
    """One walk; print the figures."""
    sys.path.insert(0, str(REPO))
    from tests.bench import bench_gui_stall as stall
    from tests.bench.common import scratch_data_folder
    from tests.helpers.lab import lab_binary_for_tests
    from wizard import paths
    from wizard.ui import dialogs
    from wizard.ui.app import create_application

    paths.set_basedir(scratch_data_folder("bench-gui-stall-"))
    create_application()
    dialogs.show_modal = stall.trust_once
    run = stall.one_run(latency_ms, lab_binary_for_tests())
    longest = run.longest
    print(
        json.dumps(
            {
                "latency_ms": latency_ms,
                "stall_in_flight_ms": {p: round(s * 1000) for p, s in run.in_flight.items()},
                "stall_every_ms": {p: round(s * 1000) for p, s in run.every.items()},
                "stall_max_ms": round(max(run.in_flight.values(), default=0.0) * 1000),
                "stall_every_max_ms": round(max(run.every.values(), default=0.0) * 1000),
                "stall_longest_where": longest[1] if longest else None,
                "walk_s": round(run.seconds, 1),
            }
        )
    )


def run(latency_ms: int) -> dict[str, Any]:
    """The figures of one walk, in a fresh process."""
    from tests.bench.common import child_json

    return child_json([str(Path(__file__)), str(latency_ms)], env={"QT_QPA_PLATFORM": "offscreen"})


if __name__ == "__main__":
    child(int(sys.argv[1]))
