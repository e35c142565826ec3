"""Choose fix: the four workarounds as cards, the recommended one first and preselected."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QButtonGroup,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wizard.kb.facts import PowerState, VmFacts
from wizard.kb.model import (
    RISK_BADGES,
    Caveat,
    CaveatId,
    ChangeTarget,
    Remedy,
    RemedyId,
    Verdict,
)
from wizard.ui.gateway import Variant
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import MUTED, Tone, monospace, scaled_font, tint
from wizard.ui.ticket import change_line
from wizard.ui.widgets import (
    Badge,
    Banner,
    Collapsible,
    IconLabel,
    Look,
    Panel,
    empty_layout,
    shown_at_once,
    wrapped,
)
from wizard.ui.wizard_state import WizardContext

if TYPE_CHECKING:
    from wizard.vsphere.results import GuestCredentials

_log = logging.getLogger(__name__)
MIB = 1024 * 1024

CAVEAT_TITLES: dict[CaveatId, str] = {
    CaveatId.POWER_OFF_REQUIRED: "VM must be powered off",
    CaveatId.USER_LOSES_RESOLUTION: "User loses resolution",
    CaveatId.NOT_DURABLE: "Not durable",
    CaveatId.ESTIMATE_BEYOND_ARTICLE: "Our estimate",
    CaveatId.OVERHEAD_256MB: "256 MB more overhead",
    CaveatId.HA_ADMISSION_CONTROL: "HA admission control",
    CaveatId.CPU_WITHOUT_SSE41: "Hosts without SSE4.1",
    CaveatId.RESOLUTION_ABOVE_3D_MAX: "Above the 3D limit",
    CaveatId.DOWNGRADE_NOT_IN_PLACE: "No downgrade in place",
    CaveatId.TOOLS_NEEDED: "Needs VMware Tools",
}


def selectable(remedy: Remedy) -> bool:
    """Whether this remedy can be chosen: it is available for this VM. Without its privileges
    it is chosen as a change request (Ready and Done hand it on instead of applying it)."""
    return remedy.available


def order(remedies: tuple[Remedy, ...]) -> list[Remedy]:
    """Recommended first, then the available ones, then the rest (stable otherwise)."""
    return sorted(remedies, key=lambda r: (not r.recommended, not selectable(r)))


def risk_badges(remedy: Remedy) -> list[str]:
    """The risks this fix carries for this VM, as short badge words (caveats that apply)."""
    return [RISK_BADGES[c.id] for c in remedy.caveats if c.applies and c.id in RISK_BADGES]


def power_badge(remedy: Remedy, facts: VmFacts | None) -> str:
    """Needs power-off, or a hard power-off when the VM cannot be shut down cleanly."""
    hard = facts is not None and (
        facts.power_state == PowerState.SUSPENDED
        or (facts.power_state == PowerState.ON and not facts.tools_running)
    )
    return "Needs a hard power-off" if hard else "Needs power-off"


class RemedyCard(Panel):
    """One workaround: choose it, see its cost, its caveats for this VM, and its options.

    Signals:
        optionsChanged(): an option on the card changed (buffer size, variant).
        loginChanged(): the guest user or password was edited.

    Attributes:
        radio: the choice.
        remedy: the remedy as last judged.
        guest_box: the guest login, shown while the fix runs a tool in the guest.
        guest_user_edit: the guest user.
        guest_password_edit: the guest password (masked; kept in memory only).
    """

    optionsChanged = Signal()
    loginChanged = Signal()

    def __init__(
        self, remedy: Remedy, parent: QWidget | None = None, *, facts: VmFacts | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("remedyCard")
        self.remedy = remedy
        self.facts = facts
        self.radio = QRadioButton(remedy.title, self)
        self.radio.setFont(scaled_font(self.radio, 1.1, bold=True))
        self.radio.setAccessibleName(remedy.title)
        self._badges = QHBoxLayout()
        self._badges.setSpacing(6)
        # The badges stand on their own line: beside a long title they would make the card
        # wider than a small screen (1024x600 with the step list and the coach) leaves it.
        head = QVBoxLayout()
        head.setSpacing(4)
        title_row = QHBoxLayout()
        title_row.addWidget(self.radio)
        title_row.addStretch(1)  # the radio as wide as its title, where a click takes it
        head.addLayout(title_row)
        badge_row = QHBoxLayout()
        badge_row.setContentsMargins(26, 0, 0, 0)
        badge_row.addLayout(self._badges)
        badge_row.addStretch(1)
        head.addLayout(badge_row)

        self._summary = wrapped(parent=self)
        self._reason = wrapped(parent=self)
        self._privileges = wrapped(parent=self)
        tint(self._privileges, Tone.BAD.fg)
        self._changes = wrapped(parent=self, selectable=True)
        self._changes.setFont(monospace())
        self._manual = wrapped(parent=self, selectable=True)
        self._options = QWidget(self)
        self._ol = QVBoxLayout(self._options)
        self._ol.setContentsMargins(0, 4, 0, 0)
        self._options.hide()
        self._has_details = False
        self._build_guest_login()
        self._caveat_box = QWidget(self)
        self._cl = QVBoxLayout(self._caveat_box)
        self._cl.setContentsMargins(22, 0, 0, 0)
        self._cl.setSpacing(4)
        self.caveats = Collapsible("Caveats", self._caveat_box, self)
        # The exact settings (property names, byte values) and the by-hand way: on demand.
        self._details_box = QWidget(self)
        dl = QVBoxLayout(self._details_box)
        dl.setContentsMargins(22, 0, 0, 0)
        dl.setSpacing(4)
        dl.addWidget(self._changes)
        dl.addWidget(self._manual)
        self.details = Collapsible("Details: the exact settings", self._details_box, self)

        col = QVBoxLayout(self)
        col.setContentsMargins(14, 10, 14, 10)
        col.setSpacing(5)
        col.addLayout(head)
        inner = QVBoxLayout()
        inner.setContentsMargins(26, 0, 0, 0)
        inner.setSpacing(5)
        for w in (
            self._summary,
            self._reason,
            self._privileges,
            self._options,
            self.guest_box,
            self.caveats,
            self.details,
        ):
            inner.addWidget(w)
        col.addLayout(inner)
        self.buffer_spin: QSpinBox | None = None
        self.buffer_note: QLabel | None = None
        self.variant_cap: QRadioButton | None = None
        self.variant_guest: QRadioButton | None = None
        self._min_buffer = 0
        self.radio.toggled.connect(self.on_radio_toggled)
        self.set_remedy(remedy)

    # ---------------------------------------------------------------- content

    def set_remedy(self, remedy: Remedy) -> None:
        """Show the remedy as judged now (options keep their widgets and focus)."""
        self.remedy = remedy
        empty_layout(self._badges)
        badges: list[tuple[str, Tone]] = []
        # Unavailable only in the way chosen on the card (e.g. in the guest while Tools are
        # off): the card stays choosable, says so, and points at the other way.
        this_way = (
            not remedy.available and self.variant_guest is not None and self.variant == "guest"
        )
        if remedy.recommended:
            badges.append(("Recommended", Tone.GOOD))
        if this_way:
            badges.append(("Not possible this way", Tone.WARN))
        elif not remedy.available:
            badges.append(("Not available", Tone.UNKNOWN))
        if remedy.needs_power_off:
            badges.append((power_badge(remedy, self.facts), Tone.WARN))
        if remedy.missing_privileges:
            badges.append(("Missing privileges", Tone.BAD))
        badges += [(text, Tone.BAD) for text in risk_badges(remedy)]
        for text, tone in badges:
            self._badges.addWidget(shown_at_once(Badge(text, tone, self)))
        self._summary.setText(remedy.summary)
        if remedy.available:
            self._reason.setText(remedy.reason)
        elif this_way:
            self._reason.setText(
                f"Not possible in the guest for this VM: {remedy.why_not or remedy.reason} "
                "Choose “Cap the video card” below instead."
            )
        else:
            self._reason.setText(f"Not available: {remedy.why_not or remedy.reason}")
        tint(self._reason, None if remedy.recommended else MUTED, bold=remedy.recommended)
        if remedy.missing_privileges:
            self._privileges.setText(
                "You lack "
                + ", ".join(remedy.missing_privileges)
                + " on this VM, so you cannot apply it yourself: choose it to prepare a change "
                "request (the planned change, the missing privileges and the commands) for "
                "someone who may."
            )
        self._privileges.setVisible(bool(remedy.missing_privileges))
        lines = [change_line(c) for c in remedy.changes]
        self._changes.setText("\n".join(lines))
        self._changes.setVisible(bool(lines) and remedy.available)
        self._manual.setText("\n".join(f"By hand: {m}" for m in remedy.manual_steps))
        self._manual.setVisible(bool(remedy.manual_steps))
        self._has_details = (bool(lines) and remedy.available) or bool(remedy.manual_steps)
        self._fill_caveats(remedy.caveats)
        self.radio.setEnabled(selectable(remedy) or this_way)
        self.setAccessibleName(
            f"{remedy.title}: " + ", ".join(t for t, _ in badges) if badges else remedy.title
        )
        self._restyle()

    def _fill_caveats(self, caveats: tuple[Caveat, ...]) -> None:
        empty_layout(self._cl)
        applies = [c for c in caveats if c.applies]
        rest = [c for c in caveats if not c.applies]
        for c in applies + rest:
            row = QWidget(self._caveat_box)
            rl = QHBoxLayout(row)
            rl.setContentsMargins(0, 0, 0, 0)
            rl.setSpacing(8)
            tone = Tone.WARN if c.applies else Tone.GOOD
            rl.addWidget(IconLabel(tone.icon_name, 16, row), 0, Qt.AlignmentFlag.AlignTop)
            word = "Applies" if c.applies else "Does not apply"
            title = CAVEAT_TITLES.get(c.id, c.id.value)
            text = wrapped(f"{title} — {word}: {c.detail}", row, selectable=True)
            rl.addWidget(text, 1)
            row.setAccessibleName(f"{title}: {word}")
            self._cl.addWidget(shown_at_once(row))
        self.caveats.set_title(
            f"Caveats for this VM: {len(applies)} apply, {len(rest)} do not"
            if caveats
            else "No caveats"
        )
        self.caveats.toggle.setEnabled(bool(caveats))

    # ---------------------------------------------------------------- guest login

    def _build_guest_login(self) -> None:
        """User and password for running the resolution tool in the guest (hidden until needed)."""
        self.guest_box = Panel(self, Look(border="#c5ccd4", radius=4))
        self.guest_box.setObjectName("guestLogin")
        head = wrapped(
            "Guest login: the tool runs inside the guest as this user, who must be logged on "
            "to its desktop. The password is used for this run only and never saved.",
            self.guest_box,
        )
        self.guest_user_edit = QLineEdit(self.guest_box)
        self.guest_user_edit.setAccessibleName("Guest user")
        self.guest_user_edit.setPlaceholderText(r"DOMAIN\user  or  .\localuser")
        self.guest_password_edit = QLineEdit(self.guest_box)
        self.guest_password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.guest_password_edit.setAccessibleName("Guest password")
        user_label = QLabel("Guest &user:", self.guest_box)
        user_label.setBuddy(self.guest_user_edit)
        password_label = QLabel("Guest pass&word:", self.guest_box)
        password_label.setBuddy(self.guest_password_edit)
        width = self.guest_user_edit.fontMetrics().horizontalAdvance("x") * 36
        for edit in (self.guest_user_edit, self.guest_password_edit):
            edit.setMaximumWidth(width)
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        form.setVerticalSpacing(6)
        form.addRow(user_label, self.guest_user_edit)
        form.addRow(password_label, self.guest_password_edit)
        col = QVBoxLayout(self.guest_box)
        col.setContentsMargins(10, 8, 10, 8)
        col.setSpacing(6)
        col.addWidget(head)
        col.addLayout(form)
        self.guest_box.hide()
        self.guest_user_edit.textChanged.connect(self.on_guest_login_edited)
        self.guest_password_edit.textChanged.connect(self.on_guest_login_edited)

    @property
    def needs_guest_login(self) -> bool:
        """Whether this fix, as judged now, runs a tool in the guest (and so needs a login)."""
        r = self.remedy
        return r.available and any(c.target is ChangeTarget.GUEST for c in r.changes)

    def guest_login(self) -> GuestCredentials | None:
        """The login as typed, or None while the user or the password is missing."""
        user = self.guest_user_edit.text().strip()
        password = self.guest_password_edit.text()
        if not (user and password):
            return None
        # Imported here: the executor's module loads pyVmomi, which the first window does without.
        from wizard.vsphere.results import GuestCredentials

        return GuestCredentials(user, password)

    def clear_guest_login(self) -> None:
        self.guest_password_edit.clear()
        self.guest_user_edit.clear()

    def ready(self) -> bool:
        """Whether this card, if chosen, has everything it needs to go on."""
        return self.options_valid() and (
            not self.needs_guest_login or self.guest_login() is not None
        )

    @Slot()
    def on_guest_login_edited(self) -> None:
        self.loginChanged.emit()

    # ---------------------------------------------------------------- options

    def add_buffer_option(self, current_bytes: int, minimum_bytes: int) -> None:
        """The checkpoint buffer size in MiB, never below what the displays need."""
        self._min_buffer = minimum_bytes
        spin = QSpinBox(self._options)
        spin.setRange(8, 1024)
        spin.setSuffix(" MB")
        spin.setAccessibleName("Checkpoint buffer size in MB")
        spin.setValue(max(8, -(-current_bytes // MIB)))
        label = QLabel("Buffer si&ze:", self._options)
        label.setBuddy(spin)
        self.buffer_note = wrapped(parent=self._options)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(spin)
        row.addWidget(self.buffer_note, 1)
        self._ol.addLayout(row)
        self._show_chosen_parts()
        self.buffer_spin = spin
        self._update_buffer_note()
        spin.valueChanged.connect(self.on_buffer_spin_changed)

    def add_variant_option(self, variant: str) -> None:
        """Cap the video card (durable) or set the resolution in the guest (immediate)."""
        self.variant_cap = QRadioButton(
            "Cap the video card: durable, needs the VM off", self._options
        )
        self.variant_guest = QRadioButton(
            "Set it in the guest now: no power-off, but the user can raise it again",
            self._options,
        )
        group = QButtonGroup(self._options)
        for b in (self.variant_cap, self.variant_guest):
            b.setAccessibleName(b.text())
            group.addButton(b)
            self._ol.addWidget(b)
        (self.variant_guest if variant == "guest" else self.variant_cap).setChecked(True)
        self.variant_cap.toggled.connect(self.on_variant_toggled)
        self._show_chosen_parts()

    @property
    def buffer_bytes(self) -> int | None:
        return self.buffer_spin.value() * MIB if self.buffer_spin is not None else None

    @property
    def variant(self) -> Variant:
        return (
            "guest" if self.variant_guest is not None and self.variant_guest.isChecked() else "cap"
        )

    def options_valid(self) -> bool:
        b = self.buffer_bytes
        return b is None or b >= self._min_buffer

    def _update_buffer_note(self) -> None:
        if self.buffer_note is None or self.buffer_spin is None:
            return
        b = self.buffer_spin.value() * MIB
        if b < self._min_buffer:
            need = -(-self._min_buffer // MIB)
            self.buffer_note.setText(f"Too small: this VM's displays need at least {need} MB.")
            tint(self.buffer_note, Tone.BAD.fg, bold=True)
        else:
            self.buffer_note.setText(f"= {b:,} bytes".replace(",", " "))
            tint(self.buffer_note, MUTED, bold=False)

    @Slot(int)
    def on_buffer_spin_changed(self, _value: int) -> None:
        self._update_buffer_note()
        self.optionsChanged.emit()

    @Slot(bool)
    def on_variant_toggled(self, _checked: bool) -> None:
        self.optionsChanged.emit()

    @Slot(bool)
    def on_radio_toggled(self, _checked: bool) -> None:
        self._restyle()

    def _show_chosen_parts(self) -> None:
        """A card not chosen is its title, badges and summary: the page stays short enough to
        compare the four at a glance; the chosen one opens its options, caveats and details."""
        chosen = self.radio.isChecked()
        self._options.setVisible(chosen and self._ol.count() > 0)
        self.guest_box.setVisible(chosen and self.needs_guest_login)
        self.caveats.setVisible(chosen and bool(self.remedy.caveats))
        self.details.setVisible(chosen and self._has_details)

    def _restyle(self) -> None:
        self._show_chosen_parts()
        if self.radio.isChecked():
            self.set_look(Look(border="#1f6fb2", fill="#f3f8fd", width=2))
        elif not selectable(self.remedy):
            self.set_look(Look(border="#d5dae0", fill="#f7f8fa"))
        else:
            self.set_look(Look(border="#c5ccd4", fill=QPalette.ColorRole.Base))


class ChooseFixPage(BasePage):
    """Pick a workaround knowing its cost.

    Attributes:
        cards: one per remedy, in display order.
        intro: what the page recommends, in one line.
    """

    page_id = PageId.CHOOSE_FIX

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self._layout = self.scroll_body()
        self.intro = Banner(self, icon_size=24)
        self._layout.addWidget(self.intro)
        self._cards_box = QWidget(self)
        self._cards = QVBoxLayout(self._cards_box)
        self._cards.setContentsMargins(0, 0, 0, 0)
        self._cards.setSpacing(10)
        self._layout.addWidget(self._cards_box)
        self._layout.addStretch(1)
        self.cards: list[RemedyCard] = []
        self._group = QButtonGroup(self)
        self._group.buttonToggled.connect(self.on_group_toggled)
        self._built_for: object = None
        ctx.guestLoginForgotten.connect(self.on_ctx_guest_login_forgotten)

    # ---------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        check = self.ctx.check
        assert check is not None
        if self._built_for is check:
            return
        self._built_for = check
        self._build(check.remedies)

    def isComplete(self) -> bool:
        card = self.selected_card()
        return card is None or (selectable(card.remedy) and card.ready())

    def validatePage(self) -> bool:
        card = self.selected_card()
        self.ctx.remedy = card.remedy if card is not None else None
        self.ctx.guest_login = (
            card.guest_login() if card is not None and card.needs_guest_login else None
        )
        return True

    def nextId(self) -> int:
        return int(PageId.READY if self.selected_card() is not None else PageId.DONE)

    # ---------------------------------------------------------------- cards

    def selected_card(self) -> RemedyCard | None:
        for c in self.cards:
            if c.radio.isChecked():
                return c
        return None

    def _build(self, remedies: tuple[Remedy, ...]) -> None:
        for c in self.cards:
            self._group.removeButton(c.radio)
            c.deleteLater()
        self.cards = []
        check = self.ctx.check
        assert check is not None
        a = check.assessment
        preselect: RemedyCard | None = None
        previous: QWidget = self
        for remedy in order(remedies):
            card = RemedyCard(remedy, self._cards_box, facts=check.facts)
            if remedy.id == RemedyId.RAISE_BUFFER and remedy.available:
                after = next((c.after for c in remedy.changes if c.after), None)
                current = int(after) if after and after.isdigit() else 16 * MIB
                card.add_buffer_option(current, a.required_cpt_cache_bytes or 0)
            if remedy.id == RemedyId.LOWER_RESOLUTION and remedy.available:
                card.add_variant_option(remedy.variant or "cap")
            card.optionsChanged.connect(self.on_card_options_changed)
            card.loginChanged.connect(self.on_card_login_changed)
            self._group.addButton(card.radio)
            self._cards.addWidget(card)
            self.cards.append(card)
            if remedy.recommended and selectable(remedy) and preselect is None:
                preselect = card
            QWidget.setTabOrder(previous, card.radio)
            previous = card.radio
        if preselect is not None:
            preselect.radio.setChecked(True)
            preselect.caveats.set_expanded(True)
            self.first_focus = preselect.radio
        elif self.cards:
            self.first_focus = self.cards[0].radio
        self._update_intro()
        self.completeChanged.emit()

    def _update_intro(self) -> None:
        check = self.ctx.check
        assert check is not None
        verdict = check.assessment.verdict
        rec = next((c.remedy for c in self.cards if c.remedy.recommended), None)
        if verdict in (Verdict.MITIGATED, Verdict.NOT_AFFECTED):
            self.intro.show_message(
                Tone.GOOD,
                "No change is needed",
                "This VM does not need a fix for this failure. Press Next to finish with a "
                "ticket note, or choose a fix anyway.",
            )
        elif rec is not None and selectable(rec):
            self.intro.show_message(
                Tone.INFO,
                f"Recommended for this VM: {rec.title}",
                "It is preselected below, with its caveats for this VM opened.",
            )
        elif rec is not None:
            self.intro.show_message(
                Tone.WARN,
                f"Recommended: {rec.title}, but you cannot apply it",
                rec.why_not or "You lack a privilege it needs; see its card.",
            )
        else:
            self.intro.show_message(
                Tone.WARN,
                "No fix can be applied from here",
                "See each card for why. Press Next to finish with a ticket note.",
            )

    @Slot()
    def on_group_toggled(self) -> None:
        self.completeChanged.emit()

    @Slot()
    def on_card_login_changed(self) -> None:
        self.completeChanged.emit()

    @Slot()
    def on_ctx_guest_login_forgotten(self) -> None:
        for c in self.cards:
            c.clear_guest_login()

    @Slot()
    def on_card_options_changed(self) -> None:
        """Judge the remedies again with the new options (pure, on this thread)."""
        check = self.ctx.check
        assert check is not None
        buffer_bytes: int | None = None
        variant: Variant | None = None  # None: the rules choose
        for c in self.cards:
            if c.buffer_bytes is not None:
                buffer_bytes = c.buffer_bytes if c.options_valid() else None
            if c.variant_cap is not None:
                variant = c.variant  # the technician's choice wins
        judged = self.ctx.gateway.remedies(
            check.assessment,
            check.facts,
            buffer_bytes=buffer_bytes,
            lower_resolution_variant=variant,
        )
        fresh = {r.id: r for r in judged}
        for c in self.cards:
            if c.remedy.id in fresh:
                c.set_remedy(fresh[c.remedy.id])
        self.completeChanged.emit()
