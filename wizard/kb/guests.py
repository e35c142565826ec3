"""Which guest OS ids drive the display with WDDM (condition C2), and their friendly names.

The article names Windows Vista, 2008, 7 and 2008 R2. Windows 8 / 2012 and later also use WDDM:
we treat them as WDDM and say the article predates them (README, how the article is read). Windows
XP and 2003 use the older XPDM driver model; earlier Windows, Linux and every other OS have no
WDDM driver.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class GuestClass(enum.Enum):
    """How a guest OS id stands against condition C2."""

    WDDM_ARTICLE = "wddm_article"
    """A Windows version the article names."""
    WDDM_LATER = "wddm_later"
    """A later Windows: WDDM, but newer than the article."""
    NOT_WDDM = "not_wddm"
    UNKNOWN = "unknown"
    """No id, or a Windows id we do not recognise."""


@dataclass(frozen=True)
class GuestInfo:
    """A guest OS id, classified.

    Attributes:
        guest_id: the id as vSphere reports it.
        name: a friendly name for display.
        cls: its standing against C2.
    """

    guest_id: str
    name: str
    cls: GuestClass

    @property
    def wddm(self) -> bool | None:
        """True for WDDM guests, False for others, None when unknown."""
        if self.cls is GuestClass.UNKNOWN:
            return None
        return self.cls is not GuestClass.NOT_WDDM


_ARTICLE_WDDM: dict[str, str] = {
    "winVistaGuest": "Windows Vista",
    "winVista64Guest": "Windows Vista (64-bit)",
    "winLonghornGuest": "Windows Server 2008",
    "winLonghorn64Guest": "Windows Server 2008 (64-bit)",
    "windows7Guest": "Windows 7",
    "windows7_64Guest": "Windows 7 (64-bit)",
    "windows7Server64Guest": "Windows Server 2008 R2",
}

_LATER_WDDM: dict[str, str] = {
    "windows8Guest": "Windows 8",
    "windows8_64Guest": "Windows 8 (64-bit)",
    "windows8Server64Guest": "Windows Server 2012",
    "windows9Guest": "Windows 10",
    "windows9_64Guest": "Windows 10 (64-bit)",
    "windows9Server64Guest": "Windows Server 2016",
    "windows2019srv_64Guest": "Windows Server 2019",
    "windows2019srvNext_64Guest": "Windows Server 2022",
    "windows2022srvNext_64Guest": "Windows Server 2025",
    "windows11_64Guest": "Windows 11",
    "windows12_64Guest": "Windows 12",
    "windowsHyperVGuest": "Hyper-V Server",
}

_NOT_WDDM: dict[str, str] = {
    "dosGuest": "MS-DOS",
    "win31Guest": "Windows 3.1",
    "win95Guest": "Windows 95",
    "win98Guest": "Windows 98",
    "winMeGuest": "Windows Me",
    "winNTGuest": "Windows NT 4",
    "win2000ProGuest": "Windows 2000 Professional",
    "win2000ServGuest": "Windows 2000 Server",
    "win2000AdvServGuest": "Windows 2000 Advanced Server",
    "winXPHomeGuest": "Windows XP Home",
    "winXPProGuest": "Windows XP Professional",
    "winXPPro64Guest": "Windows XP Professional (64-bit)",
    "winNetWebGuest": "Windows Server 2003 Web",
    "winNetStandardGuest": "Windows Server 2003 Standard",
    "winNetEnterpriseGuest": "Windows Server 2003 Enterprise",
    "winNetDatacenterGuest": "Windows Server 2003 Datacenter",
    "winNetBusinessGuest": "Windows Small Business Server 2003",
    "winNetStandard64Guest": "Windows Server 2003 Standard (64-bit)",
    "winNetEnterprise64Guest": "Windows Server 2003 Enterprise (64-bit)",
    "winNetDatacenter64Guest": "Windows Server 2003 Datacenter (64-bit)",
    "otherGuest": "Other",
    "otherGuest64": "Other (64-bit)",
    "otherLinuxGuest": "Other Linux",
    "otherLinux64Guest": "Other Linux (64-bit)",
    "other3xLinux64Guest": "Other Linux 3.x (64-bit)",
    "other4xLinux64Guest": "Other Linux 4.x (64-bit)",
    "other5xLinux64Guest": "Other Linux 5.x (64-bit)",
    "other26xLinux64Guest": "Other Linux 2.6 (64-bit)",
    "centos64Guest": "CentOS (64-bit)",
    "rhel6_64Guest": "Red Hat Enterprise Linux 6 (64-bit)",
    "rhel7_64Guest": "Red Hat Enterprise Linux 7 (64-bit)",
    "rhel8_64Guest": "Red Hat Enterprise Linux 8 (64-bit)",
    "rhel9_64Guest": "Red Hat Enterprise Linux 9 (64-bit)",
    "sles12_64Guest": "SUSE Linux Enterprise 12 (64-bit)",
    "sles15_64Guest": "SUSE Linux Enterprise 15 (64-bit)",
    "ubuntu64Guest": "Ubuntu Linux (64-bit)",
    "debian10_64Guest": "Debian 10 (64-bit)",
    "debian11_64Guest": "Debian 11 (64-bit)",
    "debian12_64Guest": "Debian 12 (64-bit)",
    "vmwarePhoton64Guest": "VMware Photon OS (64-bit)",
    "freebsd12_64Guest": "FreeBSD 12 (64-bit)",
    "solaris11_64Guest": "Oracle Solaris 11 (64-bit)",
    "darwin64Guest": "macOS (64-bit)",
}

# Windows ids follow vSphere's naming: "windows<N>..." from Windows 7 on, "win..." before.
# An unlisted "windows<N>" id with N >= 8 is a future Windows: WDDM, newer than the article.
_WINDOWS_NUMBERED = re.compile(r"windows(\d+)", re.IGNORECASE)
_WINDOWS_PREFIX = "win"


def classify(guest_id: str | None) -> GuestInfo:
    """Classify a vSphere guest OS id against condition C2.

    Args:
        guest_id: e.g. ``"windows7_64Guest"``; None or blank when nothing is known.

    Returns:
        The id with its friendly name and class. Unrecognised non-Windows ids are not WDDM;
        unrecognised Windows ids and missing ids are unknown.
    """
    gid = (guest_id or "").strip()
    if not gid:
        return GuestInfo("", "unknown guest OS", GuestClass.UNKNOWN)
    for table, cls in (
        (_ARTICLE_WDDM, GuestClass.WDDM_ARTICLE),
        (_LATER_WDDM, GuestClass.WDDM_LATER),
        (_NOT_WDDM, GuestClass.NOT_WDDM),
    ):
        if gid in table:
            return GuestInfo(gid, table[gid], cls)
    numbered = _WINDOWS_NUMBERED.match(gid)
    if numbered is not None and len(numbered.group(1)) <= 4 and int(numbered.group(1)) >= 8:
        return GuestInfo(gid, _with_bits("A later Windows", gid), GuestClass.WDDM_LATER)
    if gid.lower().startswith(_WINDOWS_PREFIX):
        return GuestInfo(gid, _with_bits("An unrecognised Windows", gid), GuestClass.UNKNOWN)
    return GuestInfo(gid, _fallback_name(gid), GuestClass.NOT_WDDM)


def friendly_name(guest_id: str | None) -> str:
    """A name for display, e.g. ``"Windows 7 (64-bit)"`` for ``windows7_64Guest``."""
    return classify(guest_id).name


# Families of ids vSphere adds a number to with each release ("debian6_64Guest",
# "oracleLinux9_64Guest"): an id not listed above is read as family, release and width, so the
# technician reads "Debian 6 (64-bit)", never the id.
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("oraclelinux", "Oracle Linux"),
    ("opensuse", "openSUSE"),
    ("almalinux", "AlmaLinux"),
    ("rockylinux", "Rocky Linux"),
    ("asianux", "Asianux"),
    ("debian", "Debian"),
    ("ubuntu", "Ubuntu Linux"),
    ("centos", "CentOS"),
    ("fedora", "Fedora"),
    ("rhel", "Red Hat Enterprise Linux"),
    ("sles", "SUSE Linux Enterprise"),
    ("suse", "SUSE Linux"),
    ("mandriva", "Mandriva Linux"),
    ("turbolinux", "Turbolinux"),
    ("coreos", "CoreOS"),
    ("amazonlinux", "Amazon Linux"),
    ("photon", "VMware Photon OS"),
    ("freebsd", "FreeBSD"),
    ("solaris", "Oracle Solaris"),
    ("netware", "Novell NetWare"),
    ("darwin", "macOS"),
    ("vmkernel", "VMware ESXi"),
    ("os2", "OS/2"),
    ("eComStation", "eComStation"),
)
_RELEASE = re.compile(r"^(\d+)(?:x)?(?:_?64)?(?:srv|server)?guest$", re.IGNORECASE)


def _with_bits(name: str, gid: str) -> str:
    return f"{name} (64-bit)" if "64" in gid else name


def _fallback_name(gid: str) -> str:
    lowered = gid.lower()
    for prefix, family in _FAMILIES:
        if not lowered.startswith(prefix.lower()):
            continue
        rest = gid[len(prefix) :]
        if rest.lower() in ("guest", "64guest", "_64guest"):
            return _with_bits(family, rest)
        release = _RELEASE.match(rest)
        if release is not None:
            number = release.group(1)
            # "debian10" is release 10; "other26x" style ids are handled by the table.
            return _with_bits(f"{family} {int(number)}", rest.removeprefix(number))
        return _with_bits(family, rest)
    if "linux" in lowered:
        return _with_bits("An unrecognised Linux", gid)
    return _with_bits("An unrecognised OS", gid)
