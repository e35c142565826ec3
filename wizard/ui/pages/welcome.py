"""Welcome: what the wizard does, and a choice between a real fix and practice in the lab."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QCommandLinkButton,
    QFormLayout,
    QFrame,
    QVBoxLayout,
    QWidget,
)

from wizard.ui.context import WizardContext
from wizard.ui.look import Tone, icon, scaled_font
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.widgets import Banner, BusyRow, wrapped

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScenarioEntry:
    """A training scenario the technician can pick."""

    path: Path
    title: str
    briefing: str
    ticket: str
    difficulty: str
    id: str = ""


def find_scenarios(extra: Path | None) -> tuple[list[ScenarioEntry], str]:
    """The bundled scenarios (``extra`` first), or an empty list and why there are none."""
    try:
        mod = importlib.import_module("wizard.lab.scenario")
    except ImportError as exc:
        return [], f"The training lab is not part of this build ({exc.name} is missing)."
    folders = [Path(mod.bundled_scenarios_dir())]
    listings = list(mod.list_scenarios(folders))
    if extra is not None:
        try:
            listings.insert(0, mod.ScenarioListing(extra, mod.load_scenario(extra), None))
        except Exception as exc:  # noqa: BLE001 - the scenario's own error says what is wrong
            _log.warning("scenario %s not usable: %s", extra, exc)
    entries: list[ScenarioEntry] = []
    seen: set[str] = set()
    default_id = str(getattr(mod, "DEFAULT_SCENARIO_ID", ""))
    for listing in listings:
        sc = listing.scenario
        if sc is None:
            _log.info("scenario %s skipped: %s", listing.path, listing.error)
            continue
        if sc.id in seen:
            continue
        seen.add(sc.id)
        level = sc.difficulty.label if sc.difficulty is not None else ""
        entries.append(
            ScenarioEntry(
                Path(listing.path), sc.title, sc.briefing, sc.ticket or "", str(level), sc.id
            )
        )
    if extra is None:
        # The default scenario first, then the rest by name.
        entries.sort(key=lambda e: (e.id != default_id, e.title.casefold()))
    if not entries:
        return [], "No training scenarios were found."
    return entries, ""


class WelcomePage(BasePage):
    """First page: what this does; fix a real VM or practise.

    Attributes:
        fix_button: "Fix a VM".
        training_button: "Practise in the training lab".
    """

    help_topic = "welcome"

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setTitle("Fix a vMotion checkpoint failure")
        self.setSubTitle("For VMs whose vMotion fails with “Failed to flush checkpoint data!”")
        layout = self.plain_body()

        intro = wrapped(
            "This wizard checks a VM against the known causes of this vMotion failure and shows "
            "what is behind it in plain words. You then pick one of the fixes, each with its "
            "cost spelled out; the wizard applies it, checks that it worked and writes the "
            "note for your ticket."
        )
        intro.setFont(scaled_font(intro, 1.05))
        layout.addWidget(intro)
        layout.addSpacing(6)

        self.fix_button = QCommandLinkButton(
            "&Fix a VM", "Connect to your vCenter and work on the VM named in your ticket.", self
        )
        self.training_button = QCommandLinkButton(
            "&Practise in the training lab",
            "A practice vCenter on this computer with a prepared case. Nothing real is touched.",
            self,
        )
        self.fix_button.setIcon(icon("app"))
        self.training_button.setIcon(icon(Tone.INFO.icon_name))
        self._group = QButtonGroup(self)
        for b in (self.fix_button, self.training_button):
            b.setCheckable(True)
            b.setAutoDefault(False)
            b.setAccessibleName(b.text().replace("&", ""))
            b.setAccessibleDescription(b.description())
            self._group.addButton(b)
            layout.addWidget(b)
        self.fix_button.setChecked(True)
        self._group.buttonToggled.connect(self.on_group_button_toggled)

        self._training = QFrame(self)
        self._training.setFrameShape(QFrame.Shape.StyledPanel)
        tl = QVBoxLayout(self._training)
        tl.setContentsMargins(14, 12, 14, 12)
        tl.setSpacing(8)
        form = QFormLayout()
        self.scenario_combo = QComboBox(self._training)
        self.scenario_combo.setAccessibleName("Training scenario")
        form.addRow("&Scenario:", self.scenario_combo)
        tl.addLayout(form)
        self._briefing = wrapped(parent=self._training)
        self._ticket = wrapped(parent=self._training, selectable=True)
        self._ticket.setStyleSheet("color: #4f5b67;")
        tl.addWidget(self._briefing)
        tl.addWidget(self._ticket)
        self.busy = BusyRow(self._training, cancellable=False)
        tl.addWidget(self.busy)
        self.banner = Banner(self._training, icon_size=24)
        self.banner.hide()
        tl.addWidget(self.banner)
        layout.addWidget(self._training)
        layout.addStretch(1)
        self._training.hide()

        self._scenarios, why_none = find_scenarios(ctx.training_scenario)
        for entry in self._scenarios:
            label = entry.title + (f"  ({entry.difficulty})" if entry.difficulty else "")
            self.scenario_combo.addItem(label, str(entry.path))
        self.scenario_combo.currentIndexChanged.connect(self.on_scenario_combo_changed)
        if not self._scenarios:
            self.training_button.setEnabled(False)
            self.training_button.setDescription(why_none)
        self._lab_path: Path | None = None
        self._starting = False
        self.setTabOrder(self.fix_button, self.training_button)
        self.setTabOrder(self.training_button, self.scenario_combo)
        self.first_focus = self.fix_button
        if ctx.training_scenario is not None and self._scenarios:
            self.training_button.setChecked(True)
            self.first_focus = self.training_button

    # ---------------------------------------------------------------- state

    @property
    def training(self) -> bool:
        return self.training_button.isChecked()

    def isComplete(self) -> bool:
        if not self.training:
            return True
        return self.ctx.lab_info is not None and not self._starting

    def nextId(self) -> int:
        return int(PageId.CONNECT)

    def _entry(self) -> ScenarioEntry | None:
        i = self.scenario_combo.currentIndex()
        return self._scenarios[i] if 0 <= i < len(self._scenarios) else None

    def _show_entry(self) -> None:
        entry = self._entry()
        if entry is None:
            return
        self._briefing.setText(entry.briefing)
        self._ticket.setText(f"Ticket: {entry.ticket}" if entry.ticket else "")
        self._ticket.setVisible(bool(entry.ticket))

    def _ensure_lab(self) -> None:
        entry = self._entry()
        if entry is None or self._lab_path == entry.path:
            return  # already running or starting for this scenario
        self._lab_path = entry.path
        self._starting = True
        self.banner.hide()
        self.busy.start("Starting the training lab… (the first start can take a minute)")
        job = self.ctx.start_lab(entry.path, entry.title)
        job.succeeded.connect(self.on_lab_succeeded)
        job.failed.connect(self.on_lab_failed)
        self.completeChanged.emit()

    # ---------------------------------------------------------------- slots

    @Slot(QAbstractButton, bool)
    def on_group_button_toggled(self, _button: QAbstractButton, checked: bool) -> None:
        if not checked:
            return  # the other button's toggle follows
        self._training.setVisible(self.training)
        if self.training:
            self._show_entry()
            self._ensure_lab()
        self.completeChanged.emit()

    @Slot(int)
    def on_scenario_combo_changed(self, _index: int) -> None:
        self._show_entry()
        if self.training:
            self._ensure_lab()

    @Slot(object)
    def on_lab_succeeded(self, _handle: object) -> None:
        self._starting = False
        self.busy.stop()
        info = self.ctx.lab_info
        where = f"{info.host}:{info.port}" if info is not None else ""
        self.banner.show_message(
            Tone.GOOD, "The training lab is running", f"It answers at {where}."
        )
        self.completeChanged.emit()

    @Slot(object)
    def on_lab_failed(self, exc: object) -> None:
        self._starting = False
        self._lab_path = None
        self.busy.stop()
        self.banner.show_message(
            Tone.BAD,
            "The training lab did not start",
            str(exc),
            "Pick the scenario again to retry, or choose “Fix a VM”.",
        )
        self.completeChanged.emit()
