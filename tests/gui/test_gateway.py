"""The real gateway without the lab: who picks the resolution variant, how the technician's
consent decides the steps, and that a guest password never shows in a repr.

The gateway against the lab (apply, undo, progress) is in ``test_gateway_lab.py``.
"""

from __future__ import annotations

from tests.helpers.facts import make_facts, make_video, privileges
from wizard.kb import assess
from wizard.kb.facts import VmFacts
from wizard.kb.model import Remedy, RemedyId
from wizard.ui.gateway import VsphereGateway
from wizard.vsphere.results import ApplyRequest, GuestCredentials

SECRET = "Guest-Pa55!"


def _remedy(facts: VmFacts, rid: RemedyId) -> Remedy:
    return next(r for r in VsphereGateway().judge(facts).remedies if r.id == rid)


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
    left_out = gateway.remedies(assess(facts), facts)
    assert next(r for r in left_out if r.id == RemedyId.LOWER_RESOLUTION).variant == "guest"
    chosen = gateway.remedies(assess(facts), facts, lower_resolution_variant="cap")
    assert next(r for r in chosen if r.id == RemedyId.LOWER_RESOLUTION).variant == "cap"


def test_a_guest_password_never_shows_in_a_repr() -> None:
    login = GuestCredentials(r".\nurse3", SECRET)
    facts = make_facts()
    request = ApplyRequest(
        facts, _remedy(facts, RemedyId.LOWER_RESOLUTION), guest_credentials=login
    )
    assert SECRET not in repr(login)
    assert SECRET not in repr(request)
    assert SECRET not in str(request)
    assert r".\\nurse3" in repr(login)


def test_the_steps_follow_the_consent() -> None:
    gateway = VsphereGateway()
    off_tools = make_facts(tools_running=False)
    remedy = _remedy(off_tools, RemedyId.RAISE_BUFFER)

    def ids(request: ApplyRequest) -> list[str]:
        return [s.id for s in gateway.steps(request)]

    clean = ApplyRequest(off_tools, remedy, allow_shutdown=True)
    assert ids(clean) == ["reread", "shutdown", "reconfigure", "power_on", "verify"]
    hard = ApplyRequest(
        off_tools, remedy, allow_shutdown=True, allow_hard_poweroff=True, leave_powered_off=True
    )
    assert ids(hard) == ["reread", "power_off", "reconfigure", "verify"]
    # With Tools running, a hard power-off consent changes nothing: the guest shuts down cleanly.
    running = make_facts(tools_running=True)
    hard_running = ApplyRequest(running, remedy, allow_shutdown=True, allow_hard_poweroff=True)
    assert ids(hard_running)[:2] == ["reread", "shutdown"]
    # A suspended VM can only be powered off hard.
    suspended = make_facts(power_state="suspended", tools_running=False)
    hard_suspended = ApplyRequest(suspended, remedy, allow_hard_poweroff=True)
    assert ids(hard_suspended)[:2] == ["reread", "power_off"]


def test_the_undo_steps_put_back_the_changes_with_the_same_power_handling() -> None:
    gateway = VsphereGateway()
    facts = make_facts(tools_running=False)
    changes = _remedy(facts, RemedyId.RAISE_BUFFER).changes
    plain = [s.id for s in gateway.undo_steps(changes, facts)]
    assert plain == ["reread", "shutdown", "reconfigure", "power_on", "verify"]
    hard = gateway.undo_steps(changes, facts, allow_hard_poweroff=True, leave_powered_off=True)
    assert [s.id for s in hard] == ["reread", "power_off", "reconfigure", "verify"]
