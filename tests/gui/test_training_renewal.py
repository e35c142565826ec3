"""The renewal exercise in training mode, against the real lab.

A trainee on the ``renewed-certificate`` scenario signs in, then presses "Renew and sign in
again" in the coach panel: the lab gets a new certificate from the same authority while it
runs, and the wizard signs in once more. Trusting the authority, that passes silently; trusting
the certificate itself, it stops ("certificate changed"); trusting it once, it asks again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from tests.gui.conftest import DialogRecorder
from tests.gui.lab_flow import LAB_MARKS, SLOW, lab_process, open_windows
from wizard.lab.scenario import bundled_scenarios_dir
from wizard.ui import dialogs
from wizard.ui.app import MainWindow
from wizard.ui.pages.base import PageId
from wizard.ui.pages.welcome import WelcomePage
from wizard.ui.training.session import TrainingSession

pytestmark = LAB_MARKS

LAB_MS = 120_000


@pytest.fixture
def training(qtbot: QtBot) -> Iterator[Callable[[], MainWindow]]:
    scenario = Path(bundled_scenarios_dir()) / "renewed-certificate.json"

    with open_windows(qtbot) as open_window:
        yield lambda: open_window(lab_factory=lab_process, training_scenario=scenario)


def _sign_in(qtbot: QtBot, win: MainWindow) -> TrainingSession:
    wz = win.wizard
    welcome = wz.page_of(PageId.WELCOME)
    assert isinstance(welcome, WelcomePage)
    qtbot.waitUntil(lambda: win.ctx.lab_info is not None and welcome.isComplete(), timeout=LAB_MS)
    wz.next()
    wz.next()
    qtbot.waitUntil(lambda: wz.currentId() == PageId.CHOOSE_VM, timeout=SLOW)
    session = win.ctx.training
    assert isinstance(session, TrainingSession)
    return session


def _renew(qtbot: QtBot, win: MainWindow, session: TrainingSession) -> str:
    panel = win.training.panel
    qtbot.waitUntil(panel.renew_button.isVisible, timeout=SLOW)
    before = win.ctx.lab_info
    assert before is not None
    panel.renew_button.click()
    qtbot.waitUntil(lambda: session.renewal is not None, timeout=SLOW)
    after = win.ctx.lab_info
    assert after is not None
    assert after.thumbprint_sha256 != before.thumbprint_sha256  # really renewed
    assert after.ca_thumbprint_sha256 == before.ca_thumbprint_sha256  # by the same authority
    assert panel.renew_label.isVisible()
    return panel.renew_label.text()


def test_trusting_the_authority_lets_the_renewal_through(
    qtbot: QtBot, training: Callable[[], MainWindow], recorder: DialogRecorder
) -> None:
    recorder.answers["CertificateDialog"] = dialogs.CertificateDialog.TRUST_AUTHORITY
    recorder.answers["AuthorityDialog"] = dialogs.AuthorityDialog.TRUST
    win = training()
    session = _sign_in(qtbot, win)
    (auth,) = recorder.of(dialogs.AuthorityDialog)
    assert auth.match_label is not None
    assert "same authority fingerprint" in auth.match_label.text()  # compared with the lab's
    coach_text = win.training.panel.text.toPlainText()
    assert "Renew and sign in again" in coach_text
    text = _renew(qtbot, win, session)
    assert session.renewal is not None
    assert session.renewal.outcome == "silent"
    assert "without a question" in text
    assert len(recorder.shown) == 2  # no dialog for the renewed certificate
    assert "without a question" in win.training.panel.text.toPlainText()
    assert win.ctx.worker.connected  # the open session went on
    shots = os.environ.get("CHECKPOINT_WIZARD_SHOTS")
    if shots:  # to look at the coach panel (see tests/gui/test_certificate_lab.py)
        qtbot.wait(150)
        assert win.grab().save(str(Path(shots) / "coach-renewal.png"))


@pytest.mark.parametrize(
    ("answer", "outcome", "said", "coach_says"),
    [
        pytest.param(
            dialogs.CertificateDialog.ALWAYS_TRUST,
            "changed",
            "certificate changed",
            "Never click it away",
            id="the-pinned-certificate-is-stopped",
        ),
        pytest.param(
            dialogs.CertificateDialog.TRUST_ONCE,
            "asked",
            "Asked again",
            "trust the authority instead",
            id="trusted-once-it-asks-again",
        ),
    ],
)
def test_trusting_the_certificate_itself_does_not_let_the_renewal_through(
    qtbot: QtBot,
    training: Callable[[], MainWindow],
    recorder: DialogRecorder,
    answer: int,
    outcome: str,
    said: str,
    coach_says: str,
) -> None:
    recorder.answers["CertificateDialog"] = answer
    win = training()
    session = _sign_in(qtbot, win)
    text = _renew(qtbot, win, session)
    assert session.renewal is not None
    assert session.renewal.outcome == outcome
    assert said in text
    assert coach_says in win.training.panel.text.toPlainText()
