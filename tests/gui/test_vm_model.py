"""The VM picker's model at 10,000 rows: filtering behaves (timing belongs in tests/bench)."""

from __future__ import annotations

from PySide6.QtCore import Qt
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


def test_cells_read_as_words(qtbot: QtBot) -> None:
    model, _ = _model()
    idx = model.index(0, Column.POWER)
    assert idx.data() == "On"
    assert idx.data(Qt.ItemDataRole.AccessibleTextRole) == "Power: On"
    assert model.index(0, Column.PRESCREEN).data() == "May be affected"
    assert model.index(0, Column.GUEST).data() == "Windows 7 (64-bit)"
