"""The scenario picker: bundled scenarios and the trainer's own, with a details pane.

A trainer adds a scenario by dropping a ``.json`` file into the trainer folder
(``wizard.paths.data_dir() / "scenarios"``); "Open scenarios folder" opens it. A file that is not
a valid scenario is listed with the reason (the loader names the field), greyed out: it never
stops the picker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from wizard import paths
from wizard.ui.look import Tone, icon, scaled_font
from wizard.ui.widgets import wrapped

if TYPE_CHECKING:
    from wizard.lab.scenario import Scenario

_log = logging.getLogger(__name__)

TRAINER_FOLDER = "scenarios"


def trainer_folder() -> Path:
    """Where a trainer drops scenarios of their own (created on first use)."""
    folder = paths.data_dir() / TRAINER_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass(frozen=True)
class ScenarioEntry:
    """A scenario the trainee can pick, or a file that cannot be used and why.

    Attributes:
        error: why the file cannot be used (None for a usable scenario).
        bundled: shipped with the product (else the trainer's own, or given on the command line).
        role: the lab account's role in words.
    """

    path: Path
    id: str
    title: str
    briefing: str
    ticket: str
    difficulty: str
    teaches: tuple[str, ...] = ()
    role: str = ""
    role_description: str = ""
    vm: str = ""
    bundled: bool = True
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def find_scenarios(extra: Path | None) -> tuple[list[ScenarioEntry], str]:
    """The usable scenarios (``extra`` first, then the default, then by title) and the unusable
    files after them; or an empty list and why there are none.

    Never raises: a broken file becomes an entry with its ``error``.
    """
    # Imported here: reading the scenarios waits until training is chosen.
    from wizard.lab.scenario import (
        DEFAULT_SCENARIO_ID,
        ScenarioError,
        ScenarioListing,
        bundled_scenarios_dir,
        list_scenarios,
        load_scenario,
    )

    bundled_dir = bundled_scenarios_dir()
    try:
        folders = [bundled_dir, trainer_folder()]
    except OSError as exc:
        _log.warning("the trainer's scenario folder is not usable: %s", exc)
        folders = [bundled_dir]
    listings = list(list_scenarios(folders))
    first: ScenarioEntry | None = None
    if extra is not None:
        try:
            bundled = extra.resolve().parent == bundled_dir.resolve()
            first = _entry(extra, load_scenario(extra), bundled=bundled)
        except ScenarioError as exc:
            listings.append(ScenarioListing(extra, None, str(exc)))
    good: list[ScenarioEntry] = []
    bad: list[ScenarioEntry] = []
    for listing in listings:
        path = Path(listing.path)
        if listing.scenario is None:
            bad.append(
                ScenarioEntry(
                    path,
                    path.stem,
                    path.name,
                    "",
                    "",
                    "",
                    bundled=path.parent == bundled_dir,
                    error=str(listing.error or "not a scenario"),
                )
            )
            continue
        entry = _entry(path, listing.scenario, bundled=path.parent == bundled_dir)
        if first is not None and entry.id == first.id:
            continue
        good.append(entry)
    good.sort(key=lambda e: (e.id != DEFAULT_SCENARIO_ID, not e.bundled, e.title.casefold()))
    if first is not None:
        good.insert(0, first)
    if not good:
        return bad, "No training scenarios were found."
    return good + bad, ""


def _entry(path: Path, sc: Scenario, *, bundled: bool) -> ScenarioEntry:
    role = sc.login_role
    return ScenarioEntry(
        path=path,
        id=sc.id,
        title=sc.title,
        briefing=sc.briefing,
        ticket=sc.ticket or "",
        difficulty=sc.difficulty.label if sc.difficulty is not None else "",
        teaches=sc.teaches,
        role=role.label,
        role_description=role.description,
        vm=sc.vm_of_interest or "",
        bundled=bundled,
    )


def open_folder(path: Path) -> bool:
    """Open a folder in the file manager (patchable in tests)."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class ScenarioPicker(QWidget):
    """A list of scenarios beside the chosen one's details.

    Signals:
        currentChanged(object): the usable :class:`ScenarioEntry` now chosen (None: none).

    Attributes:
        list: the scenarios; unusable files are listed last, greyed out, with the reason.
        open_folder_button: "Open scenarios folder".
        refresh_button: reads both folders again.
    """

    currentChanged = Signal(object)

    def __init__(
        self,
        extra: Path | None,
        parent: QWidget | None = None,
        *,
        opener: Callable[[Path], bool] = open_folder,
    ) -> None:
        super().__init__(parent)
        self._extra = extra
        self._opener = opener
        self.entries: list[ScenarioEntry] = []
        self.why_none = ""
        self.list = QListWidget(self)
        self.list.setAccessibleName("Training scenarios")
        self.list.setIconSize(QSize(16, 16))
        self.list.setUniformItemSizes(True)
        self.list.setMinimumWidth(self.fontMetrics().averageCharWidth() * 34)
        self.list.currentRowChanged.connect(self.on_list_current_row_changed)

        self._title = QLabel(self)
        self._title.setWordWrap(True)
        self._title.setFont(scaled_font(self._title, 1.1, bold=True))
        self._meta = wrapped(parent=self)
        self._meta.setStyleSheet("color: #4f5b67;")
        self._briefing = wrapped(parent=self)
        self._ticket = wrapped(parent=self, selectable=True)
        self._ticket.setObjectName("ticket")
        self._ticket.setStyleSheet(
            "QLabel#ticket { background: palette(base); border: 1px solid palette(mid);"
            " border-radius: 4px; padding: 6px; }"
        )
        self._teaches = wrapped(parent=self)
        details = QVBoxLayout()
        details.setSpacing(6)
        for w in (self._title, self._meta, self._briefing, self._ticket, self._teaches):
            details.addWidget(w)
        details.addStretch(1)

        self.open_folder_button = QPushButton("Open scenarios &folder", self)
        self.open_folder_button.setAccessibleName("Open scenarios folder")
        self.open_folder_button.setToolTip(
            "Drop a scenario file (.json) into this folder, then press Refresh."
        )
        self.open_folder_button.setAutoDefault(False)
        self.open_folder_button.clicked.connect(self.on_open_folder_button_clicked)
        self.refresh_button = QPushButton("&Refresh", self)
        self.refresh_button.setAccessibleName("Refresh the scenario list")
        self.refresh_button.setAutoDefault(False)
        self.refresh_button.clicked.connect(self.on_refresh_button_clicked)

        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(14)
        row.addLayout(left, 2)
        row.addLayout(details, 3)
        self.reload()

    # ---------------------------------------------------------------- content

    def reload(self) -> None:
        """Read both folders again, keeping the current choice when it is still there."""
        keep = self.current()
        self.entries, self.why_none = find_scenarios(self._extra)
        self.list.blockSignals(True)
        self.list.clear()
        for entry in self.entries:
            self.list.addItem(self._item(entry))
        self.list.blockSignals(False)
        row = 0
        if keep is not None:
            row = next((i for i, e in enumerate(self.entries) if e.path == keep.path), 0)
        if self.entries and self.entries[row].ok:
            self.list.setCurrentRow(row)
        self._show(self.current())

    def _item(self, entry: ScenarioEntry) -> QListWidgetItem:
        if entry.ok:
            text = entry.title + (f"  ·  {entry.difficulty}" if entry.difficulty else "")
            item = QListWidgetItem(icon(Tone.INFO.icon_name), text)
            if not entry.bundled:
                item.setToolTip(f"Your own scenario: {entry.path}")
        else:
            item = QListWidgetItem(icon(Tone.WARN.icon_name), f"{entry.path.name}: not usable")
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setToolTip(entry.error or "")
        item.setData(Qt.ItemDataRole.AccessibleTextRole, text_of(entry))
        return item

    def current(self) -> ScenarioEntry | None:
        """The usable scenario chosen (None when none is)."""
        row = self.list.currentRow()
        if 0 <= row < len(self.entries) and self.entries[row].ok:
            return self.entries[row]
        return None

    def select_path(self, path: Path) -> bool:
        """Choose the scenario from this file; False when it is not listed."""
        for i, e in enumerate(self.entries):
            if e.ok and e.path == path:
                self.list.setCurrentRow(i)
                return True
        return False

    def _show(self, entry: ScenarioEntry | None) -> None:
        if entry is None:
            self._title.setText("No scenario chosen" if not self.why_none else self.why_none)
            for w in (self._meta, self._briefing, self._ticket, self._teaches):
                w.hide()
            return
        self._title.setText(entry.title)
        meta = [m for m in (entry.difficulty, f"signed in as {entry.role.lower()}") if m]
        if not entry.bundled:
            meta.append("your own scenario")
        self._meta.setText("  ·  ".join(meta))
        self._meta.show()
        self._briefing.setText(entry.briefing)
        self._briefing.show()
        self._ticket.setText(f"Ticket: {entry.ticket}" if entry.ticket else "")
        self._ticket.setVisible(bool(entry.ticket))
        self._teaches.setText(
            "You will practise:\n" + "\n".join(f"\u2022 {t}" for t in entry.teaches)
            if entry.teaches
            else ""
        )
        self._teaches.setVisible(bool(entry.teaches))

    # ---------------------------------------------------------------- slots

    @Slot(int)
    def on_list_current_row_changed(self, row: int) -> None:
        entry = self.current()
        if entry is None and 0 <= row < len(self.entries):
            bad = self.entries[row]
            self._title.setText(f"{bad.path.name} cannot be used")
            self._briefing.setText(bad.error or "")
            self._briefing.show()
            for w in (self._meta, self._ticket, self._teaches):
                w.hide()
        else:
            self._show(entry)
        self.currentChanged.emit(entry)

    @Slot()
    def on_open_folder_button_clicked(self) -> None:
        folder = trainer_folder()
        if not self._opener(folder):
            self._title.setText(f"Scenario folder: {folder}")

    @Slot()
    def on_refresh_button_clicked(self) -> None:
        before = self.current()
        self.reload()
        if self.current() != before:
            self.currentChanged.emit(self.current())


def text_of(entry: ScenarioEntry) -> str:
    """The entry in words for a screen reader."""
    if entry.ok:
        return f"{entry.title}, {entry.difficulty or 'no level'}"
    return f"{entry.path.name}: not usable. {entry.error}"
