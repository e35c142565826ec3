"""Settings: the three time limits, remembered vCenters and pinned certificates.

Nothing changes until OK: "Forget" only marks an entry (it leaves the list), and Cancel drops
every mark. On OK the limits are written to ``gui.json``, forgotten vCenters leave the recent
list, their keyring passwords are deleted off the GUI thread (the keyring may ask the OS), and
forgotten pins leave ``pinned-certificates.json``. No password is read or shown here: whether
one is remembered comes from the settings' ``remember`` flag.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QThreadPool, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from wizard import credentials
from wizard.ui.settings import (
    CALL_TIMEOUT_S,
    EVIDENCE_DAYS,
    SHUTDOWN_TIMEOUT_S,
    GuiSettings,
    Limit,
    RecentVcenter,
)
from wizard.ui.theme import MUTED, Tone, monospace, tint
from wizard.ui.widgets import heading, wrapped
from wizard.vsphere.errors import PinStoreUnreadable

if TYPE_CHECKING:
    from wizard.vsphere.tls import JsonPinStore, PinnedEntry

_log = logging.getLogger(__name__)
ForgetPassword = Callable[[str, str], None]
PIN_STORE_ERRORS = (PinStoreUnreadable, OSError)
"""What reading or writing the pin store may raise (a damaged or unwritable file)."""


LOCKED_NOTE = "Set by your administrator (policy file): it cannot be changed here."


def _background(call: Callable[[], None]) -> None:
    """Run a short local call (the keyring) on Qt's thread pool, not on the GUI thread."""
    QThreadPool.globalInstance().start(call)


def _valid_until(value: datetime | None) -> str:
    if value is None:
        return "(unknown)"
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    day = value.astimezone(UTC).strftime("%Y-%m-%d")
    return f"{day} (expired)" if value < datetime.now(UTC) else day


