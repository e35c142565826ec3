"""The real gateway against the lab: an apply and its undo, each step reported as it ran.

The pages run these on the worker thread; here they run on the test's own thread, with the
worker's cancel token and progress callback stood in for by plain objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.apply import SCENARIO, check, journal_in, read
from tests.helpers.lab import StartLab
from tests.helpers.vsphere_lab import session_to
from wizard.kb import RemedyId
from wizard.ui.gateway import VsphereGateway
from wizard.vsphere.results import ApplyRequest, StepUpdate, UndoRequest

pytestmark = pytest.mark.lab


class NeverCancelled:
    cancelled = False


def test_apply_and_undo_report_every_planned_step(start_lab: StartLab, tmp_path: Path) -> None:
    lab = start_lab(SCENARIO)
    gateway = VsphereGateway(journal=journal_in(tmp_path))  # the test's own journal
    with session_to(lab) as session:
        facts, remedy = check(session, "Single W7", RemedyId.RAISE_BUFFER)
        request = ApplyRequest(facts, remedy, allow_shutdown=True)
        planned = [s.id for s in gateway.steps(request)]
        reported: list[StepUpdate] = []

        result = gateway.apply(session, request, cancel=NeverCancelled(), report=reported.append)
        assert result.ok, result.message
        assert result.verified
        assert [s.step for s in result.steps] == planned
        assert {u.step for u in reported if u.state == "done"} == set(planned)
        assert result.journal_id is not None

        after = result.facts_after
        undo_planned = [s.id for s in gateway.undo_steps(result.changes, after)]
        undone = gateway.undo(
            session,
            UndoRequest(result.journal_id, after, allow_shutdown=True),
            cancel=NeverCancelled(),
            report=reported.append,
        )
        assert undone.ok, undone.message
        assert [s.step for s in undone.steps] == undo_planned
        assert read(session, "Single W7").extra_config == facts.extra_config
