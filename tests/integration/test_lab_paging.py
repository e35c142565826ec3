"""The lab pages property reads as vCenter does, and the product follows the pages.

vCenter hands out at most ``maxObjects`` objects a page (100 when it is unset) with a token for
the rest; a client that forgot the token would show a short VM list without a word.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.vsphere_lab import running_lab, session_to, write_scenario
from tests.helpers.wire import Wire, watching
from wizard.kb.facts import VmSummary
from wizard.vsphere._pyvmomi import PC, vim, vmodl
from wizard.vsphere.collector import inventory_filter, retrieve
from wizard.vsphere.inventory import FIRST_ROWS, list_vms
from wizard.vsphere.session import Session

pytestmark = pytest.mark.lab

VMS = 253
"""250 filler VMs and the scenario's three."""


def _names_spec(s: Session) -> Any:
    return inventory_filter(s.content, {vim.VirtualMachine: ["name"]})


def _first_page(s: Session, max_objects: int | None) -> Any:
    options = PC.RetrieveOptions(maxObjects=max_objects)
    return s.content.propertyCollector.RetrievePropertiesEx(
        specSet=[_names_spec(s)], options=options
    )


@pytest.fixture(scope="module")
def lab_info(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with running_lab(write_scenario(tmp_path_factory.mktemp("paging"), filler_vms=250)) as info:
        yield info


def test_pages_hold_max_objects_and_the_tokens_lead_to_every_vm(lab_info) -> None:  # type: ignore[no-untyped-def]
    with session_to(lab_info, timeout=30.0) as s:
        collector = s.content.propertyCollector
        page = _first_page(s, 100)
        sizes = [len(page.objects)]
        names = [o.propSet[0].val for o in page.objects]
        while page.token:
            page = collector.ContinueRetrievePropertiesEx(token=page.token)
            sizes.append(len(page.objects))
            names.extend(o.propSet[0].val for o in page.objects)
        assert sizes == [100, 100, VMS - 200]
        assert len(set(names)) == VMS


def test_an_unset_max_objects_pages_at_a_hundred_as_vcenter_does(lab_info) -> None:  # type: ignore[no-untyped-def]
    with session_to(lab_info, timeout=30.0) as s:
        page = _first_page(s, None)
        assert len(page.objects) == 100
        assert page.token


def test_the_product_reads_every_page_whatever_their_size(lab_info) -> None:  # type: ignore[no-untyped-def]
    with session_to(lab_info, timeout=30.0) as s:
        collector = s.content.propertyCollector
        in_pages = retrieve(collector, [_names_spec(s)], page_size=40, lean=True, simple=True)
        at_once = retrieve(collector, [_names_spec(s)])
        assert len(in_pages) == VMS
        assert sorted(o.props["name"] for o in in_pages) == sorted(o.props["name"] for o in at_once)
        assert len(list_vms(s)) == VMS


def test_a_cancelled_or_foreign_token_is_refused(lab_info) -> None:  # type: ignore[no-untyped-def]
    with session_to(lab_info, timeout=30.0) as s, session_to(lab_info, timeout=30.0) as other:
        collector = s.content.propertyCollector
        token = _first_page(s, 50).token
        with pytest.raises(vmodl.fault.InvalidArgument):
            other.content.propertyCollector.ContinueRetrievePropertiesEx(token=token)
        # Still the owner's: the foreign attempt did not spend it.
        assert len(collector.ContinueRetrievePropertiesEx(token=token).objects) == 50
        token = _first_page(s, 50).token
        collector.CancelRetrievePropertiesEx(token=token)
        with pytest.raises(vmodl.fault.InvalidArgument):
            collector.ContinueRetrievePropertiesEx(token=token)


def test_the_picker_list_shows_a_first_page_then_the_rest_each_vm_once(tmp_path: Path) -> None:
    reports: list[list[VmSummary]] = []
    # Each call costs 60 ms, as over a slow link: which request waits for which shows in the
    # wire's timings (with none, a request whose thread starts a millisecond late would seem
    # to wait for one that was simply quicker).
    scenario = write_scenario(tmp_path, filler_vms=250)
    with (
        running_lab(scenario, delay_ms=60) as info,
        session_to(info, timeout=30.0) as s,
        watching() as wire,
    ):
        rows = list_vms(s, report=reports.append)
        _released(wire)
    shown = [r for page in reports for r in page]
    assert sorted(r.moref for r in shown) == sorted(r.moref for r in rows)
    assert len({r.moref for r in shown}) == len(shown) == VMS
    assert len(reports) in (1, 2)  # the first page, then the rest (or all at once if first)
    if len(reports) == 2:
        assert len(reports[0]) == FIRST_ROWS
    # Every row shown names its host and cluster, the first page's too.
    assert all(r.host and r.cluster for r in shown)
    # Three reads at once (first page, hosts, whole list); the first page's rest released.
    assert wire.calls["RetrievePropertiesEx"] == 3
    assert wire.calls["CancelRetrievePropertiesEx"] == 1
    assert "ContinueRetrievePropertiesEx" not in wire.calls
    assert len(wire.critical_path()) <= 2


def test_the_first_rows_do_not_wait_for_the_rest_of_their_answer_to_be_released(
    tmp_path: Path,
) -> None:
    # The first page's rest is released (CancelRetrievePropertiesEx) once the page is read;
    # over a slow link that is one more latency, which the first rows must not wait for. The
    # lab answers the release 3 s late, far later than anything else here.
    reported: list[float] = []
    scenario = write_scenario(tmp_path, filler_vms=300)
    with (
        running_lab(scenario, method_delays={"CancelRetrievePropertiesEx": 3000}) as info,
        session_to(info, timeout=30.0) as s,
        watching() as wire,
    ):
        started = time.perf_counter()
        rows = list_vms(s, report=lambda _rows: reported.append(time.perf_counter()))
        listed = time.perf_counter()
        released = _released(wire)
    assert len(rows) == 303
    assert reported[0] < released, (
        f"first rows after {reported[0] - started:.2f} s, the release answered after "
        f"{released - started:.2f} s"
    )
    # Nor does the whole list: the release goes on beside it.
    assert listed < released


def _released(wire: Wire) -> float:
    """When the answer to the (one) release of a result set arrived, waiting for it: it is
    sent by the thread that read the first page, once that page was handed over."""
    deadline = time.monotonic() + 10
    while True:
        ends = [end for _, end, name in wire.spans if name == "CancelRetrievePropertiesEx"]
        if ends:
            return ends[0]
        assert time.monotonic() < deadline, "the rest of the answer was never released"
        time.sleep(0.05)


class _Stop(Exception):
    pass


def test_a_reading_stopped_midway_releases_the_rest_of_the_answer(lab_info) -> None:  # type: ignore[no-untyped-def]
    # The next page is asked for while the caller reads the one before: a caller that gives up
    # (an error of its own) must not leave the rest of the answer held on the server.
    pages: list[int] = []

    def on_page(objects: list[Any]) -> None:
        pages.append(len(objects))
        if len(pages) == 2:
            raise _Stop

    with session_to(lab_info, timeout=30.0) as s, watching() as wire:
        with pytest.raises(_Stop):
            retrieve(
                s.content.propertyCollector, [_names_spec(s)], page_size=50, lean=True,
                on_page=on_page,
            )  # fmt: skip
        # The reading thread ends after the request it may be in, then releases the rest.
        deadline = time.monotonic() + 10
        while not wire.calls["CancelRetrievePropertiesEx"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pages == [50, 50]
        assert wire.calls["CancelRetrievePropertiesEx"] == 1
        # No more than the pages read ahead were asked for, not the whole answer.
        assert wire.calls["ContinueRetrievePropertiesEx"] < VMS // 50
        # The session goes on as before.
        assert len(retrieve(s.content.propertyCollector, [_names_spec(s)], lean=True)) == VMS
