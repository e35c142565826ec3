"""The VM picker's table model and its type-ahead filter, built for tens of thousands of rows.

The model answers ``data()`` from precomputed tuples (no work per paint) and filters through
one precomputed lowercase search key per row (:data:`SEARCH_ROLE`), so the C++ proxy does the
matching and Python is asked once per row, not once per cell.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QIcon

from wizard.kb.facts import VmSummary
from wizard.kb.guests import friendly_name
from wizard.ui.theme import Tone, icon

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
MOREF_ROLE = Qt.ItemDataRole.UserRole + 2
SORT_ROLE = Qt.ItemDataRole.UserRole + 3

POWER_WORDS = {"poweredOn": "On", "poweredOff": "Off", "suspended": "Suspended"}


def guest_name(guest_id: str | None) -> str:
    """A readable guest OS name for a vSphere guest id, as the knowledge base names it.

    An id the knowledge base does not know is read as family and release (``debian6_64Guest``
    is "Debian 6 (64-bit)"), else named as unrecognised, never shown as the id;
    no id at all is "Unknown" (short, for the table's column).
    """
    if not (guest_id or "").strip():
        return "Unknown"
    return friendly_name(guest_id)


def hw_label(version: str) -> str:
    """``vmx-08`` -> ``8`` for display; unknown forms pass through."""
    if version.startswith("vmx-") and version[4:].isdigit():
        return str(int(version[4:]))
    return version


class Column(enum.IntEnum):
    NAME = 0
    POWER = 1
    GUEST = 2
    HARDWARE = 3
    HOST = 4
    PRESCREEN = 5


HEADERS = {
    Column.NAME: "Name",
    Column.POWER: "Power",
    Column.GUEST: "Guest OS",
    Column.HARDWARE: "HW version",
    Column.HOST: "Host",
    Column.PRESCREEN: "Pre-screen",
}

_PRESCREEN_TEXT = "May be affected"


class VmTableModel(QAbstractTableModel):
    """All VMs of the inventory, one row each."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._vms: list[VmSummary] = []
        self._rows: list[tuple[str, str, str, str, str, str]] = []
        self._search: list[str] = []
        self._hw_sort: list[int] = []
        self._power_icons: dict[str, QIcon] = {}
        self._flag_icon = QIcon()

    def set_vms(self, vms: Sequence[VmSummary]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._vms = list(vms)
        self._rows = []
        self._search = []
        self._hw_sort = []
        for vm in self._vms:
            guest = guest_name(vm.tools_guest_id or vm.guest_id)
            row = (
                vm.name,
                POWER_WORDS.get(vm.power_state, vm.power_state),
                guest,
                hw_label(vm.hardware_version),
                vm.host,
                _PRESCREEN_TEXT if vm.prescreen else "",
            )
            self._rows.append(row)
            self._search.append(
                f"{vm.name}\n{guest}\n{vm.guest_id}\n{vm.host}\n{vm.cluster}\n{vm.moref}".lower()
            )
            ver = vm.hardware_version[4:] if vm.hardware_version.startswith("vmx-") else ""
            self._hw_sort.append(int(ver) if ver.isdigit() else 0)
        self._power_icons = {
            "poweredOn": icon("power-on"),
            "poweredOff": icon("power-off"),
            "suspended": icon("power-suspended"),
        }
        self._flag_icon = icon(Tone.WARN.icon_name)
        self.endResetModel()

    def vm(self, row: int) -> VmSummary:
        return self._vms[row]

    def row_of(self, name: str) -> int | None:
        """The row of the VM with exactly this name (case-insensitive), if any."""
        wanted = name.lower()
        for i, vm in enumerate(self._vms):
            if vm.name.lower() == wanted:
                return i
        return None

    def row_of_moref(self, moref: str) -> int | None:
        for i, vm in enumerate(self._vms):
            if vm.moref == moref:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(
        self,
        index: QModelIndex | QPersistentModelIndex,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> object:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._rows[row][col]
        if role == SEARCH_ROLE:
            return self._search[row]
        if role == MOREF_ROLE:
            return self._vms[row].moref
        if role == SORT_ROLE:
            if col == Column.HARDWARE:
                return self._hw_sort[row]
            return self._rows[row][col].lower()
        if role == Qt.ItemDataRole.DecorationRole:
            if col == Column.POWER:
                return self._power_icons.get(self._vms[row].power_state)
            if col == Column.PRESCREEN and self._vms[row].prescreen:
                return self._flag_icon
        if role == Qt.ItemDataRole.ToolTipRole and col == Column.PRESCREEN:
            if self._vms[row].prescreen:
                return "What the inventory shows fits the failure; open the check to be sure."
            return None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            value = self._rows[row][col]
            return f"{HEADERS[Column(col)]}: {value or 'none'}"
        return None


class VmFilterProxy(QSortFilterProxyModel):
    """Sorts by :data:`SORT_ROLE` and filters on every word of the typed text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(SEARCH_ROLE)
        self.setFilterKeyColumn(Column.NAME)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._words: list[str] = []
        self._only_flagged = False

    def set_text(self, text: str) -> None:
        """Keep rows that contain every word typed (name, guest OS, host, cluster or id)."""
        words = text.lower().split()
        if words == self._words:
            return
        self.beginFilterChange()
        self._words = words
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_only_flagged(self, only: bool) -> None:
        """Keep only the VMs the pre-screen flags."""
        if only == self._only_flagged:
            return
        self.beginFilterChange()
        self._only_flagged = only
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        if (
            self._only_flagged
            and isinstance(model, VmTableModel)
            and not model.vm(source_row).prescreen
        ):
            return False
        if not self._words:
            return True
        key = model.index(source_row, Column.NAME, source_parent).data(SEARCH_ROLE)
        return isinstance(key, str) and all(w in key for w in self._words)
