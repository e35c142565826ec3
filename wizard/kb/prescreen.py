"""The cheap flag of the VM picker: may this VM be affected or at risk, judging from the bulk read?

The bulk read gives only the guest OS ids and the hardware version, so the flag errs on the side
of showing: it is raised when C2 may hold (WDDM or unknown guest) and the hardware version is
one the article or its later edition concerns (vmx-07 to vmx-12) or cannot be read. Every VM
that the full check finds affected, possibly affected, at risk or mitigated is flagged.
"""

from __future__ import annotations

from wizard.kb.guests import GuestClass, classify
from wizard.kb.values import parse_hardware_version

FIRST_FLAGGED_VERSION = 7
LAST_FLAGGED_VERSION = 12


def prescreen(
    guest_id: str | None, tools_guest_id: str | None, hardware_version: str | None
) -> bool:
    """True when the VM may be affected or at risk, on the bulk read alone.

    Args:
        guest_id: ``config.guestId``.
        tools_guest_id: ``guest.guestId``; preferred when Tools report it, as in C2.
        hardware_version: ``config.version``, e.g. ``"vmx-08"``.
    """
    version = parse_hardware_version(hardware_version)
    # An unreadable version may be any version: the full check calls it unknown, so flag it.
    if version is not None and not FIRST_FLAGGED_VERSION <= version <= LAST_FLAGGED_VERSION:
        return False
    preferred = tools_guest_id if tools_guest_id and tools_guest_id.strip() else guest_id
    return classify(preferred).cls is not GuestClass.NOT_WDDM
