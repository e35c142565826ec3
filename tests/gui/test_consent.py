"""Consent without the lab: who picks the resolution variant, how consent reaches the executor,
and that a guest password never shows in a repr."""

from __future__ import annotations

import pytest

from tests.helpers.facts import make_facts, make_video, privileges
from wizard.kb import assess
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy, RemedyId
from wizard.ui.executor import Consent, GuestLogin, consenting
from wizard.ui.gateway import VsphereGateway, missing_backend

_missing = missing_backend()
pytestmark = pytest.mark.skipif(_missing is not None, reason=f"{_missing} is not written yet")

SECRET = "Guest-Pa55!"


def _remedies(facts: VmFacts) -> tuple[Remedy, ...]:
    return VsphereGateway().judge(facts).remedies


def test_the_rules_choose_the_resolution_variant_unless_the_technician_did() -> None:
    facts = make_facts(
        screen=(1920, 1080),
        video=make_video(num_displays=1, video_ram_kb=16384),
        privileges=privileges(POWER_OFF=False, POWER_ON=False),
    )
    gateway = VsphereGateway()
    checked = gateway.judge(facts)
    lower = next(r for r in checked.remedies if r.id == RemedyId.LOWER_RESOLUTION)
    assert lower.variant == "guest"  # running, and this account may not power it off and on
    assert lower.recommended
    chosen = gateway.remedies(assess(facts), facts, lower_resolution_variant="cap")
    assert next(r for r in chosen if r.id == RemedyId.LOWER_RESOLUTION).variant == "cap"


def test_a_guest_password_never_shows_in_a_repr() -> None:
    login = GuestLogin(r".\nurse3", SECRET)
    consent = Consent(shutdown=True, guest_login=login)
    assert SECRET not in repr(login)
    assert SECRET not in repr(consent)
    assert SECRET not in str(consent)
    assert r".\\nurse3" in repr(login)


def test_the_product_executor_takes_the_consent_and_plans_by_it() -> None:
    from wizard.vsphere.executor import GuestCredentials, GuiExecutor

    executor = GuiExecutor()
    assert consenting(executor) is executor
    facts = make_facts(tools_running=False)
    remedy = next(r for r in _remedies(facts) if r.id == RemedyId.RAISE_BUFFER)
    ids = [s.id for s in executor.steps(remedy, facts)]
    assert ids == ["reread", "shutdown", "reconfigure", "power_on", "verify"]
    hard = Consent(shutdown=True, hard_poweroff=True, leave_powered_off=True)
    ids = [s.id for s in executor.steps(remedy, facts, hard)]
    assert ids == ["reread", "power_off", "reconfigure", "verify"]
    # With Tools running, a hard power-off consent changes nothing: the guest shuts down cleanly.
    running = make_facts(tools_running=True)
    ids = [s.id for s in executor.steps(remedy, running, hard)]
    assert ids[:2] == ["reread", "shutdown"]

    fields = executor._consent(Consent(shutdown=False, guest_login=GuestLogin("u", SECRET)))
    assert fields["allow_shutdown"] is False
    assert fields["allow_hard_poweroff"] is False
    assert fields["guest_credentials"] == GuestCredentials("u", SECRET)
    assert executor._consent(None) == {"allow_shutdown": True}  # a clean shutdown at most


def test_an_executor_without_consent_gets_none() -> None:
    from tests.gui.fakes import FakeExecutor

    assert consenting(FakeExecutor()) is None
    assert consenting(None) is None
