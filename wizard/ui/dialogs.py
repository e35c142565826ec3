"""The wizard's dialogs, and the one function that shows them all.

Every modal dialog goes through :func:`show_modal`, which opens it window-modal without a
nested event loop and calls back with the result code. Tests replace that one function to
answer a dialog (or to look at it) without a person.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from wizard import __version__
from wizard.ui.theme import MUTED, Tone, icon, monospace, scaled_font, tint
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


def word_the_answers(box: QMessageBox, yes: str, no: str) -> None:
    """A Yes/No question whose buttons say what they do, its text shown as written; No, the
    answer that changes nothing, is the default and what Escape gives."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.button(QMessageBox.StandardButton.Yes).setText(yes)
    box.button(QMessageBox.StandardButton.No).setText(no)
    box.setDefaultButton(QMessageBox.StandardButton.No)
    box.setEscapeButton(QMessageBox.StandardButton.No)


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


def _short_fingerprint(sha256: str) -> str:
    parts = sha256.upper().split(":")
    if len(parts) < 8:
        return sha256.upper()
    return f"{':'.join(parts[:4])} … {':'.join(parts[-4:])}"


def _fingerprint_row(sha256: str, name: str) -> tuple[QLabel, QHBoxLayout]:
    """The fingerprint in two monospace lines, selectable, with a Copy button beside it."""
    label = QLabel(format_fingerprint(sha256))
    label.setFont(monospace())
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAccessibleName(name)
    copy = QPushButton("Cop&y")
    copy.setAccessibleName(f"Copy the {name.lower()}")
    copy.setAutoDefault(False)
    copy.clicked.connect(lambda: copy_text(sha256))
    row = QHBoxLayout()
    row.addWidget(label, 1)
    row.addWidget(copy, 0, Qt.AlignmentFlag.AlignTop)
    return label, row


def _short_name(name: str) -> str:
    """The CN of a name when it has one (``CN=a, O=b`` -> ``a``), else the whole name."""
    for part in name.split(", "):
        if part.startswith("CN="):
            return part[3:]
    return name or "(no name)"


def _chain_text(info: CertificateInfo) -> str:
    """The certificates the server sent, one per line, its own first."""
    lines = []
    for number, cert in enumerate((info, *info.chain), start=1):
        what = []
        if cert is info:
            what.append("this certificate")
        if cert.is_ca:
            what.append("an authority")
        if cert.self_signed:
            what.append("self-signed")
        lines.append(
            f"{number}. {_short_name(cert.subject)}\n"
            f"   {', '.join(what) or 'intermediate'} · SHA-256 {_short_fingerprint(cert.sha256)}"
        )
    if not info.chain:
        lines.append("The server sent no other certificate.")
    return "\n".join(lines)


def _tone_label(text: str, tone: Tone) -> QLabel:
    label = wrapped(text)
    tint(label, tone.fg, bold=True)
    return label


def _stack(*widgets: QWidget) -> QVBoxLayout:
    """Widgets one under the other in one cell of a form, close together."""
    column = QVBoxLayout()
    column.setSpacing(4)
    for widget in widgets:
        column.addWidget(widget)
    return column


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(8)
    return form


def _heading(tone: Tone, head_text: str, body: str) -> QHBoxLayout:
    head = QLabel(head_text)
    head.setWordWrap(True)
    head.setFont(scaled_font(head, 1.1, bold=True))
    top = QHBoxLayout()
    top.setSpacing(14)
    top.addWidget(IconLabel(tone.icon_name, 40), 0, Qt.AlignmentFlag.AlignTop)
    text = QVBoxLayout()
    text.addWidget(head)
    text.addWidget(wrapped(body))
    top.addLayout(text, 1)
    return top


def _expired(not_after: datetime | None) -> bool:
    if not_after is None:
        return False
    if not_after.tzinfo is None:
        not_after = not_after.replace(tzinfo=UTC)
    return not_after < datetime.now(UTC)


