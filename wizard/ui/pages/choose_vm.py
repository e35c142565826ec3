"""Choose VM: every VM in a filterable table, and a find by name, DNS name or IP."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, Qt, QTimer, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QWidget,
)

from wizard.kb.facts import VmSummary
from wizard.ui.gateway import Gateway
from wizard.ui.pages.base import BasePage, PageId
from wizard.ui.theme import Tone
from wizard.ui.vm_model import Column, PickerRow, VmFilterProxy, VmTableModel, picker_rows
from wizard.ui.widgets import wrapped
from wizard.ui.wizard_state import WizardContext
from wizard.ui.worker import Job
from wizard.vsphere.errors import VmNotFound, VsphereError
from wizard.vsphere.records import VmRef

_log = logging.getLogger(__name__)
_FILTER_DELAY_MS = 120
_MOREF_ROLE = Qt.ItemDataRole.UserRole + 10


class _FilterEdit(QLineEdit):
    """Down arrow moves into the table; the rest is typing."""

    def __init__(self, table: QTableView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._table = table

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down:
            self._table.setFocus()
            return
        super().keyPressEvent(event)


class ChooseVmPage(BasePage):
    """Pick the VM from the ticket.

    Attributes:
        model: every VM (one bulk read).
        proxy: the type-ahead filter over it.
        table: the table view.
        filter_edit: type-ahead text.
        find_edit: name, DNS name or IP for :meth:`Gateway.find_vms`.
        found_list: what the find returned.
    """

    page_id = PageId.CHOOSE_VM

    def __init__(self, ctx: WizardContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        layout = self.plain_body()

        self.model = VmTableModel(self)
        self.proxy = VmFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Virtual machines")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        self.table.setTabKeyNavigation(False)
        vh = self.table.verticalHeader()
        vh.hide()
        # Fixed row height: the view never measures rows, so 10,000 rows scroll smoothly.
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setHighlightSections(False)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        em = self.table.fontMetrics().averageCharWidth()
        for col, chars in (
            (Column.NAME, 26),
            (Column.POWER, 11),
            (Column.GUEST, 26),
            (Column.HARDWARE, 13),
            (Column.HOST, 20),
        ):
            self.table.setColumnWidth(col, em * chars)
        self.table.sortByColumn(Column.NAME, Qt.SortOrder.AscendingOrder)

        self.filter_edit = _FilterEdit(self.table, self)
        self.filter_edit.setPlaceholderText("Type to filter by name, guest OS or host")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter the VM list")
        filter_label = QLabel("&Filter:", self)
        filter_label.setBuddy(self.filter_edit)
        self.flagged_check = QCheckBox("Only VMs the pre-&screen flags", self)
        self.flagged_check.setAccessibleName("Only VMs the pre-screen flags")
        self.count_label = QLabel(self)
        self.count_label.setAccessibleName("Number of VMs shown")
        top = QHBoxLayout()
        top.setSpacing(8)
        top.addWidget(filter_label)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.flagged_check)
        top.addWidget(self.count_label)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)

        self.busy, self.banner = self.busy_and_banner(layout, self.on_busy_cancel_requested)

        self.find_edit = QLineEdit(self)
        self.find_edit.setPlaceholderText("e.g. HD-W7-042, pc042.corp.local or 10.1.2.42")
        self.find_edit.setAccessibleName("Find by name, DNS name or IP")
        self.find_edit.setClearButtonEnabled(True)
        find_label = QLabel("F&ind by name, DNS name or IP:", self)
        find_label.setBuddy(self.find_edit)
        self.find_button = QPushButton("Fin&d", self)
        self.find_button.setAccessibleName("Find")
        self.find_button.setAutoDefault(False)
        self.find_button.setEnabled(False)
        find_row = QHBoxLayout()
        find_row.setSpacing(8)
        find_row.addWidget(find_label)
        find_row.addWidget(self.find_edit, 1)
        find_row.addWidget(self.find_button)
        layout.addLayout(find_row)
        self.found_list = QListWidget(self)
        self.found_list.setAccessibleName("VMs found")
        self.found_list.setMaximumHeight(self.found_list.fontMetrics().height() * 5 + 12)
        self.found_list.hide()
        layout.addWidget(self.found_list)
        self.find_note = wrapped(parent=self)
        self.find_note.hide()
        layout.addWidget(self.find_note)
        self.selected_label = QLabel(self)
        self.selected_label.setAccessibleName("Selected VM")
        layout.addWidget(self.selected_label)

        self.setTabOrder(self.filter_edit, self.flagged_check)
        self.setTabOrder(self.flagged_check, self.table)
        self.setTabOrder(self.table, self.find_edit)
        self.setTabOrder(self.find_edit, self.find_button)
        self.setTabOrder(self.find_button, self.found_list)

        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(_FILTER_DELAY_MS)
        self._filter_timer.timeout.connect(self.on_filter_timer_timeout)
        self.filter_edit.textChanged.connect(self.on_filter_edit_changed)
        self.filter_edit.returnPressed.connect(self.on_filter_edit_return)
        self.flagged_check.toggled.connect(self.on_flagged_check_toggled)
        self.find_edit.textChanged.connect(self.on_find_edit_changed)
        self.find_edit.returnPressed.connect(self.on_find_button_clicked)
        self.find_button.clicked.connect(self.on_find_button_clicked)
        self.found_list.currentItemChanged.connect(self.on_found_list_current_changed)
        self.found_list.itemActivated.connect(self.on_found_list_activated)
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        sel = self.table.selectionModel()
        sel.selectionChanged.connect(self.on_table_selection_changed)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._list_job: Job | None = None
        self._find_job: Job | None = None
        self._find_checks = False  # the find running checks the VM it finds (find_then_check)
        self._list_after_find = False  # the list is read once the find has ended
        self._loaded_for = -1  # the connection the list was read on (ctx.connection_serial)
        self._pending_select: str | None = None
        self._update_count()

    # ---------------------------------------------------------------- QWizardPage

    def initializePage(self) -> None:
        if self._loaded_for != self.ctx.connection_serial:
            self.model.set_vms([])
            self.ctx.vm = None
            preselect = self.ctx.preselect_vm
            if preselect:
                # Find first, the list once the VM is found and checked: the list's answer
                # (megabytes at 10,000 VMs) would otherwise be read at the same time as the
                # find's and the check's, and slow them down. The VM is selected one round trip
                # after the login, its check follows (see on_find_then_check_found).
                self.find_edit.setText(preselect)
                self._pending_select = preselect
                self._list_after_find = True
                self._start_find(preselect, then_check=True)
            else:
                self._start_list()
        self._show_selected()
        self.first_focus = self.filter_edit

    def cleanupPage(self) -> None:
        self._list_after_find = False
        for job in (self._list_job, self._find_job):
            if job is not None:
                job.cancel()
        self.ctx.drop_early_check()

    def isComplete(self) -> bool:
        return self.ctx.vm is not None

    def validatePage(self) -> bool:
        if self.ctx.vm is None:
            return False
        if self._find_job is not None and self._find_checks:
            # The VM was chosen (from the list) before the find of the named VM reported: the
            # Check page checks it; the find must not check it a second time.
            self._find_job.cancel()
        return True

    def nextId(self) -> int:
        return int(PageId.CHECK)

    # ---------------------------------------------------------------- list

    def _start_list(self) -> None:
        self.banner.hide()
        self.busy.start(f"Reading the VM list from {self.ctx.endpoint}…")
        # On a thread of its own: finding and checking the VM of the ticket never wait for it.
        job = self.ctx.worker.submit_bulk(
            _list_rows, self.ctx.gateway, description="list VMs", with_report=True
        )
        job.progress.connect(self.on_list_progress)
        job.succeeded.connect(self.on_list_succeeded)
        job.failed.connect(self.on_list_failed)
        job.finished.connect(self.on_list_finished)
        self._list_job = job

    @Slot(object)
    def on_list_progress(self, rows: object) -> None:
        """Rows as they arrive: the first ones show before the whole list has been read."""
        assert isinstance(rows, list)
        self.model.add_rows(rows)
        self._after_rows()

    @Slot(object)
    def on_list_succeeded(self, vms: object) -> None:
        assert isinstance(vms, list)
        if self.model.rowCount() != len(vms):
            # Not every row came as progress: the list as read replaces the rows.
            self.set_vms(vms)
        self._loaded_for = self.ctx.connection_serial

    def set_vms(self, vms: Sequence[VmSummary]) -> None:
        """Fill the table (and select the VM asked for, if any)."""
        self.model.set_vms(vms)
        self._after_rows()

    def _after_rows(self) -> None:
        self._update_count()
        chosen = self.ctx.vm
        if chosen is not None:
            self._select_moref(chosen.moref)
        elif self._pending_select:
            row = self.model.row_of(self._pending_select)
            if row is not None:
                self._select_moref(self.model.vm(row).moref)

    @Slot(object)
    def on_list_failed(self, exc: object) -> None:
        msg, nxt = _words(exc)
        self.banner.show_message(Tone.BAD, "The VM list could not be read", msg, nxt)

    @Slot()
    def on_list_finished(self) -> None:
        self._list_job = None
        self.busy.stop()
        self._update_count()

    @Slot()
    def on_busy_cancel_requested(self) -> None:
        if self._list_job is not None:
            self._list_job.cancel()
            self.banner.show_message(
                Tone.INFO,
                "Stopped reading the VM list",
                "Use “Find” below to look up the VM by name, DNS name or IP.",
            )

    # ---------------------------------------------------------------- filter

    @Slot(str)
    def on_filter_edit_changed(self, _text: str) -> None:
        self._filter_timer.start()

    @Slot()
    def on_filter_timer_timeout(self) -> None:
        self.apply_filter()

    def apply_filter(self) -> None:
        """Filter now (the timer only spares work while the technician is still typing)."""
        self._filter_timer.stop()
        self.proxy.set_text(self.filter_edit.text())
        self._update_count()
        self._keep_selection_visible()

    @Slot(bool)
    def on_flagged_check_toggled(self, checked: bool) -> None:
        self.proxy.set_only_flagged(checked)
        self._update_count()
        self._keep_selection_visible()

    @Slot()
    def on_filter_edit_return(self) -> None:
        self.apply_filter()
        if self.ctx.vm is not None:
            self.go_next()

    def _keep_selection_visible(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            self.table.scrollTo(rows[0])
            return
        if self.proxy.rowCount() > 0 and self.filter_edit.text().strip():
            self._select_proxy_row(0)
        elif self.ctx.vm is not None and self.model.rowCount() > 0:
            # The filter hides the chosen VM: Next must not go on with a VM nobody can see.
            self._choose(None)

    @Slot()
    def _update_count(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        so_far = " so far" if self._list_job is not None else ""
        if total == 0:
            self.count_label.setText("")
        elif shown == total:
            self.count_label.setText(f"{total:,} VMs{so_far}")
        else:
            self.count_label.setText(f"{shown:,} of {total:,} VMs{so_far}")

    # ---------------------------------------------------------------- selection

    def _select_proxy_row(self, row: int) -> None:
        index = self.proxy.index(row, Column.NAME)
        self.table.selectionModel().select(
            index,
            QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows,
        )
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    def _select_moref(self, moref: str) -> bool:
        row = self.model.row_of_moref(moref)
        if row is None:
            return False
        proxy_index = self.proxy.mapFromSource(self.model.index(row, Column.NAME))
        if not proxy_index.isValid():
            self.filter_edit.clear()
            self.flagged_check.setChecked(False)
            self.apply_filter()
            proxy_index = self.proxy.mapFromSource(self.model.index(row, Column.NAME))
        self._select_proxy_row(proxy_index.row())
        return True

    @Slot(QItemSelection, QItemSelection)
    def on_table_selection_changed(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            src = self.proxy.mapToSource(rows[0])
            vm = self.model.vm(src.row())
            self._choose(VmRef(vm.name, vm.moref))

    @Slot(QModelIndex)
    def on_table_double_clicked(self, _index: QModelIndex) -> None:
        self.go_next()

    def _choose(self, choice: VmRef | None) -> None:
        if choice != self.ctx.vm:
            self.ctx.vm = choice
            self.ctx.check = None
        self._show_selected()
        self.completeChanged.emit()

    def _show_selected(self) -> None:
        vm = self.ctx.vm
        # The name, in words; the managed object id (which tells two VMs of one name apart,
        # with the host column of the table) is in the tooltip and the report.
        self.selected_label.setText(f"Selected: {vm.name}" if vm else "")
        self.selected_label.setToolTip(f"vSphere id {vm.moref}" if vm else "")

    # ---------------------------------------------------------------- find

    @Slot(str)
    def on_find_edit_changed(self, text: str) -> None:
        self.find_button.setEnabled(bool(text.strip()))

    @Slot()
    def on_find_button_clicked(self) -> None:
        query = self.find_edit.text().strip()
        if query:
            self._start_find(query)

    def _start_find(self, query: str, *, then_check: bool = False) -> None:
        """Find ``query``; ``then_check``: and check the VM at once if it is the only one (the
        VM named on the command line), beside the list, so that Next finds its verdict ready
        or on its way."""
        if self._find_job is not None:
            self._find_job.cancel()
        self.find_note.setText(f"Looking for “{query}”…")
        self.find_note.show()
        self.find_button.setEnabled(False)
        self._find_checks = then_check
        if then_check:
            job = self.ctx.submit_find_then_check(query)
            job.progress.connect(self.on_find_then_check_found)
        else:
            job = self.ctx.worker.submit_session(
                self.ctx.gateway.find_vms, query, description="find VM"
            )
            job.succeeded.connect(self.on_find_succeeded)
        job.failed.connect(self.on_find_failed)
        job.finished.connect(self.on_find_finished)
        self._find_job = job

    @Slot(object)
    def on_find_succeeded(self, refs: object) -> None:
        assert isinstance(refs, list)
        self.show_found(refs, ())

    @Slot(object)
    def on_find_then_check_found(self, refs: object) -> None:
        assert isinstance(refs, list)
        job = self._find_job
        if job is None:
            return
        # The find is over; what the job does next is the check, the Check page's business.
        job.failed.disconnect(self.on_find_failed)
        job.finished.disconnect(self.on_find_finished)
        list_next, self._list_after_find = self._list_after_find, False
        self.on_find_finished()
        self.show_found(refs, ())
        if len(refs) == 1 and self.ctx.vm == refs[0]:
            self.ctx.check_early(refs[0], job)
            if list_next:
                # The list once the check's answers are read: asked for now, its answer (and
                # vCenter's work on it, megabytes at 10,000 VMs) would compete with the check's
                # and with painting the verdict for the cores.
                self._list_after_find, list_next = True, False
                job.finished.connect(self.on_early_check_finished)
        else:
            job.cancel()
        if list_next:
            self._start_list()

    @Slot()
    def on_early_check_finished(self) -> None:
        if self._list_after_find:
            self._list_after_find = False
            self._start_list()

    @Slot(object)
    def on_find_failed(self, exc: object) -> None:
        if isinstance(exc, VmNotFound):
            self.show_found([], exc.close_matches)
            return
        msg, nxt = _words(exc)
        self.find_note.setText(f"{msg} {nxt}".strip())

    @Slot()
    def on_find_finished(self) -> None:
        self._find_job = None
        self.find_button.setEnabled(bool(self.find_edit.text().strip()))
        if self._list_after_find:
            self._list_after_find = False
            self._start_list()

    def show_found(self, refs: Sequence[VmRef], close: Sequence[str]) -> None:
        """List what the find returned; one exact hit is selected at once."""
        self.found_list.clear()
        names = [ref.name for ref in refs]
        for ref in refs:
            # Words first: the name, and where it runs when the list has it (two VMs of one
            # name differ by host); the managed object id is in the tooltip.
            row = self.model.row_of_moref(ref.moref)
            host = self.model.vm(row).host if row is not None and row >= 0 else ""
            text = f"{ref.name}  ·  on {host}" if host else ref.name
            if not host and names.count(ref.name) > 1:
                text += f"  ·  {names[: refs.index(ref) + 1].count(ref.name)} of "
                text += str(names.count(ref.name))
            item = QListWidgetItem(text)
            item.setToolTip(f"vSphere id {ref.moref}")
            item.setData(_MOREF_ROLE, (ref.name, ref.moref))
            self.found_list.addItem(item)
        self.found_list.setVisible(bool(refs))
        if not refs:
            hint = f" Did you mean: {', '.join(close[:5])}?" if close else ""
            self.find_note.setText(f"No VM matches “{self.find_edit.text().strip()}”.{hint}")
        elif len(refs) == 1:
            self.find_note.setText("Found one VM; it is selected.")
            self.found_list.setCurrentRow(0)
        else:
            self.find_note.setText(f"Found {len(refs)} VMs: pick one.")
        self._pending_select = None

    @Slot(QListWidgetItem, QListWidgetItem)
    def on_found_list_current_changed(
        self, current: QListWidgetItem | None, _previous: QListWidgetItem | None
    ) -> None:
        if current is None:
            return
        name, moref = current.data(_MOREF_ROLE)
        if not self._select_moref(moref):
            self.table.clearSelection()
            self._choose(VmRef(name, moref))

    @Slot(QListWidgetItem)
    def on_found_list_activated(self, _item: QListWidgetItem) -> None:
        self.go_next()


def _words(exc: object) -> tuple[str, str]:
    if isinstance(exc, VsphereError):
        return exc.message, exc.next_step
    return (
        f"The request failed ({type(exc).__name__}).",
        "Try again; if it keeps failing, "
        "open the log from the Help menu and send it to your vSphere team.",
    )


def _list_rows(
    session: object, gateway: Gateway[Any], report: Callable[[list[PickerRow]], None]
) -> list[VmSummary]:
    """The VM list, its rows made as they arrive on the thread that reads them (a page of
    10,000 rows costs the GUI thread only their insertion)."""
    return gateway.list_vms(session, lambda vms: report(picker_rows(vms)))
