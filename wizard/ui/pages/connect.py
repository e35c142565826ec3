"""Connect: vCenter, user, password; certificate trust; the connection runs on the worker."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from wizard import credentials
from wizard.policy import VCENTERS, PolicyVcenter
from wizard.ui import dialogs
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import MUTED, Tone, tint
from wizard.ui.widgets import Banner, wrapped
from wizard.ui.wizard_state import WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.certificate import CertificateInfo
from wizard.vsphere.errors import (
    AuthorityChanged,
    CertificateChanged,
    CertificateUntrusted,
    ErrorCategory,
    VsphereError,
)

if TYPE_CHECKING:
    from wizard.vsphere.results import Reconciliation

_log = logging.getLogger(__name__)


class ConnectPage(BasePage):
    """Sign in to vCenter. Next starts the connection; the page moves on when it succeeds.

    Attributes:
        endpoint_combo: vCenter host[:port], with the recent ones.
        user_edit: the vCenter user.
        password_edit: the password (masked; never stored but in the OS keyring).
        remember_check: remember the password in the OS keyring.
        banner: errors, with the next step.
        busy: progress and Cancel while connecting.
    """

    page_id = PageId.CONNECT

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = self.plain_body()

        self.endpoint_combo = QComboBox(self)
        self.endpoint_combo.setEditable(True)
        self.endpoint_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.endpoint_combo.setAccessibleName("vCenter address")
        line = self.endpoint_combo.lineEdit()
        assert line is not None
        line.setPlaceholderText("vcenter.example.com  or  host:port")
        self.user_edit = QLineEdit(self)
        self.user_edit.setPlaceholderText("helpdesk@vsphere.local")
        self.user_edit.setAccessibleName("User")
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setAccessibleName("Password")
        self.remember_check = QCheckBox("&Remember the password on this computer", self)
        self.remember_check.setAccessibleName("Remember the password on this computer")
        self.remember_check.setToolTip(
            f"Kept in this computer's {credentials.store_name()}, nowhere else."
        )
        self._keyring_note = wrapped(parent=self)
        tint(self._keyring_note, MUTED)
        self._keyring_note.hide()
        # Said under the list when the administrator's policy fixes the vCenters offered.
        self.policy_note = wrapped(parent=self)
        tint(self.policy_note, MUTED)
        self.policy_note.setAccessibleName("Set by your administrator")
        self.policy_note.hide()

        form = QFormLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(10)
        form.addRow("&vCenter:", self.endpoint_combo)
        form.addRow("", self.policy_note)
        form.addRow("&User:", self.user_edit)
        form.addRow("Pass&word:", self.password_edit)
        form.addRow("", self.remember_check)
        form.addRow("", self._keyring_note)
        layout.addLayout(form)

        self._lab_note = Banner(self, icon_size=20)
        self._lab_note.hide()
        layout.addWidget(self._lab_note)
        self.busy, self.banner = self.busy_and_banner(layout, self.on_busy_cancel_requested)
        layout.addStretch(1)

        self.setTabOrder(self.endpoint_combo, self.user_edit)
        self.setTabOrder(self.user_edit, self.password_edit)
        self.setTabOrder(self.password_edit, self.remember_check)

        self.reload_recent()
        self.endpoint_combo.currentTextChanged.connect(self.on_endpoint_changed)
        self.endpoint_combo.activated.connect(self.on_endpoint_activated)
        self.user_edit.textChanged.connect(self.on_field_changed)
        self.password_edit.textChanged.connect(self.on_field_changed)
        self._job: Job | None = None
        self._keyring_ok = True
        self._connected_as: tuple[str, str] | None = None
        self._attempt: tuple[str, str, str] | None = None

    # ---------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        if self._job is None:
            self.banner.hide()  # an error from an earlier visit is not about what is typed now
        info = self.ctx.lab_info
        if info is not None:
            self._set_endpoint_editable(True)  # the lab is on this computer, policy or not
            self.policy_note.hide()
            self.endpoint_combo.setEditText(f"{info.host}:{info.port}")
            self.user_edit.setText(info.user)
            self.password_edit.setText(info.password)
            self.remember_check.setChecked(False)
            self.remember_check.setEnabled(False)
            self._lab_note.show_message(
                Tone.INFO,
                "Training lab",
                "The lab's address, user and password are filled in for you. "
                "The lab uses a certificate of its own: you will be asked whether to trust it.",
            )
            self.first_focus = self.password_edit
        else:
            self._apply_policy_lock()
            self.remember_check.setEnabled(self._keyring_ok)
            self._lab_note.hide()
            # Say before the box is ticked, not after, when nothing could keep the password.
            probe = self.ctx.lab_worker.submit(credentials.usable, description="keyring")
            probe.succeeded.connect(self.on_keyring_probed)
            if self.endpoint_combo.count() and not self.endpoint_combo.currentText():
                self.endpoint_combo.setCurrentIndex(0)
                self._fill_from_recent(0)
            filled = bool(self.endpoint_combo.currentText() and self.user_edit.text())
            self.first_focus = self.password_edit if filled else self.endpoint_combo

    def offered(self) -> list[str]:
        """The vCenters the list offers: the administrator's first, then the recent ones
        (none of those when the administrator locked the list)."""
        policy = self.ctx.settings.policy
        out = [v.address for v in policy.vcenters]
        if not policy.is_locked(VCENTERS):
            seen = {a.lower() for a in out}
            out += [
                r.endpoint for r in self.ctx.settings.recent() if r.endpoint.lower() not in seen
            ]
        return out

    def reload_recent(self) -> None:
        """Fill the vCenter list from the policy and the settings again, keeping what is typed."""
        typed = self.endpoint_combo.currentText()
        self.endpoint_combo.blockSignals(True)  # a refill is no choice of the technician's
        self.endpoint_combo.clear()
        for address in self.offered():
            self.endpoint_combo.addItem(address)
        self.endpoint_combo.setCurrentIndex(-1)
        if self.endpoint_combo.isEditable():
            self.endpoint_combo.setEditText(typed)
        elif typed:
            self.endpoint_combo.setCurrentIndex(max(self.endpoint_combo.findText(typed), 0))
        self.endpoint_combo.blockSignals(False)

    def _set_endpoint_editable(self, editable: bool) -> None:
        if self.endpoint_combo.isEditable() == editable:
            return
        self.endpoint_combo.setEditable(editable)
        line = self.endpoint_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText("vcenter.example.com  or  host:port")

    def _apply_policy_lock(self) -> None:
        """A locked list offers the administrator's vCenters only, and nothing can be typed."""
        policy = self.ctx.settings.policy
        locked = policy.is_locked(VCENTERS)
        self._set_endpoint_editable(not locked)
        self.reload_recent()
        if locked:
            self.policy_note.setText(
                "The vCenters offered are set by your administrator (policy file)."
            )
            self.policy_note.show()
        elif policy.vcenters:
            self.policy_note.setText("The first vCenters listed are your administrator's.")
            self.policy_note.show()
        else:
            self.policy_note.hide()

    def cleanupPage(self) -> None:
        self._cancel_job()

    def isComplete(self) -> bool:
        return (
            self._job is None
            and bool(self.endpoint_combo.currentText().strip())
            and bool(self.user_edit.text().strip())
            and bool(self.password_edit.text())
        )

    def validatePage(self) -> bool:
        wanted = (self._endpoint_text(), self.user_edit.text().strip())
        if self.ctx.worker.connected and self._connected_as == wanted:
            return True
        self._start_connect()
        return False

    def nextId(self) -> int:
        return int(PageId.CHOOSE_VM)

    # ---------------------------------------------------------------- connecting

    def _endpoint_text(self) -> str:
        return self.endpoint_combo.currentText().strip()

    def _start_connect(self) -> None:
        self.banner.hide()
        try:
            endpoint = self.ctx.gateway.parse_endpoint(self._endpoint_text())
        except ValueError as exc:
            self._show_error(str(exc), "Type the vCenter's name or address, e.g. vc01.corp.local.")
            self.endpoint_combo.setFocus()
            return
        user = self.user_edit.text().strip()
        self._attempt = (endpoint, user, self.password_edit.text())
        self._connect()

    def _connect(self) -> None:
        assert self._attempt is not None
        endpoint, user, password = self._attempt
        _log.info("connecting to %s as %s", endpoint, user)
        self.busy.start(f"Connecting to {endpoint}…")
        # The session keeps this limit for every later request too (Settings: next connection).
        connect = functools.partial(
            self.ctx.gateway.connect, timeout=float(self.ctx.settings.call_timeout_s)
        )
        job = self.ctx.worker.open_session(connect, endpoint, user, password, description="connect")
        job.succeeded.connect(self.on_connect_succeeded)
        job.failed.connect(self.on_connect_failed)
        job.cancelled.connect(self.on_connect_cancelled)
        self._job = job
        self._set_inputs_enabled(False)
        self.completeChanged.emit()

    def _cancel_job(self) -> None:
        if self._job is not None:
            self._job.cancel()

    def _done(self) -> None:
        self._job = None
        self.busy.stop()
        self._set_inputs_enabled(True)
        self.completeChanged.emit()

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for w in (self.endpoint_combo, self.user_edit, self.password_edit):
            w.setEnabled(enabled)
        self.remember_check.setEnabled(enabled and self.ctx.lab_info is None and self._keyring_ok)

    def _show_error(self, message: str, next_step: str) -> None:
        self.banner.show_message(Tone.BAD, "Not connected", message, next_step)

    # ---------------------------------------------------------------- slots

    @Slot()
    def on_busy_cancel_requested(self) -> None:
        self._cancel_job()

    @Slot(object)
    def on_connect_succeeded(self, _result: object) -> None:
        assert self._attempt is not None
        endpoint, user, password = self._attempt
        self._attempt = None
        self._done()
        self._connected_as = (self._endpoint_text(), user)
        self.ctx.set_connected(endpoint, user)
        _log.info("connected to %s as %s", endpoint, user)
        if self.ctx.lab_info is None:
            remember = self.remember_check.isChecked()
            # "Remembered" only once the store has taken it.
            self.ctx.settings.add_recent(endpoint, user, remember=False)
            if remember:
                job = self.ctx.lab_worker.submit(
                    credentials.save_password, endpoint, user, password, description="keyring"
                )
                job.succeeded.connect(
                    lambda _r: self.ctx.settings.add_recent(endpoint, user, remember=True)
                )
                job.failed.connect(self.on_keyring_failed)
            else:
                self.ctx.lab_worker.submit(
                    credentials.forget_password, endpoint, user, description="keyring"
                )
        self._reconcile()
        self.go_next()

    # ---------------------------------------------------------------- after connecting

    def _reconcile(self) -> None:
        """Settle what an earlier run left unfinished on this vCenter (on the worker thread)."""
        job = self.ctx.worker.submit_session(
            self.ctx.gateway.reconcile_dangling, description="check for unfinished changes"
        )
        job.succeeded.connect(self.on_reconcile_succeeded)
        job.failed.connect(self.on_reconcile_failed)

    @Slot(object)
    def on_reconcile_succeeded(self, found: object) -> None:
        done = cast("Sequence[Reconciliation]", found)
        if not done:
            return
        for r in done:
            _log.info("reconciled unfinished entry %s: %s", r.entry_id, r.state)
        several = len(done) > 1
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Unfinished changes" if several else "An unfinished change",
            (
                f"{len(done)} changes from an earlier run did not finish"
                if several
                else "A change from an earlier run did not finish"
            )
            + " (the wizard was closed or stopped during it). It has now checked the VM:",
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setInformativeText(
            "\n\n".join(f"{r.message}\n(Journal entry {r.entry_id}.)" for r in done)
        )
        box.setAccessibleName("Unfinished changes")
        dialogs.show_modal(box, lambda _r: None)

    @Slot(object)
    def on_reconcile_failed(self, exc: object) -> None:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        _log.warning("checking for unfinished changes failed: %s", message)
        self.ctx.notice.emit(
            f"Unfinished changes from an earlier run could not be checked: {message}"
        )

    @Slot(object)
    def on_connect_failed(self, exc: object) -> None:
        self._done()
        if isinstance(exc, CertificateUntrusted) and self._trust_by_policy(exc.info):
            return
        if isinstance(exc, CertificateUntrusted):
            expected = self.ctx.lab_info.thumbprint_sha256 if self.ctx.lab_info else None
            dialog = dialogs.CertificateDialog(exc.info, self, expected_sha256=expected)
            info = exc.info

            def answered(result: int) -> None:
                self.on_certificate_answered(result, info)

            dialogs.show_modal(dialog, answered)
            return
        self._attempt = None
        if isinstance(exc, CertificateChanged):
            authority = isinstance(exc, AuthorityChanged)
            where = f"{exc.presented.host}:{exc.presented.port}"
            if authority:
                self._show_error(
                    f"The certificate of {where} was not issued by the certificate authority "
                    "you trusted for it. The wizard stopped before sending your password.",
                    "Ask your vSphere team whether vCenter's certificate authority was replaced.",
                )
            else:
                self._show_error(
                    f"The certificate of {where} changed since you trusted it. The wizard "
                    "stopped before sending your password.",
                    "Ask your vSphere team whether vCenter's certificate was replaced.",
                )
            dialogs.show_modal(
                dialogs.CertificateChangedDialog(
                    exc.pinned, exc.presented, self, authority=authority
                ),
                lambda _r: None,
            )
        elif isinstance(exc, VsphereError):
            self._show_error(exc.message, exc.next_step)
            # Put the typist back where the mistake is, its text selected, so typing replaces
            # it and Enter tries again (the fields were disabled while connecting: the focus
            # had gone to Back, or to the coach).
            if exc.category is ErrorCategory.LOGIN:
                self.first_focus = self.password_edit
                self.password_edit.setFocus(Qt.FocusReason.OtherFocusReason)
                self.password_edit.selectAll()
            elif exc.category in (ErrorCategory.CONNECTION, ErrorCategory.USAGE):
                self.first_focus = self.endpoint_combo
                self.endpoint_combo.setFocus(Qt.FocusReason.OtherFocusReason)
                line = self.endpoint_combo.lineEdit()
                if line is not None:
                    line.selectAll()
        else:
            _log.warning("connection failed: %s", type(exc).__name__)
            self._show_error(
                f"The connection failed ({type(exc).__name__}).",
                "Check the address and that this computer can reach vCenter, then try again.",
            )

    def _policy_entry(self) -> PolicyVcenter | None:
        if self.ctx.lab_info is not None or self._attempt is None:
            return None
        return self.ctx.settings.policy.vcenter(self._attempt[0])

    def _trust_by_policy(self, info: CertificateInfo) -> bool:
        """Settle an untrusted certificate as the administrator's policy says, without asking.

        Returns:
            True when the policy decided (trusted, or refused with a message); False when it
            says nothing about this vCenter and the technician is asked as usual.
        """
        entry = self._policy_entry()
        if entry is None:
            return False
        if entry.certificate_sha256 is not None:
            if entry.certificate_sha256 == info.sha256.upper():
                _log.info("certificate of %s trusted by the policy", self._attempt)
                self.ctx.gateway.trust_once(info)
                self._connect()
                return True
            if entry.authority_sha256 is None:
                self._refuse_by_policy("certificate", entry.certificate_sha256, info.sha256)
                return True
        if entry.authority_sha256 is not None:
            self._fetch_authority(info)
            return True
        return False

    def _refuse_by_policy(self, what: str, expected: str, presented: str) -> None:
        self._attempt = None
        self._show_error(
            f"vCenter presented a {what} that is not the one your administrator set for it. "
            f"The wizard did not sign in.\nSet by the administrator: SHA-256 {expected}\n"
            f"Presented by vCenter: SHA-256 {presented}",
            "Tell your administrator: the policy file or vCenter's certificate needs updating.",
        )

    def on_certificate_answered(self, result: int, info: CertificateInfo) -> None:
        if result == dialogs.CertificateDialog.TRUST_ONCE:
            self.ctx.gateway.trust_once(info)
        elif result == dialogs.CertificateDialog.ALWAYS_TRUST:
            self.ctx.gateway.pin(info)
        elif result == dialogs.CertificateDialog.TRUST_AUTHORITY:
            self._fetch_authority(info)
            return
        else:
            self._attempt = None
            self._show_error(
                "You did not trust vCenter's certificate, so the wizard did not sign in.",
                "Compare the fingerprint with your vSphere team, then press Next again.",
            )
            return
        self._connect()

    # ---------------------------------------------------------------- the vCenter's authority

    def _fetch_authority(self, info: CertificateInfo) -> None:
        """Fetch the authority that issued ``info`` on the worker (it is a download), then ask."""
        assert self._attempt is not None
        endpoint = self._attempt[0]
        self.busy.start(f"Fetching the certificate authority of {endpoint}…")
        fetch = functools.partial(
            self.ctx.gateway.fetch_authority, timeout=float(self.ctx.settings.call_timeout_s)
        )
        job = self.ctx.worker.submit(fetch, info, description="fetch the certificate authority")
        job.succeeded.connect(self.on_authority_fetched)
        job.failed.connect(self.on_authority_failed)
        job.cancelled.connect(self.on_connect_cancelled)
        self._job = job
        self._set_inputs_enabled(False)
        self.completeChanged.emit()

    @Slot(object)
    def on_authority_fetched(self, found: object) -> None:
        self._done()
        authority = cast("CertificateInfo", found)
        entry = self._policy_entry()
        if entry is not None and entry.authority_sha256 is not None:
            if entry.authority_sha256 == authority.sha256.upper():
                _log.info("certificate authority of %s trusted by the policy", self._attempt)
                self.on_authority_answered(dialogs.AuthorityDialog.TRUST, authority)
            else:
                self._refuse_by_policy(
                    "certificate authority", entry.authority_sha256, authority.sha256
                )
            return
        lab = self.ctx.lab_info
        expected = lab.ca_thumbprint_sha256 if lab is not None else None
        dialog = dialogs.AuthorityDialog(
            authority,
            self,
            expected_sha256=expected or None,
        )

        def answered(result: int) -> None:
            self.on_authority_answered(result, authority)

        dialogs.show_modal(dialog, answered)

    def on_authority_answered(self, result: int, authority: CertificateInfo) -> None:
        if result != dialogs.AuthorityDialog.TRUST:
            self._attempt = None
            self._show_error(
                "You did not trust vCenter's certificate authority, so the wizard did not sign in.",
                "Compare the fingerprints with your vSphere team, then press Next again.",
            )
            return
        self.ctx.gateway.trust_authority(authority)
        self._connect()

    @Slot(object)
    def on_authority_failed(self, exc: object) -> None:
        self._done()
        self._attempt = None
        if isinstance(exc, VsphereError):
            self._show_error(exc.message, exc.next_step)
        else:
            _log.warning("fetching the certificate authority failed: %s", type(exc).__name__)
            self._show_error(
                f"The certificate authority could not be fetched ({type(exc).__name__}).",
                "Press Next to see the certificate again and compare its own fingerprint.",
            )

    @Slot()
    def on_connect_cancelled(self) -> None:
        self._attempt = None
        self._done()
        self.banner.show_message(Tone.INFO, "Connection cancelled", "Nothing was changed.")

    @Slot(object)
    def on_keyring_probed(self, usable: object) -> None:
        if usable is False and self.ctx.lab_info is None:
            self._keyring_unusable(
                f"This computer has no password store set up (no {credentials.store_name()}), "
                "so the password cannot be remembered: you will be asked for it each time.",
                tell=False,
            )

    def keyring_note_text(self) -> str:
        """What the page says about remembering the password (empty when nothing)."""
        return self._keyring_note.text() if not self._keyring_note.isHidden() else ""

    @Slot(object)
    def on_keyring_failed(self, exc: object) -> None:
        text = (
            str(exc)
            if isinstance(exc, credentials.KeyringUnavailable)
            else ("The password could not be remembered on this computer.")
        )
        self._keyring_unusable(text, tell=True)

    def _keyring_unusable(self, text: str, *, tell: bool) -> None:
        self._keyring_ok = False
        self.remember_check.setChecked(False)
        self.remember_check.setEnabled(False)
        self._keyring_note.setText(text)
        self._keyring_note.show()
        if tell and not self.ctx.settings.keyring_warning_shown:
            self.ctx.settings.set_keyring_warning_shown()
            self.ctx.notice.emit(text)

    @Slot(str)
    def on_endpoint_changed(self, _text: str) -> None:
        self.completeChanged.emit()

    @Slot(int)
    def on_endpoint_activated(self, index: int) -> None:
        self._fill_from_recent(index)

    @Slot()
    def on_field_changed(self) -> None:
        self.completeChanged.emit()

    def _fill_from_recent(self, index: int) -> None:
        offered = self.offered()
        if not 0 <= index < len(offered):
            return
        found = [
            r for r in self.ctx.settings.recent() if r.endpoint.lower() == offered[index].lower()
        ]
        if not found:
            return  # an administrator's vCenter not used yet on this computer
        entry = found[0]
        self.user_edit.setText(entry.user)
        self.remember_check.setChecked(entry.remember)
        if entry.remember:
            # The keyring may be slow (or ask the OS): never on the GUI thread, nor on the
            # session's worker, where a connection would queue behind it.
            job = self.ctx.lab_worker.submit(
                credentials.load_password, entry.endpoint, entry.user, description="keyring"
            )
            job.succeeded.connect(self.on_password_loaded)

    @Slot(object)
    def on_password_loaded(self, password: object) -> None:
        if isinstance(password, str) and password and not self.password_edit.text():
            self.password_edit.setText(password)
