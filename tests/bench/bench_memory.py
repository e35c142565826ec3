"""Memory: peak RSS of the GUI process with the whole inventory in the VM picker.

A child process (offscreen) does what the wizard does up to the Choose VM page: it loads the
GUI, logs in, lists every VM (the lean bulk read), fills the picker's ``VmTableModel`` and its
``VmFilterProxy``, shows them sorted in a table and filters once; it then reports its peak
resident set size (``VmHWM``) and the size before the list was read.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def child(info_json: str) -> None:
    """Fill the picker with every VM of the lab in ``info_json``; print the figures."""
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTableView

    from tests.helpers.vsphere_lab import session_to
    from wizard.lab.process import LabInfo
    from wizard.ui.app import create_application
    from wizard.ui.vm_model import Column, VmFilterProxy, VmTableModel
    from wizard.vsphere.inventory import list_vms

    application = create_application()
    before = _kib("VmRSS")
    with session_to(LabInfo(**json.loads(info_json)), timeout=300.0) as s:
        rows = list_vms(s)
        model = VmTableModel()
        proxy = VmFilterProxy()
        proxy.setSourceModel(model)
        model.set_vms(rows)
        proxy.sort(Column.NAME, Qt.SortOrder.AscendingOrder)
        view = QTableView()
        view.setModel(proxy)
        view.resize(1000, 600)
        view.show()
        application.processEvents()
        proxy.set_text("filler 9")
        application.processEvents()
        proxy.set_text("")
        application.processEvents()
        out: dict[str, Any] = {
            "rows": model.rowCount(),
            "rss_before_list_mib": round(before / 1024, 1),
            "rss_mib": round(_kib("VmRSS") / 1024, 1),
            "peak_rss_mib": round(_kib("VmHWM") / 1024, 1),
        }
    print(json.dumps(out))


def run(info: Any) -> dict[str, Any]:
    """The figures for a running lab (``LabInfo``)."""
    from dataclasses import asdict

    from tests.bench.common import child_json

    return child_json(
        [str(Path(__file__)), "--child", json.dumps(asdict(info))],
        env={"QT_QPA_PLATFORM": "offscreen"},
    )


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000, help="VMs in the lab it starts")
    parser.add_argument("--child", help=argparse.SUPPRESS)  # the measured process: a LabInfo
    args = parser.parse_args()
    if args.child is not None:
        child(args.child)
        return 0
    sys.path.insert(0, str(REPO))
    from tests.bench.common import lab_of

    with lab_of(args.vms) as lab:
        print(json.dumps({"vms": args.vms, **run(lab.info)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
