"""The VM picker's cheap flag, from guest ids and hardware version only."""

from __future__ import annotations

import pytest

from wizard.kb.prescreen import prescreen


@pytest.mark.parametrize(
    ("guest_id", "tools_guest_id", "version", "flagged"),
    [
        ("windows7_64Guest", "windows7_64Guest", "vmx-08", True),
        ("windows7_64Guest", None, "vmx-07", True),
        ("windows9_64Guest", None, "vmx-12", True),
        ("windows7_64Guest", None, "vmx-13", False),
        ("windows7_64Guest", None, "vmx-04", False),
        ("winXPProGuest", None, "vmx-08", False),
        ("rhel8_64Guest", None, "vmx-08", False),
        # Tools' id wins, as in C2.
        ("winXPProGuest", "windows7_64Guest", "vmx-08", True),
        ("windows7_64Guest", "winXPProGuest", "vmx-08", False),
        ("windows7_64Guest", "  ", "vmx-08", True),
        # An unknown guest may still be WDDM: flag it.
        ("", None, "vmx-08", True),
        # An unreadable version may be anything: the full check says "unknown", so flag it.
        ("windows7_64Guest", None, "garbage", True),
        ("windows7_64Guest", None, None, True),
        ("winXPProGuest", None, None, False),
    ],
)
def test_prescreen(
    guest_id: str, tools_guest_id: str | None, version: str | None, flagged: bool
) -> None:
    assert prescreen(guest_id, tools_guest_id, version) is flagged
