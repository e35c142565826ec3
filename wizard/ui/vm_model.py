"""The VM picker's table model and its type-ahead filter, built for tens of thousands of rows.

The model answers ``data()`` from precomputed tuples (no work per paint) and filters through
one precomputed lowercase search key per row (:data:`SEARCH_ROLE`), so the C++ proxy does the
matching and Python is asked once per row, not once per cell.
"""

from __future__ import annotations

import enum
import functools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QIcon

from wizard.kb.facts import VmSummary
from wizard.kb.guests import friendly_name
from wizard.ui.theme import Tone, icon

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
MOREF_ROLE = Qt.ItemDataRole.UserRole + 2

POWER_WORDS = {"poweredOn": "On", "poweredOff": "Off", "suspended": "Suspended"}
_PRESCREEN_TEXT = "May be affected"


@functools.lru_cache(maxsize=1024)
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


@dataclass(frozen=True, slots=True)
class PickerRow:
    """One VM as the table shows it: its cells, its search key and its hardware version's
    number (for sorting). Plain Python, so the rows of a long list can be made on the thread
    that read it (:func:`picker_rows`) and the GUI thread only inserts them."""

    vm: VmSummary
    cells: tuple[str, str, str, str, str, str]
    search: str
    hw: int
    order: tuple[str, str]
    """The name in lower case, then the managed object id: the default order, and the
    tie-break of every other."""


_FLAGGED_MARK = "\ue000"
"""Starts the search key of a VM the pre-screen flags (a private-use character, taken out of
the rest of the key), so that "only flagged VMs" is part of the filter's pattern."""


def _search_key(vm: VmSummary, guest: str) -> str:
    key = f"{vm.name}\n{guest}\n{vm.guest_id}\n{vm.host}\n{vm.cluster}\n{vm.moref}".lower()
    return key.replace(_FLAGGED_MARK, "") if _FLAGGED_MARK in key else key


def picker_rows(vms: Sequence[VmSummary]) -> list[PickerRow]:
    """The table rows of ``vms``."""
    rows = []
    for vm in vms:
        guest = guest_name(vm.tools_guest_id or vm.guest_id)
        ver = vm.hardware_version[4:] if vm.hardware_version.startswith("vmx-") else ""
        rows.append(
            PickerRow(
                vm,
                (
                    vm.name,
                    POWER_WORDS.get(vm.power_state, vm.power_state),
                    guest,
                    hw_label(vm.hardware_version),
                    vm.host,
                    _PRESCREEN_TEXT if vm.prescreen else "",
                ),
                (_FLAGGED_MARK if vm.prescreen else "") + _search_key(vm, guest),
                int(ver) if ver.isdigit() else 0,
                (vm.name.lower(), vm.moref),
            )
        )
    return rows


HEADERS = {
    Column.NAME: "Name",
    Column.POWER: "Power",
    Column.GUEST: "Guest OS",
    Column.HARDWARE: "HW version",
    Column.HOST: "Host",
    Column.PRESCREEN: "Pre-screen",
}


_ORDER = operator.attrgetter("order")
_HW_ORDER = operator.attrgetter("hw", "order")


