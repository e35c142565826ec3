"""The VM picker's model at 10,000 rows: filtering behaves (timing belongs in tests/bench)."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from tests.gui.fakes import summaries
from tests.helpers.facts import make_facts
from wizard.ui.vm_model import Column, VmFilterProxy, VmTableModel


def _model() -> tuple[VmTableModel, VmFilterProxy]:
    model = VmTableModel()
    model.set_vms(summaries(10_000, of_interest=make_facts()))
    proxy = VmFilterProxy()
    proxy.setSourceModel(model)
    return model, proxy


def test_filter_ten_thousand_rows(qtbot: QtBot) -> None:
    model, proxy = _model()
    assert model.rowCount() == 10_001
    proxy.set_text("hd-w7")
    assert proxy.rowCount() == 1
    assert proxy.index(0, Column.NAME).data() == "HD-W7-042"
    proxy.set_text("app-0999")
    assert proxy.rowCount() == 10  # APP-09990 .. APP-09999
    proxy.set_text("esx-a2 red hat")
    rows = proxy.rowCount()
    assert 0 < rows < 10_001
    for r in range(rows):
        assert proxy.index(r, Column.HOST).data() == "esx-a2.lab.local"
    proxy.set_text("")
    assert proxy.rowCount() == 10_001


def test_only_flagged_and_sort_by_hardware(qtbot: QtBot) -> None:
    model, proxy = _model()
    proxy.set_only_flagged(True)
    flagged = sum(1 for i in range(model.rowCount()) if model.vm(i).prescreen)
    assert proxy.rowCount() == flagged
    proxy.set_only_flagged(False)
    proxy.sort(Column.HARDWARE, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, Column.HARDWARE).data() == "19"
    assert proxy.index(proxy.rowCount() - 1, Column.HARDWARE).data() == "8"


def test_typed_words_are_text_not_patterns_and_combine_with_only_flagged(qtbot: QtBot) -> None:
    model = VmTableModel()
    odd = ["web (old).corp", "web-old-corp", "a+b[1]*", "ab1", "Ünïcode \\ back"]
    model.set_vms(
        [
            *summaries(5),
            *(
                replace(summaries(1)[0], name=name, moref=f"vm-odd-{i}", prescreen=i % 2 == 0)
                for i, name in enumerate(odd)
            ),
        ]
    )
    proxy = VmFilterProxy()
    proxy.setSourceModel(model)

    def shown() -> list[str]:
        return sorted(proxy.index(r, Column.NAME).data() for r in range(proxy.rowCount()))

    proxy.set_text("(old).")
    assert shown() == ["web (old).corp"]
    proxy.set_text("+b[1]*")
    assert shown() == ["a+b[1]*"]
    proxy.set_text("\\ ÜNÏ")  # any order, any case
    assert shown() == ["Ünïcode \\ back"]
    proxy.set_text("web")
    assert shown() == ["web (old).corp", "web-old-corp"]
    proxy.set_only_flagged(True)  # vm-odd-0 is flagged, vm-odd-1 is not
    assert shown() == ["web (old).corp"]
    proxy.set_text("")
    flagged = [model.vm(r).name for r in range(model.rowCount()) if model.vm(r).prescreen]
    assert shown() == sorted(flagged)
    assert "web-old-corp" not in flagged
    proxy.set_only_flagged(False)
    assert proxy.rowCount() == model.rowCount()


def test_cells_read_as_words(qtbot: QtBot) -> None:
    model, _ = _model()
    row = model.row_of("HD-W7-042")
    assert row is not None
    idx = model.index(row, Column.POWER)
    assert idx.data() == "On"
    assert idx.data(Qt.ItemDataRole.AccessibleTextRole) == "Power: On"
    assert model.index(row, Column.PRESCREEN).data() == "May be affected"
    assert model.index(row, Column.GUEST).data() == "Windows 7 (64-bit)"


def test_rows_arriving_in_pages_land_in_order_and_the_chosen_vm_stays_selected(
    qtbot: QtBot,
) -> None:
    vms = summaries(3_000, of_interest=make_facts())
    model = VmTableModel()
    proxy = VmFilterProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(proxy)
    view.setSortingEnabled(True)
    view.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)
    # The first page: the tail of the alphabet, the technician selects the named VM.
    first = [*sorted(vms, key=lambda v: v.name.lower())[-250:], vms[0]]
    model.add_vms(first)
    chosen = proxy.mapFromSource(model.index(model.row_of("HD-W7-042") or 0, Column.NAME))
    view.selectRow(chosen.row())
    # The whole list arrives, the first page's VMs among it once more.
    model.add_vms(vms)
    assert model.rowCount() == proxy.rowCount() == len(vms)
    names = [proxy.index(r, Column.NAME).data() for r in range(proxy.rowCount())]
    assert names == sorted(names, key=str.lower)
    selected = view.selectionModel().selectedRows()
    assert [i.data() for i in selected] == ["HD-W7-042"]
    # A click on another column's header sorts by it, the selection still on its VM.
    view.sortByColumn(Column.HARDWARE, Qt.SortOrder.DescendingOrder)
    assert proxy.index(0, Column.HARDWARE).data() == "19"
    assert [i.data() for i in view.selectionModel().selectedRows()] == ["HD-W7-042"]
