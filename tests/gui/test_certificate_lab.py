"""The certificate dialogs against the real lab: trusting its authority, a renewal, a
replacement, each dialog grabbed offscreen as a picture.

The pictures go to the test's folder, or to ``CHECKPOINT_WIZARD_SHOTS`` when it is set (to look
at them: ``CHECKPOINT_WIZARD_SHOTS=/tmp/shots pytest tests/gui/test_certificate_lab.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from tests.gui.lab_flow import LAB_MARKS, SLOW, connect_to_lab, open_windows
from tests.helpers.lab import running_lab
from wizard.lab.process import LabProcess
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.vsphere.tls import JsonPinStore

pytestmark = LAB_MARKS


@dataclass
class Grabber:
    """Answers the dialogs like a recorder and saves a picture of each."""

    out: Path
    answers: dict[str, int] = field(default_factory=dict)
    shown: list[QDialog] = field(default_factory=list)
    pictures: list[Path] = field(default_factory=list)

    def __call__(self, dialog: QDialog, on_done: Callable[[int], None]) -> None:
        self.shown.append(dialog)
        dialog.adjustSize()
        dialog.show()
        path = self.out / f"{len(self.pictures) + 1:02d}-{type(dialog).__name__}.png"
        assert dialog.grab().save(str(path))
        self.pictures.append(path)
        dialog.hide()
        on_done(self.answers.get(type(dialog).__name__, int(QDialog.DialogCode.Rejected)))

    def of(self, cls: type[QDialog]) -> list[QDialog]:
        return [d for d in self.shown if isinstance(d, cls)]


@pytest.fixture
def grabber(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Grabber:
    out = Path(os.environ.get("CHECKPOINT_WIZARD_SHOTS", tmp_path / "shots"))
    out.mkdir(parents=True, exist_ok=True)
    grab = Grabber(out)
    monkeypatch.setattr(dialogs, "show_modal", grab)
    return grab


@pytest.fixture
def lab(lab_binary_path: Path, tmp_path: Path) -> Iterator[LabProcess]:
    scenario = Path(bundled_scenarios_dir()) / "dual-screen-win7.json"
    with running_lab(scenario, tmp_path, lab_binary_path, ca_dir=tmp_path / "ca") as process:
        yield process


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[Callable[[], MainWindow]]:
    with open_windows(qtbot) as open_window:
        yield open_window


def test_trust_the_lab_authority_then_renewal_and_replacement(
    qtbot: QtBot, lab: LabProcess, window: Callable[[], MainWindow], grabber: Grabber
) -> None:
    grabber.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_AUTHORITY
    grabber.answers["AuthorityDialog"] = dialogs.AuthorityDialog.TRUST
    first = window()
    connect_to_lab(first, lab.info)
    qtbot.waitUntil(lambda: first.wizard.currentId() == PageId.CHOOSE_VM, timeout=SLOW)

    (cert,) = grabber.of(dialogs.CertificateDialog)
    assert isinstance(cert, dialogs.CertificateDialog)
    assert cert.fingerprint_label.text().replace("\n", ":") == lab.info.thumbprint_sha256
    assert cert.names_label.text() == "localhost, 127.0.0.1"  # the names it is issued for
    assert "127.0.0.1, the name you connect to, is among them" in cert.name_check_label.text()
    chain = cert.chain_label.text()
    assert "1. localhost\n   this certificate · SHA-256" in chain
    assert "2. Training lab certificate authority" in chain
    assert "an authority, self-signed · SHA-256" in chain
    (auth,) = grabber.of(dialogs.AuthorityDialog)
    assert isinstance(auth, dialogs.AuthorityDialog)
    assert auth.fingerprint_label.text().replace("\n", ":") == lab.info.ca_thumbprint_sha256
    assert auth.match_label is None  # not training: nothing to compare with but the team
    assert [e.kind for e in JsonPinStore().entries()] == ["authority"]

    # Renewed while the wizard is closed and opened again: no question at all.
    first.close()
    renewed = lab.renew_certificate()
    second = window()
    connect_to_lab(second, renewed)
    qtbot.waitUntil(lambda: second.wizard.currentId() == PageId.CHOOSE_VM, timeout=SLOW)
    assert len(grabber.shown) == 2  # the two dialogs of the first time, nothing more

    # Replaced by another authority: stopped, with the changed warning, no password sent.
    second.close()
    replaced = lab.replace_certificate_authority()
    third = window()
    page = connect_to_lab(third, replaced)
    qtbot.waitUntil(lambda: page.banner.isVisible() and page.isComplete(), timeout=SLOW)
    (changed,) = grabber.of(dialogs.CertificateChangedDialog)
    assert "not issued by the certificate authority you trusted" in page.banner.body_text()
    assert not grabber.of(dialogs.CertificateDialog)[1:]  # no "trust it anyway" offered
    assert third.wizard.currentId() == PageId.CONNECT
    assert [p.name for p in grabber.pictures] == [
        "01-CertificateDialog.png",
        "02-AuthorityDialog.png",
        "03-CertificateChangedDialog.png",
    ]
    assert changed.isHidden()
