"""The tour walks the whole wizard on a lab scenario and saves a picture of every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.lab, pytest.mark.slow]


def test_tour_saves_every_page(
    qtbot: object, tmp_path: Path, lab_binary_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wizard.lab.binary import ENV_BINARY
    from wizard.lab.scenario import bundled_scenarios_dir
    from wizard.ui.tour import run_tour

    monkeypatch.setenv(ENV_BINARY, str(lab_binary_path))
    shots = run_tour(Path(bundled_scenarios_dir()) / "dual-screen-win7.json", "HD-W7-042", tmp_path)
    names = [p.stem.split("-", 1)[1] for p in shots]
    for page in (
        "welcome",
        "connect",
        "dialog-certificate",
        "choose-vm",
        "check",
        "choose-fix",
        "ready",
        "apply",
        "done",
    ):
        assert page in names
    for p in shots:
        image = QImage(str(p))
        assert not image.isNull()
        assert image.width() >= 400
