"""The first window appears before the network stack and the keyring are loaded.

pyVmomi takes about a third of a second to import and ``truststore`` pulls in the TLS stack;
the wizard paints its window first and loads them right after (``wizard.ui.app.run_gui``). The
keyring library takes a tenth of a second to import (jaraco, urllib, http.client), and looking
for its backends more (its macOS one calls ``ctypes.util.find_library`` even on Linux): both
happen when the Connect page first asks whether a password store is there, on the lab worker.
Each probe runs in a fresh interpreter, because the test process itself has long imported them
all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("pyVmomi", "pyVim", "truststore", "keyring")

_FIRST_WINDOW = """
import json, sys
from wizard.ui import app

def heavy():
    return sorted({name.partition(".")[0] for name in sys.modules} & set(HEAVY))

report = {"import": heavy()}
app.create_application()
window = app.show_main_window(training_scenario=None, vm=None)
report["shown"] = heavy()
report["visible"] = window.isVisible()
if PARSE:
    window.ctx.gateway.parse_endpoint("vc01.example.com")
    report["parse_endpoint"] = heavy()
window.shutdown()
print(json.dumps(report))
"""


def _probe(base: Path, *, parse: bool) -> dict[str, object]:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "CHECKPOINT_WIZARD_BASEDIR": str(base),
        # The probe is hermetic too: no OS keyring, whatever the machine has.
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    code = f"HEAVY = {HEAVY!r}\nPARSE = {parse!r}\n{_FIRST_WINDOW}"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"the probe failed:\n{out.stderr}")
    report: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return report


def test_first_window_loads_no_pyvmomi_truststore_nor_keyring(hermetic_basedir: Path) -> None:
    report = _probe(hermetic_basedir, parse=False)
    assert report["visible"] is True
    assert report["import"] == [], "importing wizard.ui.app loaded them"
    assert report["shown"] == [], "building and showing the first window loaded them"


def test_parsing_the_address_on_the_connect_page_loads_no_pyvmomi(hermetic_basedir: Path) -> None:
    report = _probe(hermetic_basedir, parse=True)
    assert report["parse_endpoint"] == []
