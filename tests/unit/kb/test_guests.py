"""Guest OS ids against condition C2 (WDDM)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.kb.guests import GuestClass, classify, friendly_name

ARTICLE = [
    "winVistaGuest",
    "winVista64Guest",
    "winLonghornGuest",
    "winLonghorn64Guest",
    "windows7Guest",
    "windows7_64Guest",
    "windows7Server64Guest",
]
LATER = [
    "windows8Guest",
    "windows8_64Guest",
    "windows8Server64Guest",
    "windows9Guest",
    "windows9_64Guest",
    "windows9Server64Guest",
    "windows2019srv_64Guest",
    "windows2019srvNext_64Guest",
    "windows2022srvNext_64Guest",
    "windows11_64Guest",
    "windows12_64Guest",
    "windowsHyperVGuest",
]
NOT_WDDM = [
    "winXPProGuest",
    "winXPPro64Guest",
    "winXPHomeGuest",
    "winNetStandardGuest",
    "winNetEnterprise64Guest",
    "winNetWebGuest",
    "win2000ProGuest",
    "win2000ServGuest",
    "win2000AdvServGuest",
    "win98Guest",
    "win95Guest",
    "winNTGuest",
    "dosGuest",
    "rhel8_64Guest",
    "ubuntu64Guest",
    "otherLinux64Guest",
    "other5xLinux64Guest",
    "otherGuest",
    "darwin64Guest",
    "someFutureLinux64Guest",
]


@pytest.mark.parametrize("guest_id", ARTICLE)
def test_the_articles_windows_versions_are_wddm(guest_id: str) -> None:
    info = classify(guest_id)
    assert info.cls is GuestClass.WDDM_ARTICLE
    assert info.wddm is True


@pytest.mark.parametrize("guest_id", LATER)
def test_later_windows_are_wddm_but_newer_than_the_article(guest_id: str) -> None:
    info = classify(guest_id)
    assert info.cls is GuestClass.WDDM_LATER
    assert info.wddm is True


@pytest.mark.parametrize("guest_id", NOT_WDDM)
def test_xp_2003_older_windows_and_non_windows_are_not_wddm(guest_id: str) -> None:
    info = classify(guest_id)
    assert info.cls is GuestClass.NOT_WDDM
    assert info.wddm is False


def test_an_unlisted_future_windows_is_treated_as_later_wddm() -> None:
    assert classify("windows15_64Guest").cls is GuestClass.WDDM_LATER


@pytest.mark.parametrize("guest_id", [None, "", "   ", "winFutureGuest"])
def test_missing_or_unrecognised_windows_ids_are_unknown(guest_id: str | None) -> None:
    info = classify(guest_id)
    assert info.cls is GuestClass.UNKNOWN
    assert info.wddm is None


@pytest.mark.parametrize(
    ("guest_id", "name"),
    [
        ("windows7_64Guest", "Windows 7 (64-bit)"),
        ("windows7Server64Guest", "Windows Server 2008 R2"),
        ("winLonghornGuest", "Windows Server 2008"),
        ("windows9_64Guest", "Windows 10 (64-bit)"),
        ("winNetStandardGuest", "Windows Server 2003 Standard"),
        ("rhel8_64Guest", "Red Hat Enterprise Linux 8 (64-bit)"),
        ("fedora64Guest", "Fedora (64-bit)"),
        ("netware6Guest", "Novell NetWare 6"),
        ("debian6_64Guest", "Debian 6 (64-bit)"),
        ("debian5Guest", "Debian 5"),
        ("oracleLinux9_64Guest", "Oracle Linux 9 (64-bit)"),
        ("centos7_64Guest", "CentOS 7 (64-bit)"),
        ("ubuntuGuest", "Ubuntu Linux"),
        ("windows13_64Guest", "A later Windows (64-bit)"),
        ("winFutureGuest", "An unrecognised Windows"),
        ("mylinux64Guest", "An unrecognised Linux (64-bit)"),
        ("zzzGuest", "An unrecognised OS"),
    ],
)
def test_friendly_names(guest_id: str, name: str) -> None:
    assert friendly_name(guest_id) == name


@given(st.text(max_size=40))
def test_a_friendly_name_never_shows_the_id(guest_id: str) -> None:
    """Whatever vSphere reports, the technician reads words, not the id itself."""
    name = friendly_name(guest_id)
    assert name
    if guest_id.strip().endswith("Guest"):
        assert guest_id.strip() not in name
