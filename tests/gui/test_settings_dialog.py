"""Settings: the limits survive a restart, bad values fall back, forgetting is real, Cancel is not.

Every test runs under its own base folder (``hermetic_basedir``) and an in-memory keyring.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtWidgets import QDialogButtonBox, QTreeWidget
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder, WindowFactory, to_applied, to_check
from tests.gui.fakes import FakeGateway, confirmed_facts
from wizard import credentials
from wizard.ui.settings import GuiSettings
from wizard.ui.settings_dialog import SettingsDialog
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.tls import JsonPinStore

VC1 = "vc01.corp.local:443"
VC2 = "vc02.corp.local:443"
USER = "helpdesk@vsphere.local"


def _dialog(qtbot: QtBot, settings: GuiSettings) -> SettingsDialog:
    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    return dialog


def _press(dialog: SettingsDialog, which: QDialogButtonBox.StandardButton) -> None:
    box = dialog.findChild(QDialogButtonBox)
    assert box is not None
    button = box.button(which)
    assert button is not None
    button.click()


def _select(tree: QTreeWidget, text: str) -> None:
    (item,) = tree.findItems(text, Qt.MatchFlag.MatchExactly, 0)
    tree.setCurrentItem(item)


def _row(tree: QTreeWidget, index: int) -> list[str]:
    item = tree.topLevelItem(index)
    assert item is not None
    return [item.text(c) for c in range(tree.columnCount())]


def _pin(host: str, fingerprint: str) -> CertificateInfo:
    return CertificateInfo(
        host,
        443,
        fingerprint,
        f"CN={host}",
        "CN=Corp CA",
        None,
        datetime(2034, 1, 1, tzinfo=UTC),
        "",
    )


def _pins_file() -> Path:
    return JsonPinStore().path


def test_the_limits_round_trip_through_the_file(qtbot: QtBot) -> None:
    settings = GuiSettings()
    assert (settings.call_timeout_s, settings.evidence_days, settings.shutdown_timeout_s) == (
        30,
        30,
        300,
    )
    dialog = _dialog(qtbot, settings)
    dialog.call_timeout_spin.setValue(120)
    dialog.evidence_days_spin.setValue(365)
    dialog.shutdown_timeout_spin.setValue(900)
    _press(dialog, QDialogButtonBox.StandardButton.Ok)
    again = GuiSettings(settings.path)
    assert (again.call_timeout_s, again.evidence_days, again.shutdown_timeout_s) == (120, 365, 900)
    reopened = _dialog(qtbot, again)
    assert reopened.evidence_days_spin.value() == 365


def test_bad_values_in_the_file_fall_back_to_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "gui.json"
    path.write_text(
        json.dumps(
            {
                "call_timeout_s": 4,  # below the range
                "evidence_days": "90",  # not a number
                "shutdown_timeout_s": True,  # JSON true is no number of seconds
                "recent": [{"endpoint": VC1, "user": USER, "remember": True}],
            }
        ),
        encoding="utf-8",
    )
    settings = GuiSettings(path)
    assert (settings.call_timeout_s, settings.evidence_days, settings.shutdown_timeout_s) == (
        30,
        30,
        300,
    )
    assert settings.recent()[0].endpoint == VC1, "the rest of the file is kept"
    path.write_text(json.dumps({"shutdown_timeout_s": 3601, "evidence_days": 3650}), "utf-8")
    settings = GuiSettings(path)
    assert (settings.shutdown_timeout_s, settings.evidence_days) == (300, 3650)


def test_forgetting_a_vcenter_drops_it_and_its_password(qtbot: QtBot) -> None:
    settings = GuiSettings()
    settings.add_recent(VC2, USER, remember=True)
    settings.add_recent(VC1, USER, remember=True)
    credentials.save_password(VC1, USER, "pw-one")
    credentials.save_password(VC2, USER, "pw-two")
    dialog = _dialog(qtbot, settings)
    assert _row(dialog.vcenters_tree, 0)[2] == "remembered"
    _select(dialog.vcenters_tree, VC1)
    dialog.forget_vcenter_button.click()
    assert dialog.vcenters_tree.topLevelItemCount() == 1
    _press(dialog, QDialogButtonBox.StandardButton.Ok)
    assert [r.endpoint for r in GuiSettings(settings.path).recent()] == [VC2]
    qtbot.waitUntil(lambda: credentials.load_password(VC1, USER) is None, timeout=3000)
    QThreadPool.globalInstance().waitForDone(3000)
    assert credentials.load_password(VC2, USER) == "pw-two"


def test_forgetting_a_pin_removes_it_from_the_file(qtbot: QtBot) -> None:
    store = JsonPinStore()
    store.put(_pin("vc01.corp.local", "AA:" * 31 + "AA"))
    store.put(_pin("vc02.corp.local", "BB:" * 31 + "BB"))
    dialog = _dialog(qtbot, GuiSettings())
    assert dialog.pins_tree.topLevelItemCount() == 2
    assert _row(dialog.pins_tree, 0)[2] == "2034-01-01"
    _select(dialog.pins_tree, "vc01.corp.local:443")
    dialog.forget_pin_button.click()
    assert "certificate dialog again" in dialog.pins_note.text()
    _press(dialog, QDialogButtonBox.StandardButton.Ok)
    pins = json.loads(_pins_file().read_text(encoding="utf-8"))["pins"]
    assert list(pins) == ["vc02.corp.local:443"]


def test_a_trusted_authority_is_listed_and_can_be_forgotten(qtbot: QtBot) -> None:
    store = JsonPinStore()
    store.put_authority(_pin("vc03.corp.local", "CC:" * 31 + "CC"))
    dialog = _dialog(qtbot, GuiSettings())
    assert _row(dialog.pins_tree, 0)[:2] == [
        "vc03.corp.local:443 (its authority)",
        "CC:" * 31 + "CC",
    ]
    _select(dialog.pins_tree, "vc03.corp.local:443 (its authority)")
    dialog.forget_pin_button.click()
    _press(dialog, QDialogButtonBox.StandardButton.Ok)
    data = json.loads(_pins_file().read_text(encoding="utf-8"))
    assert data["authorities"] == {}


def test_cancel_changes_nothing(qtbot: QtBot) -> None:
    settings = GuiSettings()
    settings.add_recent(VC1, USER, remember=True)
    credentials.save_password(VC1, USER, "pw-one")
    JsonPinStore().put(_pin("vc01.corp.local", "AA:" * 31 + "AA"))
    before = (settings.path.read_bytes(), _pins_file().read_bytes())
    dialog = _dialog(qtbot, settings)
    dialog.call_timeout_spin.setValue(200)
    _select(dialog.vcenters_tree, VC1)
    dialog.forget_vcenter_button.click()
    _select(dialog.pins_tree, "vc01.corp.local:443")
    dialog.forget_pin_button.click()
    _press(dialog, QDialogButtonBox.StandardButton.Cancel)
    QThreadPool.globalInstance().waitForDone(3000)
    assert (settings.path.read_bytes(), _pins_file().read_bytes()) == before
    assert settings.call_timeout_s == 30
    assert credentials.load_password(VC1, USER) == "pw-one"


def test_the_settings_reach_the_next_connect_and_check(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gateway = FakeGateway()
    win = make_window(gateway)
    win.settings_action.trigger()
    (dialog,) = recorder.of(SettingsDialog)
    dialog.call_timeout_spin.setValue(45)
    dialog.evidence_days_spin.setValue(90)
    dialog.accept()  # what OK does
    to_check(qtbot, win, recorder)
    assert gateway.timeouts, "it connected"
    assert set(gateway.timeouts) == {45.0}
    assert gateway.evidence_days == [90]


def test_the_shutdown_wait_reaches_the_executor(
    qtbot: QtBot, make_window: WindowFactory, recorder: DialogRecorder
) -> None:
    gateway = FakeGateway(trusted=True, facts=confirmed_facts())
    win = make_window(gateway)
    win.settings_action.trigger()
    (dialog,) = recorder.of(SettingsDialog)
    dialog.shutdown_timeout_spin.setValue(900)
    dialog.accept()
    to_applied(qtbot, win, recorder)
    (request,) = gateway.requests
    assert request.shutdown_timeout == 900.0
    assert request.allow_shutdown
