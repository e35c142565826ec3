"""The administrator's policy file in the window: the Connect page offers and locks what it says,
its certificate fingerprints are trusted against the real lab without asking, a locked limit
cannot be changed in Settings, and a broken file is reported while the wizard starts as usual.

Pictures of the pages go to the test's folder, or to ``CHECKPOINT_WIZARD_SHOTS`` when set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWizard
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory
from tests.gui.fakes import FakeGateway
from tests.gui.lab_flow import SLOW, open_windows
from tests.helpers.lab import running_lab
from wizard.lab.process import LabInfo
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.connect import ConnectPage
from wizard.ui.settings import GuiSettings
from wizard.ui.settings_dialog import LOCKED_NOTE, SettingsDialog

DUAL = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[Callable[[], MainWindow]]:
    with open_windows(qtbot) as open_window:
        yield open_window


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    out = Path(os.environ.get("CHECKPOINT_WIZARD_SHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    return out


def write_policy(basedir: Path, doc: dict[str, Any] | str) -> None:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    (basedir / "policy.json").write_text(text, encoding="utf-8")


def to_connect(qtbot: QtBot, win: MainWindow) -> ConnectPage:
    """Press Next on Welcome, as a person would."""
    next_button = win.wizard.button(QWizard.WizardButton.NextButton)
    QTest.mouseClick(next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CONNECT)
    page = win.wizard.page_of(PageId.CONNECT)
    assert isinstance(page, ConnectPage)
    return page


def offered(page: ConnectPage) -> list[str]:
    return [page.endpoint_combo.itemText(i) for i in range(page.endpoint_combo.count())]


def test_a_locked_list_offers_only_the_administrators_vcenters(
    qtbot: QtBot, window: Callable[[], MainWindow], hermetic_basedir: Path, shots: Path
) -> None:
    write_policy(
        hermetic_basedir,
        {
            "format": 1,
            "vcenters": [{"address": "vc01.corp.local"}, {"address": "vc02.corp.local:8443"}],
            "locked": ["vcenters"],
        },
    )
    GuiSettings().add_recent("old-vc.example.com", "me@vsphere.local", remember=False)
    win = window()
    page = to_connect(qtbot, win)

    assert offered(page) == ["vc01.corp.local", "vc02.corp.local:8443"]
    assert page.endpoint_combo.currentText() == "vc01.corp.local"
    assert not page.endpoint_combo.isEditable()
    assert page.policy_note.isVisible()
    assert "set by your administrator" in page.policy_note.text()
    # Typing another address picks nothing new: only the offered ones can be chosen.
    page.endpoint_combo.setFocus()
    QTest.keyClicks(page.endpoint_combo, "old-vc")
    assert page.endpoint_combo.currentText() in offered(page)
    QTest.keyClick(page.endpoint_combo, Qt.Key.Key_Down)
    assert page.endpoint_combo.currentText() == "vc02.corp.local:8443"
    assert win.grab().save(str(shots / "connect-locked-by-policy.png"))


def test_an_unlocked_list_offers_the_administrators_vcenters_first(
    qtbot: QtBot, window: Callable[[], MainWindow], hermetic_basedir: Path
) -> None:
    write_policy(hermetic_basedir, {"format": 1, "vcenters": [{"address": "vc01.corp.local"}]})
    GuiSettings().add_recent("old-vc.example.com", "me@vsphere.local", remember=False)
    win = window()
    page = to_connect(qtbot, win)

    assert offered(page) == ["vc01.corp.local", "old-vc.example.com"]
    assert page.endpoint_combo.isEditable()
    assert "administrator's" in page.policy_note.text()
    line = page.endpoint_combo.lineEdit()
    assert line is not None
    line.setFocus()
    line.selectAll()
    QTest.keyClicks(line, "vc09.corp.local")
    assert page.endpoint_combo.currentText() == "vc09.corp.local"


def test_a_broken_policy_is_reported_and_the_wizard_starts_as_usual(
    qtbot: QtBot, window: Callable[[], MainWindow], hermetic_basedir: Path, shots: Path
) -> None:
    write_policy(hermetic_basedir, '{"format": 1, "vcenters": [{"adress": "vc01"}]}')
    win = window()
    assert win.policy_status.isVisible()
    problem = win.policy_status.toolTip()
    assert "policy.json: vcenters[0].adress: unknown field. Did you mean 'address'?" in problem
    assert "runs with its own defaults" in problem
    assert win.grab().save(str(shots / "window-policy-refused.png"))
    page = to_connect(qtbot, win)
    assert page.endpoint_combo.isEditable()
    assert offered(page) == []


def test_a_locked_limit_is_shown_as_set_by_the_administrator(
    qtbot: QtBot, hermetic_basedir: Path, shots: Path
) -> None:
    write_policy(
        hermetic_basedir,
        {"format": 1, "limits": {"call_timeout_s": 120}, "locked": ["call_timeout_s"]},
    )
    settings = GuiSettings()
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.call_timeout_spin.value() == 120
    assert not dialog.call_timeout_spin.isEnabled()
    assert LOCKED_NOTE in dialog.call_timeout_spin.accessibleDescription()
    assert dialog.evidence_days_spin.isEnabled()
    assert dialog.grab().save(str(shots / "settings-locked-limit.png"))


def test_the_training_lab_is_not_bound_by_a_locked_list(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder, hermetic_basedir: Path
) -> None:
    write_policy(
        hermetic_basedir,
        {"format": 1, "vcenters": [{"address": "vc01.corp.local"}], "locked": ["vcenters"]},
    )
    win = make_window(FakeGateway(), training_scenario=DUAL)
    welcome = win.wizard.page_of(PageId.WELCOME)
    qtbot.waitUntil(welcome.isComplete)
    page = to_connect(qtbot, win)
    info = win.ctx.lab_info
    assert info is not None
    assert page.endpoint_combo.isEditable()
    assert page.endpoint_combo.currentText() == f"{info.host}:{info.port}"
    assert page.policy_note.isHidden()


# ------------------------------------------------------------------------ against the real lab


@pytest.fixture
def lab(lab_binary_path: Path, tmp_path: Path) -> Iterator[LabInfo]:
    scenario = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
    with running_lab(scenario, tmp_path, lab_binary_path, ca_dir=tmp_path / "ca") as process:
        yield process.info


def sign_in(qtbot: QtBot, win: MainWindow, lab: LabInfo) -> ConnectPage:
    page = to_connect(qtbot, win)
    assert page.endpoint_combo.currentText() == f"{lab.host}:{lab.port}"
    page.user_edit.setFocus()
    QTest.keyClicks(page.user_edit, lab.user)
    page.password_edit.setFocus()
    QTest.keyClicks(page.password_edit, lab.password)
    QTest.keyClick(page.password_edit, Qt.Key.Key_Return)
    return page


@pytest.mark.lab
@pytest.mark.slow
@pytest.mark.parametrize("field", ["certificate_sha256", "authority_sha256"])
def test_the_policys_fingerprint_is_trusted_without_asking(
    field: str,
    qtbot: QtBot,
    window: Callable[[], MainWindow],
    hermetic_basedir: Path,
    lab: LabInfo,
    recorder: DialogRecorder,
) -> None:
    certificate = field == "certificate_sha256"
    fingerprint = lab.thumbprint_sha256 if certificate else lab.ca_thumbprint_sha256
    write_policy(
        hermetic_basedir,
        {
            "format": 1,
            "vcenters": [{"address": f"{lab.host}:{lab.port}", field: fingerprint}],
            "locked": ["vcenters"],
        },
    )
    win = window()
    sign_in(qtbot, win, lab)
    qtbot.waitUntil(lambda: win.wizard.currentId() == PageId.CHOOSE_VM, timeout=SLOW)
    assert not recorder.of(dialogs.CertificateDialog)
    assert not recorder.of(dialogs.AuthorityDialog)


@pytest.mark.lab
@pytest.mark.slow
def test_a_certificate_that_is_not_the_policys_is_refused_without_asking(
    qtbot: QtBot,
    window: Callable[[], MainWindow],
    hermetic_basedir: Path,
    lab: LabInfo,
    recorder: DialogRecorder,
    shots: Path,
) -> None:
    write_policy(
        hermetic_basedir,
        {
            "format": 1,
            "vcenters": [{"address": f"{lab.host}:{lab.port}", "certificate_sha256": "00" * 32}],
        },
    )
    win = window()
    page = sign_in(qtbot, win, lab)
    qtbot.waitUntil(lambda: page.banner.isVisible(), timeout=SLOW)
    assert "not the one your administrator set" in page.banner.body_text()
    assert lab.thumbprint_sha256 in page.banner.body_text()
    assert ":".join(["00"] * 32) in page.banner.body_text()
    assert not recorder.of(dialogs.CertificateDialog)
    assert win.wizard.currentId() == PageId.CONNECT
    assert win.grab().save(str(shots / "connect-policy-refused-certificate.png"))
