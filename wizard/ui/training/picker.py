"""The scenario picker: bundled scenarios and the trainer's own, with a details pane.

A trainer adds a scenario by dropping a ``.json`` file into the trainer folder
(``wizard.paths.data_dir() / "scenarios"``); "Open scenarios folder" opens it. A file that is not
a valid scenario is listed with the reason (the loader names the field), greyed out: it never
stops the picker.

"A new case…" asks for a level and a seed (a random one is offered, and shown, so a trainer can
hand the same case to a class) and generates the case (:mod:`wizard.lab.generate`). It is
written to the trainer folder, where it stays listed like any scenario of the trainer's, and
chosen. The same seed and level give the same file, so asking again only finds it there; a file
of that name that someone edited is never overwritten: the new case then goes to a temporary
folder and is listed first, as a scenario given on the command line is.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from wizard import paths
from wizard.ui.theme import MUTED, Tone, icon, scaled_font, tint
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


LEVELS = (("beginner", "Beginner"), ("intermediate", "Intermediate"), ("advanced", "Advanced"))
SUGGESTED_SEEDS = (1, 999_999)
"""The seeds offered by default: six digits at most, easy to read out to a class."""


def suggest_seed() -> int:
    """A random seed to offer (any seed may be typed instead)."""
    low, high = SUGGESTED_SEEDS
    return low + secrets.randbelow(high - low + 1)


class NewCaseDialog(QDialog):
    """Level and seed of a new generated case.

    Attributes:
        level_box: the three levels.
        seed_box: the seed, a random one to start with.
    """

    def __init__(self, parent: QWidget | None, seed: int) -> None:
        from wizard.lab.generate import MAX_SEED

        super().__init__(parent)
        self.setWindowTitle("A new case")
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 60)
        intro = wrapped(
            "The wizard builds a new case from the article's rules: a ticket, a cluster and a "
            "VM to judge and fix. The same level and seed always give the same case, so give "
            "your class these two to hand everyone the same one.",
            self,
        )
        self.level_box = QComboBox(self)
        for value, label in LEVELS:
            self.level_box.addItem(label, value)
        self.level_box.setAccessibleName("Level")
        self.seed_box = QSpinBox(self)
        self.seed_box.setRange(0, MAX_SEED)
        self.seed_box.setValue(seed)
        self.seed_box.setAccessibleName("Seed")
        self.seed_box.setToolTip(f"Any whole number from 0 to {MAX_SEED:,}.")
        form = QFormLayout()
        form.addRow("&Level:", self.level_box)
        form.addRow("&Seed:", self.seed_box)
        buttons = QDialogButtonBox(self)
        self.create_button = buttons.addButton(
            "&Create the case", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def choice(self) -> tuple[str, int]:
        return str(self.level_box.currentData()), self.seed_box.value()


def ask_new_case(parent: QWidget, seed: int) -> tuple[str, int] | None:
    """Ask for the level and seed of a new case; None when cancelled (patchable in tests)."""
    dialog = NewCaseDialog(parent, seed)
    return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None


@dataclass(frozen=True)
class NewCase:
    """A generated case written to a file.

    Attributes:
        listed: written to the trainer folder (else to a temporary folder: see ``why``).
        why: why it is not in the trainer folder ("" when it is).
    """

    path: Path
    title: str
    listed: bool
    why: str = ""


def _write(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder: the whole file or none of it."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
        os.replace(temp, path)
    except OSError:
        Path(temp).unlink(missing_ok=True)
        raise


def write_new_case(level: str, seed: int) -> NewCase:
    """Generate the case and write it where the picker lists it.

    Raises:
        OSError: neither the trainer folder nor a temporary folder could take the file.
        ValueError: the level or seed cannot be used (the message says why).
    """
    from wizard.lab.generate import generate, parse_level

    case = generate(seed, parse_level(level))
    title = str(case.doc["title"])
    why = ""
    try:
        target = trainer_folder() / f"{case.id}.json"
        if not target.exists():
            _write(target, case.text)
            return NewCase(target, title, True)
        if target.read_text(encoding="utf-8") == case.text:
            return NewCase(target, title, True)
        why = f"{target} was changed since it was generated, so it was kept as it is"
    except OSError as exc:
        why = f"the scenarios folder cannot take it ({exc.strerror or exc})"
        _log.warning("new case %s not written to the trainer folder: %s", case.id, exc)
    folder = Path(tempfile.gettempdir()) / "checkpoint-wizard-cases"
    folder.mkdir(exist_ok=True)
    target = folder / f"{case.id}.json"
    _write(target, case.text)
    return NewCase(target, title, False, why)


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
        self._exam = False
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
        tint(self._meta, MUTED)
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
        self.new_case_button = QPushButton("A &new case\u2026", self)
        self.new_case_button.setAccessibleName("A new case")
        self.new_case_button.setToolTip(
            "Build a new case from a level and a seed: the same seed gives the same case."
        )
        self.new_case_button.setAutoDefault(False)
        self.new_case_button.clicked.connect(self.on_new_case_button_clicked)
        self.new_case_note = wrapped(parent=self, selectable=True)
        tint(self.new_case_note, MUTED)
        self.new_case_note.hide()

        left = QVBoxLayout()
        left.setSpacing(6)
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_case_button)
        buttons.addWidget(self.open_folder_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        left.addLayout(buttons)
        left.addWidget(self.new_case_note)
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

    def fix_to(self, path: Path) -> None:
        """Exam mode: this scenario only, with nothing to choose, make or open.

        Raises:
            ValueError: the file is not a usable scenario (the message names the field).
        """
        from wizard.lab.scenario import ScenarioError, load_scenario

        try:
            entry = _entry(path, load_scenario(path), bundled=True)
        except ScenarioError as exc:
            raise ValueError(str(exc)) from None
        self.entries, self.why_none = [entry], ""
        self._exam = True  # what the case teaches would give answers away
        for w in (self.list, self.new_case_button, self.open_folder_button, self.refresh_button):
            w.hide()
        self.new_case_note.hide()
        row = self.layout()
        if isinstance(row, QHBoxLayout):
            row.setStretch(0, 0)  # the hidden list leaves no empty column
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItem(self._item(entry))
        self.list.blockSignals(False)
        self.list.setCurrentRow(0)  # shows it and says so (currentChanged)

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
        self._teaches.setVisible(bool(entry.teaches) and not self._exam)

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
    def on_new_case_button_clicked(self) -> None:
        answer = ask_new_case(self, suggest_seed())
        if answer is None:
            return
        level, seed = answer
        try:
            case = write_new_case(level, seed)
        except (OSError, ValueError) as exc:
            self.new_case_note.setText(f"The new case could not be written: {exc}")
            self.new_case_note.show()
            return
        if not case.listed:
            self._extra = case.path  # listed first, as a scenario given on the command line
        self.reload()
        self.select_path(case.path)
        where = (
            f"Saved to {case.path}, in your scenarios folder."
            if case.listed
            else f"Saved to {case.path}: {case.why}."
        )
        self.new_case_note.setText(
            f"New case: {level} level, seed {seed}. Give your class both to hand out the same "
            f"case. {where}"
        )
        self.new_case_note.show()

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
