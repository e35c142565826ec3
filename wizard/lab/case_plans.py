"""The plans a generated case is built to reach (a verdict and the fix the rules must
recommend), and the distractors added around it, by level (:mod:`wizard.lab.generate`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from wizard.kb.model import RemedyId, Verdict
from wizard.kb.sizing import required_for_screens
from wizard.lab.case_parts import (
    ABOVE_3D,
    ADV,
    ARTICLE_PAIR,
    BEG,
    BEYOND_PAIR_3D_OK,
    BIG_SINGLE,
    INT,
    NOT_WDDM,
    OLD_CPUS,
    SMALL,
    WDDM_ARTICLE,
    WDDM_LATER,
    CaseCluster,
    CaseDraft,
    CaseVm,
    new_cluster,
)
from wizard.lab.scenario import Difficulty


@dataclass(frozen=True)
class Plan:
    """What a case is built to reach.

    Attributes:
        name: the plan's id (for tests and the story).
        verdicts: the verdicts it may aim at (one is drawn).
        remedy: the fix the rules must recommend (None: none).
        levels: the levels it is drawn at, with its weight at each.
        draw: sets the VM's facts (and what the cluster must be) for a verdict of ``verdicts``.
    """

    name: str
    verdicts: tuple[Verdict, ...]
    remedy: RemedyId | None
    levels: dict[Difficulty, int]
    draw: Callable[[CaseDraft, Verdict], None]


_SEEN = (Verdict.CONFIRMED, Verdict.AFFECTED)


def _wddm(d: CaseDraft) -> str:
    pool = WDDM_ARTICLE if d.level is BEG else WDDM_ARTICLE + WDDM_LATER
    return d.rng.choice(pool)


def _guest(d: CaseDraft, guest: str) -> None:
    d.vm.guest_id = guest
    d.vm.tools_guest_id = guest


def _screens(d: CaseDraft, pool: Sequence[tuple[int, int]], displays: int) -> None:
    d.vm.screen = d.rng.choice(pool)
    d.vm.displays = displays
    d.vm.fit_vram()


def _pair_or_big_single(d: CaseDraft, pair_chance: float) -> None:
    """Two screens of the article's sizes with this chance, else one large screen."""
    if d.rng.random() < pair_chance:
        _screens(d, ARTICLE_PAIR, 2)
    else:
        _screens(d, BIG_SINGLE, 1)


def _needs_fix(d: CaseDraft, verdict: Verdict) -> None:
    d.vm.failed_vmotion = verdict is Verdict.CONFIRMED
    _guest(d, _wddm(d))
    d.vm.hardware_version = "vmx-08"