class CertificateDialog(QDialog):
    """vCenter's certificate is not trusted yet: show it and ask how to proceed.

    Result codes: :attr:`TRUST_ONCE`, :attr:`ALWAYS_TRUST`, :attr:`TRUST_AUTHORITY` (fetch the
    vCenter's certificate authority and show it: :class:`AuthorityDialog`), or ``Rejected``
    (cancel).

    Attributes:
        fingerprint_label: the SHA-256 fingerprint as shown (tests compare it with the lab's).
        names_label: the names the certificate is issued for.
        name_check_label: whether the name typed is among them.
        chain_label: the certificates the server sent.
        authority_button: "Trust its authority…"; None for a self-signed certificate.
    """

    TRUST_ONCE = 10
    ALWAYS_TRUST = 11
    TRUST_AUTHORITY = 12

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
        top = _heading(
            Tone.WARN,
            f"{info.host}:{info.port} presented a certificate that this computer does "
            "not trust yet.",
            "Compare the fingerprint with the one your vSphere team publishes (or the one shown "
            "in the vCenter appliance's management page). Trust it only if they are the same: "
            "a different fingerprint means you may not be talking to your vCenter.",
        )

        self.fingerprint_label, fp_row = _fingerprint_row(info.sha256, "SHA-256 fingerprint")
        form = _form()
        form.addRow("SHA-256 fingerprint:", fp_row)

        names = ", ".join(info.names) or "(none listed)"
        self.names_label = wrapped(names, selectable=True)
        self.names_label.setAccessibleName("Issued for")
        if info.valid_for(info.host):
            self.name_check_label = _tone_label(
                f"{info.host}, the name you connect to, is among them.", Tone.GOOD
            )
        else:
            self.name_check_label = _tone_label(
                f"{info.host}, the name you connect to, is NOT among them. Connect with one of "
                "the names above if you can: under this name even its authority cannot vouch "
                "for it.",
                Tone.BAD,
            )
        self.name_check_label.setAccessibleName("Name check")
        form.addRow("Issued for:", _stack(self.names_label, self.name_check_label))
        when = f"{_when(info.not_before)}  to  {_when(info.not_after)}"
        for title, value in (
            ("Subject:", info.subject),
            ("Issued by:", info.issuer + ("  (itself: self-signed)" if info.self_signed else "")),
            ("Valid:", when),
            ("Key:", f"{info.key}, signed with {info.signature_algorithm}"),
        ):
            label = wrapped(value, selectable=True)
            label.setAccessibleName(title.rstrip(":"))
            form.addRow(title, label)
        if _expired(info.not_after):
            form.addRow("", _tone_label("This certificate has expired.", Tone.BAD))
        self.chain_label = wrapped(_chain_text(info), selectable=True)
        self.chain_label.setFont(monospace())
        self.chain_label.setAccessibleName("Certificates sent")
        form.addRow("Sent by the server:", self.chain_label)
        self.match_label: QLabel | None = None
        if expected_sha256:
            same = _normal(expected_sha256) == _normal(info.sha256)
            self.match_label = _tone_label(
                "The training lab reported this same fingerprint: it is safe to trust."
                if same
                else "This is NOT the fingerprint the training lab reported. Do not trust it.",
                Tone.GOOD if same else Tone.BAD,
            )
            form.addRow("Check:", self.match_label)

        buttons = QDialogButtonBox()
        self._once = buttons.addButton("Trust &once", QDialogButtonBox.ButtonRole.AcceptRole)
        self._once.setAccessibleName("Trust once")
        self._always = buttons.addButton("&Always trust", QDialogButtonBox.ButtonRole.AcceptRole)
        self._always.setAccessibleName("Always trust this certificate for this vCenter")
        self.authority_button: QPushButton | None = None
        if not info.self_signed:
            self.authority_button = buttons.addButton(
                "Trust its a&uthority…", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.authority_button.setAccessibleName("Trust this vCenter's certificate authority")
            self.authority_button.clicked.connect(self.on_authority_clicked)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)  # the safe choice is what Enter does
        self._once.clicked.connect(self.on_once_clicked)
        self._always.clicked.connect(self.on_always_clicked)
        buttons.rejected.connect(self.reject)

        explain = [
            "Trust once: for this session only.",
            "Always trust: this certificate, for this vCenter; you are warned when it changes, "
            "also when it is renewed.",
        ]
        if self.authority_button is not None:
            explain.append(
                "Trust its authority: the wizard fetches the certificate authority this vCenter "
                "offers and shows it to you first. Trusted, it vouches for the certificates it "
                "issues to this vCenter, renewals included, and for nothing else."
            )
        note = wrapped("\n".join(explain))
        tint(note, MUTED)
        # The details scroll when the screen is too short for them (a laptop at 150 %): the
        # question, the explanation and the buttons always show.
        details = QWidget()
        details.setLayout(form)
        form.setContentsMargins(0, 0, 0, 0)
        self._details = details
        self.details_area = QScrollArea(self)
        self.details_area.setWidget(details)
        self.details_area.setWidgetResizable(True)
        self.details_area.setFrameShape(QFrame.Shape.NoFrame)
        self.details_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(top)
        col.addWidget(self.details_area, 1)
        col.addWidget(note)
        col.addWidget(buttons)
        self.setMinimumWidth(720)

    def showEvent(self, event: QShowEvent) -> None:
        """Be as tall as the details need, within the screen (then they scroll)."""
        super().showEvent(event)
        layout = self.layout()
        if layout is None:
            return
        width = self.width()
        viewport = width - 40  # the layout's side margins
        extra = self._details.heightForWidth(viewport) - self.details_area.viewport().height()
        wanted = max(self.minimumSizeHint().height(), self.height() + extra)
        screen = self.screen()
        if screen is not None:
            wanted = min(wanted, int(screen.availableGeometry().height() * 0.9))
        if wanted != self.height():
            self.resize(width, wanted)

    @Slot()
    def on_copy_clicked(self) -> None:
        copy_text(self.info.sha256)

    @Slot()
    def on_once_clicked(self) -> None:
        self.done(self.TRUST_ONCE)

    @Slot()
    def on_always_clicked(self) -> None:
        self.done(self.ALWAYS_TRUST)

    @Slot()
    def on_authority_clicked(self) -> None:
        self.done(self.TRUST_AUTHORITY)


