"""The trust dialogs: what they show of a certificate and of a vCenter's authority."""

from __future__ import annotations

from dataclasses import replace

from pytestqt.qtbot import QtBot

from tests.gui.fakes import FAKE_AUTHORITY, fake_cert
from wizard.ui import dialogs


def test_the_names_and_the_chain_are_shown(qtbot: QtBot) -> None:
    cert = replace(fake_cert(), chain=(FAKE_AUTHORITY,))
    dialog = dialogs.CertificateDialog(cert)
    qtbot.addWidget(dialog)
    assert dialog.names_label.text() == "vc01.lab.local, 10.1.2.3"
    assert "is among them" in dialog.name_check_label.text()
    chain = dialog.chain_label.text()
    assert "1. vc01.lab.local\n   this certificate · SHA-256" in chain
    assert "2. Lab CA\n   an authority, self-signed · SHA-256" in chain
    assert dialogs._short_fingerprint(FAKE_AUTHORITY.sha256) in chain
    assert dialog.authority_button is not None


def test_a_name_not_among_the_certificate_names_is_said_plainly(qtbot: QtBot) -> None:
    dialog = dialogs.CertificateDialog(replace(fake_cert(), host="10.9.9.9"))
    qtbot.addWidget(dialog)
    assert "10.9.9.9, the name you connect to, is NOT among them" in (
        dialog.name_check_label.text()
    )


def test_a_self_signed_certificate_offers_no_authority(qtbot: QtBot) -> None:
    dialog = dialogs.CertificateDialog(replace(fake_cert(), self_signed=True))
    qtbot.addWidget(dialog)
    assert dialog.authority_button is None
    assert "The server sent no other certificate." in dialog.chain_label.text()


def test_the_authority_dialog_compares_with_the_lab(qtbot: QtBot) -> None:
    good = dialogs.AuthorityDialog(FAKE_AUTHORITY, expected_sha256=FAKE_AUTHORITY.sha256.lower())
    bad = dialogs.AuthorityDialog(FAKE_AUTHORITY, expected_sha256="00" * 32)
    qtbot.addWidget(good)
    qtbot.addWidget(bad)
    assert good.match_label is not None
    assert "same authority fingerprint" in good.match_label.text()
    assert bad.match_label is not None
    assert "NOT the authority" in bad.match_label.text()
    assert good.fingerprint_label.text().replace("\n", ":") == FAKE_AUTHORITY.sha256
