"""The wizard's dialogs, and the one function that shows them all.

Every modal dialog goes through :func:`show_modal`, which opens it window-modal without a
nested event loop and calls back with the result code. Tests replace that one function to
answer a dialog (or to look at it) without a person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from wizard import __version__
from wizard.ui.look import Tone, icon, monospace, scaled_font
from wizard.ui.widgets import IconLabel, copy_text, wrapped
from wizard.vsphere.certificate import CertificateInfo


def show_modal(dialog: QDialog, on_done: Callable[[int], None]) -> None:
    """Show ``dialog`` modal to its window and call ``on_done(result)`` when it closes.

    Tests patch this function (``wizard.ui.dialogs.show_modal``) to answer dialogs.
    """

    def finished(result: int) -> None:
        dialog.deleteLater()
        on_done(result)

    dialog.finished.connect(finished)
    dialog.open()


def _when(value: datetime | None) -> str:
    if value is None:
        return "(unreadable)"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_fingerprint(sha256: str) -> str:
    """``AB:CD:...`` in two lines of 16 bytes, easier to compare by eye."""
    parts = sha256.upper().replace(" ", "").split(":")
    if len(parts) < 2:
        raw = sha256.upper().replace(":", "")
        parts = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    half = (len(parts) + 1) // 2
    return ":".join(parts[:half]) + "\n" + ":".join(parts[half:])


def _normal(sha256: str) -> str:
    return sha256.upper().replace(":", "").replace(" ", "")


class CertificateDialog(QDialog):
    """vCenter's certificate is not trusted yet: show it and ask how to proceed.

    Result codes: :attr:`TRUST_ONCE`, :attr:`ALWAYS_TRUST`, or ``Rejected`` (cancel).

    Attributes:
        fingerprint_label: the SHA-256 fingerprint as shown (tests compare it with the lab's).
    """

    TRUST_ONCE = 10
    ALWAYS_TRUST = 11

    def __init__(
        self,
        info: CertificateInfo,
        parent: QWidget | None = None,
        *,
        expected_sha256: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Certificate not trusted")
        self.setAccessibleName("Certificate not trusted")
        self.info = info

        head = QLabel(
            f"{info.host}:{info.port} presented a certificate that this computer does "
            "not trust yet."
        )
        head.setWordWrap(True)
        head.setFont(scaled_font(head, 1.1, bold=True))
        explain = wrapped(
            "Compare the fingerprint with the one your vSphere team publishes (or the one shown "
            "in the vCenter appliance's management page). Trust it only if they are the same: "
            "a different fingerprint means you may not be talking to your vCenter."
        )
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(IconLabel(Tone.WARN.icon_name, 40), 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(head)
        text.addWidget(explain)
        top.addLayout(text, 1)

        self.fingerprint_label = QLabel(format_fingerprint(info.sha256))
        self.fingerprint_label.setFont(monospace())
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.setAccessibleName("SHA-256 fingerprint")
        copy = QPushButton("Cop&y")
        copy.setAccessibleName("Copy the fingerprint")
        copy.setAutoDefault(False)
        copy.clicked.connect(self.on_copy_clicked)
        fp_row = QHBoxLayout()
        fp_row.addWidget(self.fingerprint_label, 1)
        fp_row.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(8)
        form.addRow("SHA-256 fingerprint:", fp_row)
        for title, value in (
            ("Subject:", info.subject),
            ("Issuer:", info.issuer),
            ("Valid from:", _when(info.not_before)),
            ("Valid until:", _when(info.not_after)),
        ):
            label = wrapped(value, selectable=True)
            label.setAccessibleName(title.rstrip(":"))
            form.addRow(title, label)

        now = datetime.now(UTC)
        not_after = info.not_after
        if not_after is not None and not_after.tzinfo is None:
            not_after = not_after.replace(tzinfo=UTC)
        if not_after is not None and not_after < now:
            warn = wrapped("This certificate has expired.")
            warn.setStyleSheet(f"color: {Tone.BAD.fg}; font-weight: bold;")
            form.addRow("", warn)
        self.match_label: QLabel | None = None
        if expected_sha256:
            same = _normal(expected_sha256) == _normal(info.sha256)
            self.match_label = wrapped(
                "The training lab reported this same fingerprint: it is safe to trust."
                if same
                else "This is NOT the fingerprint the training lab reported. Do not trust it."
            )
            tone = Tone.GOOD if same else Tone.BAD
            self.match_label.setStyleSheet(f"color: {tone.fg}; font-weight: bold;")
            form.addRow("Check:", self.match_label)

        buttons = QDialogButtonBox()
        self._once = buttons.addButton("Trust &once", QDialogButtonBox.ButtonRole.AcceptRole)
        self._once.setAccessibleName("Trust once")
        self._always = buttons.addButton("&Always trust", QDialogButtonBox.ButtonRole.AcceptRole)
        self._always.setAccessibleName("Always trust this certificate for this vCenter")
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)  # the safe choice is what Enter does
        self._once.clicked.connect(self.on_once_clicked)
        self._always.clicked.connect(self.on_always_clicked)
        buttons.rejected.connect(self.reject)

        note = wrapped(
            "Trust once: for this session only. Always trust: remembered for this vCenter; "
            "you will be warned if the certificate ever changes."
        )
        note.setStyleSheet("color: #4f5b67;")
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(top)
        col.addLayout(form)
        col.addWidget(note)
        col.addWidget(buttons)
        self.setMinimumWidth(640)

    @Slot()
    def on_copy_clicked(self) -> None:
        copy_text(self.info.sha256)

    @Slot()
    def on_once_clicked(self) -> None:
        self.done(self.TRUST_ONCE)

    @Slot()
    def on_always_clicked(self) -> None:
        self.done(self.ALWAYS_TRUST)


class CertificateChangedDialog(QDialog):
    """A pinned certificate changed: stop. There is deliberately no way to accept it here."""

    def __init__(
        self, pinned: CertificateInfo, presented: CertificateInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Certificate changed: connection stopped")
        self.setAccessibleName("Certificate changed")
        head = QLabel(
            f"The certificate of {presented.host}:{presented.port} is not the one you "
            "trusted before."
        )
        head.setWordWrap(True)
        head.setFont(scaled_font(head, 1.1, bold=True))
        body = wrapped(
            "The wizard did not connect and sent no password. This happens when vCenter's "
            "certificate was renewed, but also when someone is intercepting the connection. "
            "Ask your vSphere team whether the certificate was replaced. If it was, remove the "
            "old certificate in File > Settings and connect again."
        )
        top = QHBoxLayout()
        top.setSpacing(14)
        top.addWidget(IconLabel(Tone.BAD.icon_name, 40), 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(head)
        text.addWidget(body)
        top.addLayout(text, 1)
        form = QFormLayout()
        form.setHorizontalSpacing(12)
        for title, cert in (("Trusted before:", pinned), ("Presented now:", presented)):
            fp = QLabel(format_fingerprint(cert.sha256))
            fp.setFont(monospace())
            fp.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            fp.setAccessibleName(title.rstrip(":"))
            form.addRow(title, fp)
        form.addRow("Issuer now:", wrapped(presented.issuer, selectable=True))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(top)
        col.addLayout(form)
        col.addWidget(buttons)
        self.setMinimumWidth(640)


class AboutDialog(QDialog):
    """Version, the article it implements, where the log is."""

    def __init__(self, article: str, log_path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Checkpoint Wizard")
        self.setAccessibleName("About Checkpoint Wizard")
        logo = QLabel()
        logo.setPixmap(icon("app").pixmap(64, 64))
        title = QLabel(f"Checkpoint Wizard {__version__}")
        title.setFont(scaled_font(title, 1.3, bold=True))
        body = wrapped(
            'Finds out why a VM\'s vMotion fails with "Failed to flush checkpoint data!", '
            "applies the workaround you choose, and checks that it worked.\n\n"
            f"Implements VMware {article}.\n"
            f"Log file: {log_path}",
            selectable=True,
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.setSpacing(16)
        top.addWidget(logo, 0, Qt.AlignmentFlag.AlignTop)
        text = QVBoxLayout()
        text.addWidget(title)
        text.addWidget(body)
        top.addLayout(text, 1)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.addLayout(top)
        col.addWidget(buttons)
        self.setMinimumWidth(480)


class HelpWindow(QDialog):
    """Non-modal help for the current page, beside the wizard."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Help")
        self.setModal(False)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setAccessibleName("Help text")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.hide)
        col = QVBoxLayout(self)
        col.addWidget(self.browser)
        col.addWidget(buttons)
        self.resize(520, 560)

    def show_html(self, title: str, html: str) -> None:
        self.setWindowTitle(f"Help: {title}")
        self.browser.setHtml(html)
        self.show()
        self.raise_()