def _plan_classic(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _pair_or_big_single(d, 0.65)
    d.teaches.append("Check all four conditions before choosing a fix")
    d.teaches.append("The article's own figures size the checkpoint buffer: 16 MB or 20 MB")


def _plan_beyond_costly(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    why = d.rng.choice(("admission", "old_host", "big_screens"))
    if why == "big_screens":
        _screens(d, ABOVE_3D, d.rng.choice((2, 3)))
        d.teaches.append("Above 1920x1200 on two screens, 3D is not recommended")
    else:
        _screens(d, BEYOND_PAIR_3D_OK, d.rng.choice((2, 2, 3)))
        d.needs_costly_3d = True
        d.story["costly"] = why
    d.teaches.append("Beyond two 1600x1200 screens the buffer size is our estimate")


def _plan_beyond_3d(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, BEYOND_PAIR_3D_OK, d.rng.choice((2, 2, 3)))
    d.needs_free_3d = True
    d.teaches.append(
        "When the buffer size would be our estimate and 3D costs nothing here, 3D comes first"
    )
    d.teaches.append("Check each 3D caveat: admission control, SSE4.1 on every host, screen size")


def _plan_not_affected(d: CaseDraft, verdict: Verdict) -> None:
    d.vm.failed_vmotion = False
    ways = ["guest", "small_screen", "new_version"]
    if d.level is not BEG:
        ways += ["mismatch", "old_version"]
    if d.level is ADV:
        ways += ["hw7_protected", "boundary"]
    way = d.rng.choice(ways)
    d.story["not_affected"] = way
    _screens(d, ARTICLE_PAIR, 2)
    if way == "guest":
        _guest(d, d.rng.choice(NOT_WDDM))
        d.teaches.append("Only guests that drive the screen with WDDM are affected")
    elif way == "small_screen":
        _guest(d, _wddm(d))
        _screens(d, SMALL, 1)
        d.teaches.append("One screen of at most 1280x1024 does not meet the display condition")
    elif way == "boundary":
        _guest(d, _wddm(d))
        _screens(d, ((1280, 1024),), 1)
        d.teaches.append("Exactly 1280x1024 on one screen is not more than the article's limit")
    elif way == "new_version":
        _guest(d, d.rng.choice(WDDM_LATER + WDDM_ARTICLE))
        d.vm.hardware_version = d.rng.choice(("vmx-13", "vmx-14", "vmx-15", "vmx-17", "vmx-19"))
        d.teaches.append("Hardware version 13 and later are outside the article")
    elif way == "old_version":
        _guest(d, _wddm(d))
        d.vm.hardware_version = d.rng.choice(("vmx-04", "vmx-06"))
        d.teaches.append("Versions before 7 are outside the article, until an upgrade")
    elif way == "mismatch":
        d.vm.guest_id = _wddm(d)
        d.vm.tools_guest_id = d.rng.choice(NOT_WDDM[:4])
        d.story["mismatch"] = True
        d.teaches.append("When Tools and the settings disagree on the guest, Tools are believed")
    else:  # hw7_protected
        _guest(d, _wddm(d))
        d.vm.hardware_version = "vmx-07"
        d.vm.enable_3d = True
        d.teaches.append("A protection already set keeps a version 7 VM safe after an upgrade")


def _plan_mitigated(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, ARTICLE_PAIR if d.rng.random() < 0.7 else BIG_SINGLE, 2)
    assert d.vm.screen is not None
    need = -(-required_for_screens(d.vm.displays, *d.vm.screen).bytes // (1024 * 1024))
    ways = ["buffer", "card_3d"] if d.level is BEG else ["buffer", "hex", "card_3d", "mks"]
    way = d.rng.choice(ways)
    d.story["mitigated"] = way
    mib = 1024 * 1024
    size = d.rng.choice((need, need + 4, 32)) * mib
    if way == "buffer":
        d.vm.extra_config["migrate.baseCptCacheSize"] = str(size)
        d.teaches.append("A large enough migrate.baseCptCacheSize already protects the VM")
    elif way == "hex":
        d.vm.extra_config["migrate.baseCptCacheSize"] = hex(size)
        d.teaches.append(_hex_lesson(size))
    elif way == "card_3d":
        d.vm.enable_3d = True
        d.teaches.append("With 3D on, vSphere sizes the buffer itself: nothing to fix")
    else:
        d.vm.extra_config["mks.enable3d"] = d.rng.choice(("TRUE", "true", "1"))
        d.teaches.append("mks.enable3d in the advanced settings turns 3D on as the card does")
    d.teaches.append("A VM that is already protected needs no change")


def _hw7(d: CaseDraft) -> None:
    _guest(d, _wddm(d))
    d.vm.hardware_version = "vmx-07"
    d.vm.failed_vmotion = False
    _pair_or_big_single(d, 0.6)


def _plan_at_risk_pin(d: CaseDraft, verdict: Verdict) -> None:
    _hw7(d)
    d.vm.upgrade_policy = (
        d.rng.choice(("onSoftPowerOff", "always")),
        d.rng.choice(("vmx-08", "vmx-09", "vmx-10", "vmx-13", None)),
    )
    d.story["upgrade"] = True
    d.teaches.append("Version 7 is safe until it is upgraded; a scheduled upgrade makes it urgent")
    d.teaches.append("Pinning the upgrade policy to never needs no shutdown")


def _plan_at_risk_pinned(d: CaseDraft, verdict: Verdict) -> None:
    _hw7(d)
    d.vm.upgrade_policy = d.rng.choice((("never", None), None))
    d.teaches.append("At risk, but already pinned to version 7: nothing to change today")


def _plan_possibly_version(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    d.vm.hardware_version = d.rng.choice(("vmx-09", "vmx-10", "vmx-11"))
    _screens(d, ARTICLE_PAIR, 2)
    d.teaches.append("Versions 9 to 12 may be affected: the later edition of the article says so")


def _plan_possibly_no_tools(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, BIG_SINGLE, 1)
    d.vm.tools_off()
    d.story["tools_off"] = True
    d.teaches.append("Without Tools the screen is unknown: the video card only bounds it")


def _plan_possibly_autodetect(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, SMALL, 1)
    d.vm.auto_detect = True
    d.vm.vram_kb = d.rng.choice((16384, 32768))
    d.needs_free_3d = True
    d.teaches.append("Auto-detect hides the number of screens: the buffer is sized for two")
    d.teaches.append("Where the size is our estimate and 3D costs nothing, 3D comes first")


def _plan_no_power(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, BIG_SINGLE, 1)
    d.role = "no-power"
    d.teaches.append("An account that may not power VMs off needs a fix that works while it runs")
    d.teaches.append("Lowering the resolution in the guest does not last: say so in the ticket")


def _plan_read_only(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _pair_or_big_single(d, 0.5)
    d.role = "read-only"
    d.teaches.append("A read-only account checks and plans, then escalates with the plan")


def _plan_confirmed_protected(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.CONFIRMED)
    _screens(d, ARTICLE_PAIR, 2)
    d.vm.extra_config["migrate.baseCptCacheSize"] = str(d.rng.choice((20, 24, 32)) * 1024 * 1024)
    d.teaches.append(
        "A failure seen after a protection was set: power-cycle and try again before more changes"
    )


def _plan_unreadable(d: CaseDraft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, ARTICLE_PAIR, 2)
    d.vm.extra_config["migrate.baseCptCacheSize"] = d.rng.choice(
        ("20 MB", "20MB", "0x14 00000", "20971520 bytes")
    )
    d.teaches.append("A value the wizard cannot read counts as not set")


PLANS: Final = (
    Plan("classic", _SEEN, RemedyId.RAISE_BUFFER, {BEG: 4, INT: 2}, _plan_classic),
    Plan("beyond-costly", _SEEN, RemedyId.RAISE_BUFFER, {INT: 1, ADV: 1}, _plan_beyond_costly),
    Plan("beyond-3d", _SEEN, RemedyId.ENABLE_3D, {INT: 2, ADV: 1}, _plan_beyond_3d),
    Plan(
        "not-affected",
        (Verdict.NOT_AFFECTED,),
        None,
        {BEG: 2, INT: 1, ADV: 1},
        _plan_not_affected,
    ),
    Plan("mitigated", (Verdict.MITIGATED,), None, {BEG: 2, INT: 1, ADV: 1}, _plan_mitigated),
    Plan("at-risk", (Verdict.AT_RISK,), RemedyId.STAY_ON_HW7, {INT: 2, ADV: 1}, _plan_at_risk_pin),
    Plan("at-risk-pinned", (Verdict.AT_RISK,), None, {ADV: 1}, _plan_at_risk_pinned),
    Plan(
        "possibly-version",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.RAISE_BUFFER,
        {INT: 1},
        _plan_possibly_version,
    ),
    Plan(
        "possibly-no-tools",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.RAISE_BUFFER,
        {INT: 1, ADV: 1},
        _plan_possibly_no_tools,
    ),
    Plan(
        "possibly-autodetect",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.ENABLE_3D,
        {ADV: 1},
        _plan_possibly_autodetect,
    ),
    Plan("no-power", _SEEN, RemedyId.LOWER_RESOLUTION, {ADV: 2}, _plan_no_power),
    Plan("read-only", _SEEN, RemedyId.RAISE_BUFFER, {ADV: 2}, _plan_read_only),
    Plan(
        "confirmed-protected",
        (Verdict.CONFIRMED,),
        None,
        {ADV: 1},
        _plan_confirmed_protected,
    ),
    Plan("unreadable-value", _SEEN, RemedyId.RAISE_BUFFER, {ADV: 1}, _plan_unreadable),
)
"""Every plan, with the levels it is drawn at and its weight there."""


def plans_for(level: Difficulty) -> tuple[Plan, ...]:
    """The plans drawn at ``level``."""
    return tuple(p for p in PLANS if level in p.levels)


def _look_alike(d: CaseDraft) -> None:
    """A neighbour whose name differs from the ticket's VM by a little."""
    name = d.vm.name
    digits = [i for i, ch in enumerate(name) if ch.isdigit()]
    options = [f"{name}-old", f"Copy of {name}", f"{name} (2)"]
    if len(digits) >= 2:
        i, j = digits[-2], digits[-1]
        if name[i] != name[j]:
            chars = list(name)
            chars[i], chars[j] = chars[j], chars[i]
            options.append("".join(chars))
    other = CaseVm(d.rng.choice(options), d.host())
    other.guest_id = other.tools_guest_id = d.vm.guest_id
    other.hardware_version = d.vm.hardware_version
    other.screen, other.displays = d.vm.user_screen or (1920, 1080), d.vm.displays
    other.fit_vram()
    if other.name.startswith("Copy") or other.name.endswith("-old"):
        other.powered_off()
    d.neighbours.append(other)
    d.story["look_alike"] = other.name
    d.teaches.append("Work on the exact VM the ticket names, not a look-alike")


_ODD_NAMES: Final = (
    "Büro-PC {n}/2",
    "Réception {n} (old desk)",
    "Desk #{n} \u2013 {dept}",
    "{dept} PC {n} 50%",
    "Kasse {n}\\Lager",
    "{dept}  desktop {n}",
    "PC {n} [{dept}] & spare",
)


def _odd_name(d: CaseDraft) -> None:
    template = d.rng.choice(_ODD_NAMES)
    d.vm.name = template.format(n=d.rng.randint(2, 98), dept=d.dept[1].split()[-1].capitalize())
    d.story["odd_name"] = True
    d.teaches.append("VM names may hold spaces, slashes, percent signs and accents")


def _tools_not_running(d: CaseDraft) -> None:
    """Tools stopped on a VM whose video card still shows what matters."""
    if d.vm.displays < 2 or d.vm.screen is None:
        return
    d.vm.tools_off()
    d.story["tools_off"] = True
    d.teaches.append("Without Tools, the video card's settings still tell the display story")


def _guest_mismatch(d: CaseDraft) -> None:
    """The VM was created as another Windows than the one Tools report."""
    if not d.vm.tools_running or d.vm.tools_guest_id is None:
        return
    reported = d.vm.tools_guest_id
    if reported in WDDM_ARTICLE + WDDM_LATER:
        d.vm.guest_id = d.rng.choice([g for g in (*WDDM_ARTICLE, "winXPProGuest") if g != reported])
    else:
        d.vm.guest_id = d.rng.choice([g for g in NOT_WDDM if g != reported])
    d.story["mismatch"] = True
    d.teaches.append("When Tools and the settings disagree on the guest, Tools are believed")


def _pending_upgrade(d: CaseDraft) -> None:
    """A version 7 neighbour with an upgrade scheduled: at risk, but not the ticket's VM."""
    other = CaseVm(f"{d.dept[0]}-W7-{d.rng.randint(100, 999)}", d.host())
    other.hardware_version = "vmx-07"
    other.guest_id = other.tools_guest_id = "windows7_64Guest"
    other.screen, other.displays = (1920, 1080), 2
    other.fit_vram()
    other.upgrade_policy = ("onSoftPowerOff", "vmx-08")
    d.neighbours.append(other)
    d.story["neighbour_upgrade"] = other.name
    d.teaches.append("Judge the VM in the ticket; note other risks you see for later")


def _here_or_elsewhere(d: CaseDraft, chance: float, other: str) -> tuple[bool, CaseCluster]:
    """Where a cost of 3D goes: the VM's own cluster (``True``) with this chance or when the plan
    needs 3D to be costly, never when it needs 3D to be free; else a second cluster, named
    ``Cluster-<city>-<other>`` if it has to be made."""
    here = not d.needs_free_3d and (d.needs_costly_3d or d.rng.random() < chance)
    if not here and len(d.clusters) < 2:
        d.clusters.append(new_cluster(d, f"Cluster-{d.city}-{other}", 2))
    return here, d.home if here else d.clusters[1]


def old_host(d: CaseDraft) -> None:
    """A host without SSE4.1: in the VM's cluster unless the plan needs 3D to be free there."""
    here, cluster = _here_or_elsewhere(d, 0.5, "Legacy")
    n = len(cluster.hosts) + 1
    site = cluster.hosts[0][0].split(".")[0].rstrip("0123456789")
    cluster.hosts.append((f"{site}{n:02d}.lab.local", d.rng.choice(OLD_CPUS), False))
    d.story["old_host"] = "here" if here else "elsewhere"
    d.teaches.append("A host without SSE4.1 speaks against 3D only if the VM may move to it")


def admission_control(d: CaseDraft) -> None:
    here, cluster = _here_or_elsewhere(d, 0.6, "B")
    cluster.ha, cluster.admission_control = True, True
    d.story["admission"] = "here" if here else "elsewhere"
    d.teaches.append("HA admission control makes 3D's 256 MB count against failover capacity")


def _hex_value(d: CaseDraft) -> None:
    """A setting written in hex: the buffer itself when it is already set, else another one."""
    buffer = d.vm.extra_config.get("migrate.baseCptCacheSize")
    if buffer is not None and buffer.isdigit():
        size = int(buffer)
        d.vm.extra_config["migrate.baseCptCacheSize"] = hex(size)
    elif buffer is None and d.rng.random() < 0.5:
        size = 8 * 1024 * 1024  # the default: a value that protects nothing
        d.vm.extra_config["migrate.baseCptCacheSize"] = hex(size)
    else:
        size = d.vm.vram_kb * 1024
        d.vm.extra_config["svga.vramSize"] = hex(size)
    d.story["hex"] = True
    d.teaches.append(_hex_lesson(size))


def _hex_lesson(size: int) -> str:
    return f"Settings may be written in hex: {hex(size)} is {size // (1024 * 1024)} MB"


@dataclass(frozen=True)
class Distractor:
    """Something in a case that looks like it matters; ``levels``: where it is drawn."""

    name: str
    levels: frozenset[Difficulty]
    apply: Callable[[CaseDraft], None]


_ALL = frozenset(Difficulty)
_LATER = frozenset({INT, ADV})
DISTRACTORS: Final = (
    Distractor("odd name", _LATER, _odd_name),
    Distractor("look-alike name", _ALL, _look_alike),
    Distractor("upgrade on a neighbour", _ALL, _pending_upgrade),
    Distractor("host without SSE4.1", _ALL, old_host),
    Distractor("admission control", _ALL, admission_control),
    Distractor("Tools not running", _LATER, _tools_not_running),
    Distractor("guest id mismatch", _LATER, _guest_mismatch),
    Distractor("hex value", _LATER, _hex_value),
)
"""Every distractor and the levels it appears at. At the beginner level a distractor never
changes the answer's reasoning: those drawn there concern neighbours or, for 3D, nothing the
plan relies on."""

HOW_MANY: Final = {BEG: (0, 1), INT: (1, 2), ADV: (2, 4)}
