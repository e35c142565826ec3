"""What the article's rules conclude: assessments, remedies, caveats and changes.

The string values of the enums below are the stable ids of ``check --json`` (``serialize.py``):
scripts and tests rely on them, so never rename one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from wizard.kb.facts import EvidenceItem

ARTICLE_ID = "KB 2005741 (now 308477)"
"""The vendor article this product implements, for help pages and reports."""

DEFAULT_CPT_CACHE_BYTES = 8 * 1024 * 1024
SINGLE_DISPLAY_CPT_CACHE_BYTES = 16_777_216
DUAL_1600x1200_CPT_CACHE_BYTES = 20_971_520
MAX_SINGLE_SCREEN_PIXELS = 1280 * 1024
CAP_VIDEO_RAM_KB = 5120
"""Video memory for one 1280x1024 screen at 4 bytes a pixel."""

CPT_CACHE_KEY = "migrate.baseCptCacheSize"
MKS_3D_KEY = "mks.enable3d"
RULE_EXTRA_KEYS = (CPT_CACHE_KEY, MKS_3D_KEY)
"""The ``config.extraConfig`` keys the rules and remedies read (``VmFacts.extra``): a risk scan
of thousands of VMs reads no others (``tests/unit/kb/test_properties.py`` checks that the other
keys change nothing)."""


class Verdict(enum.StrEnum):
    CONFIRMED = "confirmed"
    AFFECTED = "affected"
    MITIGATED = "mitigated"
    AT_RISK = "at_risk"
    POSSIBLY_AFFECTED = "possibly_affected"
    NOT_AFFECTED = "not_affected"

    @property
    def label(self) -> str:
        """The verdict in words, e.g. "Possibly affected" (the id is for scripts only)."""
        return _VERDICT_LABELS[self]

    @property
    def meaning(self) -> str:
        """What it means for this VM, e.g. "not enough is known to rule it out"."""
        return _VERDICT_MEANINGS[self]

    @property
    def words(self) -> str:
        """Label and meaning: "Possibly affected: not enough is known to rule it out"."""
        return f"{self.label}: {self.meaning}"


_VERDICT_LABELS = {
    Verdict.CONFIRMED: "Confirmed",
    Verdict.AFFECTED: "Affected",
    Verdict.MITIGATED: "Mitigated",
    Verdict.AT_RISK: "At risk",
    Verdict.POSSIBLY_AFFECTED: "Possibly affected",
    Verdict.NOT_AFFECTED: "Not affected",
}
_VERDICT_MEANINGS = {
    Verdict.CONFIRMED: "vMotion of this VM has already failed for this reason",
    Verdict.AFFECTED: "vMotion of this VM will fail for this reason",
    Verdict.MITIGATED: "the conditions hold, but a workaround is in place",
    Verdict.AT_RISK: "fine today, affected after an upgrade to hardware version 8",
    Verdict.POSSIBLY_AFFECTED: "not enough is known to rule it out",
    Verdict.NOT_AFFECTED: "this failure does not apply to this VM",
}
"""The one wording of each verdict: the check page, the ticket, the report and the command line."""


class ConditionId(enum.StrEnum):
    DISPLAY = "C1_display"
    WDDM = "C2_wddm"
    HW8 = "C3_hw8"
    NO_3D = "C4_3d_off"


class ConditionState(enum.StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class RemedyId(enum.StrEnum):
    LOWER_RESOLUTION = "lower_resolution"
    STAY_ON_HW7 = "stay_on_hw7"
    RAISE_BUFFER = "raise_buffer"
    ENABLE_3D = "enable_3d"


class CaveatId(enum.StrEnum):
    POWER_OFF_REQUIRED = "power_off_required"
    USER_LOSES_RESOLUTION = "user_loses_resolution"
    NOT_DURABLE = "not_durable"
    ESTIMATE_BEYOND_ARTICLE = "estimate_beyond_article"
    OVERHEAD_256MB = "overhead_256mb"
    HA_ADMISSION_CONTROL = "ha_admission_control"
    CPU_WITHOUT_SSE41 = "cpu_without_sse41"
    RESOLUTION_ABOVE_3D_MAX = "resolution_above_3d_max"
    DOWNGRADE_NOT_IN_PLACE = "downgrade_not_in_place"
    TOOLS_NEEDED = "tools_needed"


RISK_BADGES: dict[CaveatId, str] = {
    CaveatId.CPU_WITHOUT_SSE41: "Host without SSE4.1",
    CaveatId.HA_ADMISSION_CONTROL: "HA admission control",
    CaveatId.RESOLUTION_ABOVE_3D_MAX: "Screen above 3D's limit",
    CaveatId.TOOLS_NEEDED: "Needs VMware Tools",
    CaveatId.NOT_DURABLE: "Not durable",
    CaveatId.USER_LOSES_RESOLUTION: "User loses resolution",
}
"""The caveats that, when they apply, are a risk worth a badge wherever the fix is shown
(Choose fix, Ready, the test vMotion); the others are read in the caveat list."""


class Privilege(enum.StrEnum):
    """vSphere privilege ids the remedies need, as vCenter names them in ``NoPermission``."""

    ADVANCED_CONFIG = "VirtualMachine.Config.AdvancedConfig"
    EDIT_DEVICE = "VirtualMachine.Config.EditDevice"
    POWER_OFF = "VirtualMachine.Interact.PowerOff"
    POWER_ON = "VirtualMachine.Interact.PowerOn"
    GUEST_EXECUTE = "VirtualMachine.GuestOperations.Execute"
    UPGRADE_POLICY = "VirtualMachine.Config.UpgradeVirtualHardware"
    DATASTORE_BROWSE = "Datastore.Browse"


class ChangeTarget(enum.StrEnum):
    """What part of the VM a change touches."""

    EXTRA_CONFIG = "extraConfig"
    VIDEO_CARD = "videoCard"
    UPGRADE_POLICY = "scheduledHardwareUpgradeInfo"
    GUEST = "guest"


@dataclass(frozen=True)
class Condition:
    """One of the article's four conditions, judged for this VM.

    Attributes:
        value: the value that decided it, as a short human string
            (e.g. ``"1920x1200, 2 displays"``).
        source: the property path(s) it came from
            (e.g. ``"guest.screen; config.hardware.device[500]"``).
        detail: why this value gives this state, in our words.
        why_it_matters: what this condition means for the failure, for a technician.
    """

    id: ConditionId
    state: ConditionState
    value: str
    source: str
    detail: str
    why_it_matters: str


@dataclass(frozen=True)
class Assessment:
    """The verdict for one VM, with every condition and the evidence behind it.

    Attributes:
        mitigations: mitigations found in place, in words (e.g. ``"migrate.baseCptCacheSize is
            16777216 bytes, enough for 1920x1200 on one display"``).
        reason: one sentence saying why this verdict.
        notes: anything else worth telling (guest id mismatch, unparsable extra-config value,
            Windows newer than the article, ...).
        required_cpt_cache_bytes: the checkpoint buffer the displays need (``sizing.py``),
            None when the display demand is unknown.
    """

    vm_name: str
    vm_moref: str
    verdict: Verdict
    reason: str
    conditions: tuple[Condition, ...]
    mitigations: tuple[str, ...]
    evidence: tuple[EvidenceItem, ...]
    notes: tuple[str, ...]
    required_cpt_cache_bytes: int | None

    def condition(self, cid: ConditionId) -> Condition:
        for c in self.conditions:
            if c.id == cid:
                return c
        raise KeyError(cid)


@dataclass(frozen=True)
class Change:
    """One setting a remedy changes, with values as vCenter stores them.

    ``before`` is None when the setting does not exist yet (an extra-config key that is not set);
    ``after`` is None when the change removes it (undo of an added key).
    """

    target: ChangeTarget
    key: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Caveat:
    """A caveat of a remedy and whether it applies to this VM, with the fact that decided it."""

    id: CaveatId
    applies: bool
    detail: str


@dataclass(frozen=True)
class Remedy:
    """One of the article's four workarounds, judged for this VM.

    Attributes:
        title: short name for the technician.
        summary: what it does, one sentence.
        available: whether the product can apply it to this VM.
        why_not: why it is not available (None when available).
        recommended: at most one remedy per VM is recommended; none for ``mitigated`` or
            ``not_affected``.
        reason: why it is (or is not) recommended.
        needs_power_off: whether applying it needs the VM powered off.
        required_privileges: privileges needed to apply it (including power handling if the VM
            is on and must be shut down).
        missing_privileges: the subset this user lacks, from vCenter itself.
        changes: the changes it makes, before -> after (empty when already in effect).
        caveats: every caveat of this remedy, each judged for this VM.
        variant: for ``lower_resolution``: ``"cap"`` or ``"guest"``; None otherwise.
        manual_steps: steps the product cannot do through the API and shows instead (e.g. the
            ``/etc/vmware/config`` line and its hosts).
    """

    id: RemedyId
    title: str
    summary: str
    available: bool
    why_not: str | None
    recommended: bool
    reason: str
    needs_power_off: bool
    required_privileges: tuple[str, ...]
    missing_privileges: tuple[str, ...]
    changes: tuple[Change, ...]
    caveats: tuple[Caveat, ...]
    variant: str | None = None
    manual_steps: tuple[str, ...] = ()

    def caveat(self, cid: CaveatId) -> Caveat | None:
        for c in self.caveats:
            if c.id == cid:
                return c
        return None