class VmTableModel(QAbstractTableModel):
    """All VMs of the inventory, one row each."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[PickerRow] = []
        self._morefs: set[str] = set()
        self._power_icons: dict[str, QIcon] = {}
        self._flag_icon = QIcon()
        self._sort_column = int(Column.NAME)
        self._sort_order = Qt.SortOrder.AscendingOrder

    def set_vms(self, vms: Sequence[VmSummary]) -> None:
        """Replace every row."""
        self._reset(picker_rows(vms))

    def _reset(self, rows: Sequence[PickerRow]) -> None:
        self.beginResetModel()
        self._items = list(rows)
        self._morefs = {r.vm.moref for r in rows}
        self._reorder()
        self._power_icons = {
            "poweredOn": icon("power-on"),
            "poweredOff": icon("power-off"),
            "suspended": icon("power-suspended"),
        }
        self._flag_icon = icon(Tone.WARN.icon_name)
        self.endResetModel()

    def add_vms(self, vms: Sequence[VmSummary]) -> None:
        """Add rows (see :meth:`add_rows`)."""
        self.add_rows(picker_rows(vms))

    def add_rows(self, rows: Sequence[PickerRow]) -> None:
        """Add rows in their sorted places; VMs already shown are left as they are (for a list
        shown as it arrives). The selection and the current row follow their VMs."""
        seen = self._morefs
        new = list({r.vm.moref: r for r in rows if r.vm.moref not in seen}.values())
        if not new:
            return
        if not self._items:
            self._reset(new)
            return
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._items.extend(new)
        self._morefs.update(r.vm.moref for r in new)
        self.endInsertRows()
        self.sort(self._sort_column, self._sort_order)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (the view's header; the proxy only filters).

        Sorted here, in one ``list.sort`` on keys made with the rows: a sorting proxy would
        ask Python for two values per comparison, over a second for 10,000 rows on the GUI
        thread. The selection and the current row follow their VMs.
        """
        self._sort_column, self._sort_order = column, order
        if not self._items:
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        kept = [(self._items[i.row()].vm.moref, i.column()) for i in persistent]
        self._reorder()
        if kept:
            row_of = {r.vm.moref: row for row, r in enumerate(self._items)}
            self.changePersistentIndexList(
                persistent, [self.index(row_of[moref], col) for moref, col in kept]
            )
        self.layoutChanged.emit()

    def _reorder(self) -> None:
        col = self._sort_column
        key: Callable[[PickerRow], Any]
        if col == Column.NAME:
            key = _ORDER
        elif col == Column.HARDWARE:
            key = _HW_ORDER
        else:

            def key(r: PickerRow) -> tuple[str, tuple[str, str]]:
                return (r.cells[col].lower(), r.order)

        self._items.sort(key=key, reverse=self._sort_order == Qt.SortOrder.DescendingOrder)

    def vm(self, row: int) -> VmSummary:
        return self._items[row].vm

    def row_of(self, name: str) -> int | None:
        """The row of the VM with exactly this name (case-insensitive), if any."""
        wanted = name.lower()
        for i, r in enumerate(self._items):
            if r.order[0] == wanted:
                return i
        return None

    def row_of_moref(self, moref: str) -> int | None:
        if moref not in self._morefs:
            return None
        for i, r in enumerate(self._items):
            if r.vm.moref == moref:
                return i
        return None

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

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
        item, col = self._items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return item.cells[col]
        if role == SEARCH_ROLE:
            return item.search
        if role == MOREF_ROLE:
            return item.vm.moref
        if role == Qt.ItemDataRole.DecorationRole:
            if col == Column.POWER:
                return self._power_icons.get(item.vm.power_state)
            if col == Column.PRESCREEN and item.vm.prescreen:
                return self._flag_icon
        if role == Qt.ItemDataRole.ToolTipRole and col == Column.PRESCREEN:
            if item.vm.prescreen:
                return "What the inventory shows fits the failure; open the check to be sure."
            return None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            value = item.cells[col]
            return f"{HEADERS[Column(col)]}: {value or 'none'}"
        return None


class VmFilterProxy(QSortFilterProxyModel):
    """Filters on every word of the typed text; sorting is handed to the model (see
    :meth:`VmTableModel.sort`).

    The filter is one regular expression matched by Qt on each row's search key, with no
    Python per row: a lookahead for each word, and one for the pre-screen's mark when only the
    flagged VMs are shown. With no filter Qt keeps every row without asking the model; a
    filter written in Python would be called for each of 10,000 rows whenever rows arrive or
    the order changes (tens of milliseconds on the GUI thread each time).
    """

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        model = self.sourceModel()
        if isinstance(model, VmTableModel):
            model.sort(column, order)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setFilterRole(SEARCH_ROLE)
        self.setFilterKeyColumn(Column.NAME)
        self._words: list[str] = []
        self._only_flagged = False

    def set_text(self, text: str) -> None:
        """Keep rows that contain every word typed (name, guest OS, host, cluster or id)."""
        words = text.lower().split()
        if words != self._words:
            self._words = words
            self._refilter()

    def set_only_flagged(self, only: bool) -> None:
        """Keep only the VMs the pre-screen flags."""
        if only != self._only_flagged:
            self._only_flagged = only
            self._refilter()

    def _refilter(self) -> None:
        lookaheads = [f"(?=.*{QRegularExpression.escape(w)})" for w in self._words]
        if self._only_flagged:
            lookaheads.insert(0, f"(?={_FLAGGED_MARK})")
        pattern = f"^{''.join(lookaheads)}" if lookaheads else ""
        self.setFilterRegularExpression(
            QRegularExpression(pattern, QRegularExpression.PatternOption.DotMatchesEverythingOption)
        )