class SettingsDialog(QDialog):
    """Time limits, remembered vCenters, pinned certificates; saved on OK only.

    Attributes:
        call_timeout_spin: seconds each vCenter request may take.
        evidence_days_spin: days the check looks back for failed vMotions.
        shutdown_timeout_spin: seconds a fix waits for a clean guest shutdown.
        vcenters_tree: recent vCenters with their user and whether a password is remembered.
        forget_vcenter_button: marks the selected vCenters to be forgotten.
        pins_tree: pinned certificates (host:port, SHA-256 fingerprint, valid until).
        forget_pin_button: marks the selected pins to be forgotten.
        pins_note: what forgetting a pin means, or why the pins cannot be read.
    """

    def __init__(
        self,
        settings: GuiSettings,
        parent: QWidget | None = None,
        *,
        pins: JsonPinStore | None = None,
        forget_password: ForgetPassword = credentials.forget_password,
        background: Callable[[Callable[[], None]], None] = _background,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setAccessibleName("Settings")
        self._settings = settings
        if pins is None:
            # The file the gateway's trust policy reads on every connect. Imported here: tls
            # loads the TLS stack, which the first window does without.
            from wizard.vsphere.tls import JsonPinStore

            pins = JsonPinStore()
        self._pins = pins
        self._forget_password = forget_password
        self._background = background
        self._forget_recent: list[RecentVcenter] = []
        self._forget_pins: list[PinnedEntry] = []

        col = QVBoxLayout(self)
        col.setContentsMargins(20, 18, 20, 14)
        col.setSpacing(10)
        col.addWidget(heading("Time limits", self))
        # A grid, not a QFormLayout: that one cuts wrapped notes to their first line.
        form = QGridLayout()
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(4)
        form.setColumnStretch(1, 1)
        self.call_timeout_spin = self._limit_row(
            form,
            "vCenter &request timeout:",
            CALL_TIMEOUT_S,
            settings.call_timeout_s,
            " seconds",
            "How long one request to vCenter may take before the wizard gives up. "
            "Raise it for a slow or distant vCenter. Used from the next connection.",
        )
        self.evidence_days_spin = self._limit_row(
            form,
            "&Look back for failed vMotions:",
            EVIDENCE_DAYS,
            settings.evidence_days,
            " days",
            "How far back the check searches vCenter's events and tasks for the failure. "
            "Used from the next check.",
        )
        self.shutdown_timeout_spin = self._limit_row(
            form,
            "Wait for guest &shutdown:",
            SHUTDOWN_TIMEOUT_S,
            settings.shutdown_timeout_s,
            " seconds",
            "How long a fix (or undo) waits for the guest to shut down through VMware Tools "
            "before it stops and changes nothing. Used from the next fix.",
        )
        col.addLayout(form)

        vcenters_label = heading("Remembered &vCenters", self)
        vcenters_label.setAccessibleName("Remembered vCenters")
        col.addWidget(vcenters_label)
        self.vcenters_tree = self._tree(["vCenter", "User", "Password"], "Remembered vCenters")
        vcenters_label.setBuddy(self.vcenters_tree)
        for r in settings.recent():
            item = QTreeWidgetItem(
                [r.endpoint, r.user, "remembered" if r.remember else "not remembered"]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, r)
            self.vcenters_tree.addTopLevelItem(item)
        col.addWidget(self.vcenters_tree)
        self.forget_vcenter_button = QPushButton("&Forget selected vCenter", self)
        self.forget_vcenter_button.setAccessibleName("Forget the selected vCenter")
        self.forget_vcenter_button.clicked.connect(self.on_forget_vcenter_button_clicked)
        vcenters_note = wrapped(
            "Removes it from the Connect page's list and deletes its saved password from this "
            "computer.",
            self,
        )
        col.addLayout(self._button_row(self.forget_vcenter_button, vcenters_note))

        pins_label = heading("&Pinned certificates and trusted authorities", self)
        pins_label.setAccessibleName("Pinned certificates and trusted authorities")
        col.addWidget(pins_label)
        self.pins_tree = self._tree(
            ["vCenter", "SHA-256 fingerprint", "Valid until"], "Pinned certificates"
        )
        self.pins_tree.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        pins_label.setBuddy(self.pins_tree)
        col.addWidget(self.pins_tree)
        self.forget_pin_button = QPushButton("Forget selected &certificate", self)
        self.forget_pin_button.setAccessibleName("Forget the selected certificate")
        self.forget_pin_button.clicked.connect(self.on_forget_pin_button_clicked)
        self.pins_note = wrapped(
            "The next connection to that vCenter shows the certificate dialog again: compare "
            "the fingerprint before you trust it, or its authority.",
            self,
        )
        col.addLayout(self._button_row(self.forget_pin_button, self.pins_note))
        self._load_pins()

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        col.addWidget(buttons)

        self.vcenters_tree.itemSelectionChanged.connect(self.on_selection_changed)
        self.pins_tree.itemSelectionChanged.connect(self.on_selection_changed)
        self.on_selection_changed()
        self.setMinimumWidth(720)
        # Top-level windows ignore height-for-width: size for the wrapped notes ourselves.
        self.resize(720, self.heightForWidth(720))

    # ---------------------------------------------------------------- building

    def _limit_row(
        self,
        form: QGridLayout,
        title: str,
        limit: Limit,
        value: int,
        unit: str,
        explain: str,
    ) -> QSpinBox:
        spin = QSpinBox(self)
        spin.setRange(limit.minimum, limit.maximum)
        spin.setValue(value)
        spin.setSuffix(unit)
        spin.setAccessibleName(title.replace("&", "").rstrip(":"))
        spin.setAccessibleDescription(explain)
        spin.setToolTip(f"{limit.minimum} to {limit.maximum}{unit}; default {limit.default}.")
        if self._settings.limit_locked(limit):
            spin.setEnabled(False)
            explain = f"{LOCKED_NOTE} {explain}"
            spin.setToolTip(LOCKED_NOTE)
            spin.setAccessibleDescription(explain)
        label = QLabel(title, self)
        label.setBuddy(spin)
        note = wrapped(explain, self)
        tint(note, MUTED)
        note.setContentsMargins(0, 0, 0, 8)
        row = form.rowCount()
        form.addWidget(label, row, 0)
        form.addWidget(spin, row, 1, Qt.AlignmentFlag.AlignLeft)
        form.addWidget(note, row + 1, 1)
        return spin

    def _tree(self, columns: list[str], name: str) -> QTreeWidget:
        tree = QTreeWidget(self)
        tree.setHeaderLabels(columns)
        tree.setAccessibleName(name)
        tree.setRootIsDecorated(False)
        tree.setUniformRowHeights(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        tree.setAlternatingRowColors(True)
        header = tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        rows = 4
        tree.setFixedHeight(
            header.sizeHint().height() + rows * tree.fontMetrics().height() * 3 // 2 + 6
        )
        return tree

    def _button_row(self, button: QPushButton, note: QLabel) -> QHBoxLayout:
        button.setAutoDefault(False)
        tint(note, MUTED)
        row = QHBoxLayout()
        row.setSpacing(12)
        row.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(note, 1)
        return row

    def _load_pins(self) -> None:
        try:
            entries = list(self._pins.entries())
        except PIN_STORE_ERRORS as exc:
            _log.warning("pinned certificates unreadable: %s", exc)
            self.pins_note.setText(f"The pinned certificates cannot be read: {exc}")
            tint(self.pins_note, Tone.BAD.fg)
            self.pins_tree.setEnabled(False)
            return
        for pin in entries:
            where = f"[{pin.host}]:{pin.port}" if ":" in pin.host else f"{pin.host}:{pin.port}"
            if getattr(pin, "kind", "certificate") == "authority":
                where += " (its authority)"
            item = QTreeWidgetItem([where, pin.sha256, _valid_until(pin.not_after)])
            item.setFont(1, monospace())
            item.setToolTip(1, pin.sha256)
            item.setData(0, Qt.ItemDataRole.UserRole, pin)
            self.pins_tree.addTopLevelItem(item)

    # ---------------------------------------------------------------- slots

    @Slot()
    def on_selection_changed(self) -> None:
        self.forget_vcenter_button.setEnabled(bool(self.vcenters_tree.selectedItems()))
        self.forget_pin_button.setEnabled(bool(self.pins_tree.selectedItems()))

    @Slot()
    def on_forget_vcenter_button_clicked(self) -> None:
        for item in self.vcenters_tree.selectedItems():
            self._forget_recent.append(item.data(0, Qt.ItemDataRole.UserRole))
            self.vcenters_tree.takeTopLevelItem(self.vcenters_tree.indexOfTopLevelItem(item))

    @Slot()
    def on_forget_pin_button_clicked(self) -> None:
        for item in self.pins_tree.selectedItems():
            self._forget_pins.append(item.data(0, Qt.ItemDataRole.UserRole))
            self.pins_tree.takeTopLevelItem(self.pins_tree.indexOfTopLevelItem(item))

    # ---------------------------------------------------------------- QDialog

    def accept(self) -> None:
        """Save the limits and forget what was marked; stays open if the pin file fails."""
        try:
            for pin in self._forget_pins:
                self._pins.remove(pin.host, pin.port)
        except PIN_STORE_ERRORS as exc:
            _log.warning("could not forget a pinned certificate: %s", exc)
            self.pins_note.setText(f"The pinned certificates could not be changed: {exc}")
            tint(self.pins_note, Tone.BAD.fg)
            return
        self._settings.set_limits(
            call_timeout_s=self.call_timeout_spin.value(),
            evidence_days=self.evidence_days_spin.value(),
            shutdown_timeout_s=self.shutdown_timeout_spin.value(),
        )
        for r in self._forget_recent:
            self._settings.forget_recent(r.endpoint, r.user)
            _log.info("forgot the vCenter %s for %s", r.endpoint, r.user)
            # Deleted even when not flagged: an entry may outlive the flag that made it.
            self._background(functools.partial(self._forget_password, r.endpoint, r.user))
        super().accept()