class AuthorityDialog(QDialog):
    """The certificate authority a vCenter offers, fetched: show it and ask whether to trust it.

    Result codes: :attr:`TRUST`, or ``Rejected`` (cancel).

    Attributes:
        fingerprint_label: the authority's SHA-256 fingerprint as shown.
        match_label: in training, whether it is the authority the lab reported.
    """

    TRUST = 10

    def __init__(
        self,
        authority: CertificateInfo,
        parent: QWidget | None = None,
        *,
        expected_sha256: str | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trust this vCenter's certificate authority?")
        self.setAccessibleName("Trust this vCenter's certificate authority")
        self.authority = authority
        where = f"{authority.host}:{authority.port}"
        top = _heading(
            Tone.SHIELD,
            f"{where} offers this certificate authority, and it issued the certificate you "
            "were shown.",
            "Compare its fingerprint with the one your vSphere team gives you. If you trust it, "
            f"the certificates it issues for {authority.host} are accepted without a question, "
            f"renewed ones included. It is trusted for {where} only: it never vouches for "
            "another server, even one whose certificate it issued.",
        )
        self.fingerprint_label, fp_row = _fingerprint_row(
            authority.sha256, "Authority's SHA-256 fingerprint"
        )
        form = _form()
        form.addRow("SHA-256 fingerprint:", fp_row)
        kind = (
            "A root authority (self-signed)"
            if authority.self_signed
            else f"An authority issued by {authority.issuer or '(no name)'}"
        )
        for title, value in (
            ("Subject:", authority.subject),
            ("Kind:", kind),
            ("Valid:", f"{_when(authority.not_before)}  to  {_when(authority.not_after)}"),
            ("Key:", f"{authority.key}, signed with {authority.signature_algorithm}"),
        ):
            label = wrapped(value, selectable=True)
            label.setAccessibleName(title.rstrip(":"))
            form.addRow(title, label)
        if _expired(authority.not_after):
            form.addRow("", _tone_label("This authority has expired.", Tone.BAD))
        self.match_label: QLabel | None = None
        if expected_sha256:
            same = _normal(expected_sha256) == _normal(authority.sha256)
            self.match_label = _tone_label(
                "The training lab reported this same authority fingerprint: it is safe to trust."
                if same
                else "This is NOT the authority the training lab reported. Do not trust it.",
                Tone.GOOD if same else Tone.BAD,
            )
            form.addRow("Check:", self.match_label)

        buttons = QDialogButtonBox()
        trust = buttons.addButton("&Trust this authority", QDialogButtonBox.ButtonRole.AcceptRole)
        trust.setAccessibleName("Trust this authority for this vCenter")
        trust.clicked.connect(self.on_trust_clicked)
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Cancel")
        cancel.setDefault(True)
        buttons.rejected.connect(self.reject)
        note = wrapped(
            "Remembered for this vCenter. A certificate from another authority is refused with "
            "a warning; File > Settings lists the authorities you trust and can forget one."
        )
        tint(note, MUTED)
        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(14)
        col.addLayout(top)
        col.addLayout(form)
        col.addWidget(note)
        col.addWidget(buttons)
        self.setMinimumWidth(680)

    @Slot()
    def on_trust_clicked(self) -> None:
        self.done(self.TRUST)


class CertificateChangedDialog(QDialog):
    """A pinned certificate changed, or the trusted authority did not issue the one presented:
    stop. There is deliberately no way to accept it here."""

    def __init__(
        self,
        pinned: CertificateInfo,
        presented: CertificateInfo,
        parent: QWidget | None = None,
        *,
        authority: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Certificate changed: connection stopped")
        self.setAccessibleName("Certificate changed")
        where = f"{presented.host}:{presented.port}"
        if authority:
            head = (
                f"The certificate of {where} was not issued by the certificate authority you "
                "trusted for it."
            )
            body = (
                "The wizard did not connect and sent no password. This happens when vCenter's "
                "certificate authority was replaced, but also when someone is intercepting the "
                "connection. Ask your vSphere team whether the authority was replaced. If it "
                "was, forget the old authority in File > Settings and connect again."
            )
        else:
            head = f"The certificate of {where} is not the one you trusted before."
            body = (
                "The wizard did not connect and sent no password. This happens when vCenter's "
                "certificate was renewed, but also when someone is intercepting the connection. "
                "Ask your vSphere team whether the certificate was replaced. If it was, remove "
                "the old certificate in File > Settings and connect again. Trusting vCenter's "
                "certificate authority instead spares you this at the next renewal."
            )
        top = _heading(Tone.BAD, head, body)
        form = _form()
        trusted_title = "Trusted authority:" if authority else "Trusted before:"
        for title, cert in ((trusted_title, pinned), ("Presented now:", presented)):
            fp = QLabel(format_fingerprint(cert.sha256))
            fp.setFont(monospace())
            fp.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            fp.setAccessibleName(title.rstrip(":"))
            if authority and cert is pinned:
                form.addRow(title, _stack(fp, wrapped(pinned.subject, selectable=True)))
            else:
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
