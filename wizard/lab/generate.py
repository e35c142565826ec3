"""Generated training cases: a new, solvable scenario from a seed and a level.

``generate(seed, level)`` builds a format-1 scenario (``resources/scenarios/README.md``): a
ticket in a user's or a colleague's words, a datacenter with one or two clusters, their hosts,
filler VMs, a few neighbours, and one VM the ticket is about. The same seed and level always give
the same file, byte for byte, so a trainer can hand a class one case by its number.

How a case is made:

1. The level and the seed pick a *plan*: the verdict and the recommended fix the case is built
   to reach (:data:`PLANS`). Beginners meet the article's plain cases (a failure seen, a VM at
   risk of one, one protected, one out of scope); the intermediate level adds hardware version 7,
   the versions after 8, missing Tools, hex values and the cases where 3D is the better fix;
   the advanced level adds accounts that may not power VMs off or may change nothing, a failure
   seen although a protection is set, and auto-detected displays.
2. The plan draws the VM's facts: guest, hardware version, screens, video card, settings,
   history, and what the cluster must be for that fix to be the one recommended (3D needs every
   host with SSE4.1, no admission control and screens within 1920x1200).
3. Distractors that fit the level are added (:data:`DISTRACTORS`): a look-alike name, an odd
   name, Tools not running, a guest id Tools disagree with, an upgrade scheduled on a neighbour,
   a host without SSE4.1, HA admission control, a value written in hex. At the beginner level
   they never change the way to the answer; later they may, and the rules decide.
4. The real rules (``wizard.kb``) judge the facts the lab will serve (:mod:`wizard.lab.served`).
   A draw that does not reach the plan is thrown away and the next one is taken, from the same
   seeded generator, so every case reaches its plan and stays reproducible.
5. Every VM of the scenario's own (not the fillers) gets its ``expect`` entry from the rules; the
   ticket, the briefing and what the case teaches are written last, from what was drawn.

Nothing here starts the lab: ``tests/integration/test_generated_scenarios.py`` loads generated
cases into the real lab and compares ``check --all`` with their ``expect``.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from wizard.kb.model import RemedyId, Verdict
from wizard.kb.sizing import required_for_screens
from wizard.lab.scenario import (
    FORMAT,
    Difficulty,
    parse_scenario,
)
from wizard.lab.served import expected

MAX_SEED: Final = 2**31 - 1
"""The largest seed: fits every spin box, and far more cases than any class will take."""

MAX_ATTEMPTS: Final = 200
"""Draws tried before giving up on a plan (a plan is reached in a few draws; more is a bug)."""

Doc = dict[str, Any]


class GenerateError(ValueError):
    """A seed or level that cannot be used; the message says what to give instead."""


def parse_level(text: str) -> Difficulty:
    """The level named ``text`` (any case); GenerateError names the three when it is none."""
    try:
        return Difficulty(text.strip().lower())
    except ValueError:
        names = ", ".join(d.value for d in Difficulty)
        raise GenerateError(f"{text!r} is not a level: give one of {names}") from None


def check_seed(seed: int) -> int:
    """``seed`` when it is a whole number from 0 to :data:`MAX_SEED`; GenerateError otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise GenerateError(f"{seed!r} is not a seed: give a whole number from 0 to {MAX_SEED:,}")
    return seed


def case_id(seed: int, level: Difficulty) -> str:
    """The id (and file name without ``.json``) of a generated case, e.g. ``gen-beginner-42``."""
    return f"gen-{level.value}-{check_seed(seed)}"


# --- what the cases are made of ---------------------------------------------------------------

_DEPARTMENTS: Final = (
    ("FIN", "Finance"),
    ("HR", "Human resources"),
    ("MKT", "Marketing"),
    ("ENG", "Engineering"),
    ("SAL", "Sales"),
    ("LAB", "the laboratory"),
    ("ACC", "Accounting"),
    ("CAD", "Design"),
    ("LOG", "Logistics"),
    ("LEG", "Legal"),
    ("PUR", "Purchasing"),
    ("SUP", "Customer support"),
)
_PEOPLE: Final = (
    "Ines Moreau",
    "Jonas Berg",
    "Aylin Demir",
    "Tomasz Nowak",
    "Priya Raman",
    "Lucas Ferreira",
    "Hanna Virtanen",
    "Kofi Mensah",
    "Mei Lin",
    "Sofia Rossi",
    "Omar Haddad",
    "Elena Petrova",
    "Daniel Okafor",
    "Lea Schmitt",
    "Mateo García",
    "Yuki Tanaka",
    "Nora Lindqvist",
    "Samir Benali",
    "Grace O'Neill",
    "Pavel Horák",
)
_CITIES: Final = ("Lyon", "Porto", "Graz", "Tampere", "Leeds", "Gdansk", "Bilbao", "Utrecht")
_MODERN_CPUS: Final = (
    "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
    "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
    "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
    "AMD EPYC 7302 16-Core Processor",
    "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz",
)
_OLD_CPUS: Final = (
    "Intel(R) Xeon(R) CPU 5160 @ 3.00GHz",
    "Intel(R) Xeon(R) CPU E5345 @ 2.33GHz",
    "Quad-Core AMD Opteron(tm) Processor 2356",
)
"""CPUs older than Nehalem, without SSE4.1."""

_WDDM_ARTICLE: Final = (
    "windows7_64Guest",
    "windows7Guest",
    "winVista64Guest",
    "windows7Server64Guest",
    "winLonghorn64Guest",
)
_WDDM_LATER: Final = ("windows9_64Guest", "windows8_64Guest")
_NOT_WDDM: Final = (
    "rhel8_64Guest",
    "ubuntu64Guest",
    "debian11_64Guest",
    "sles15_64Guest",
    "winXPProGuest",
    "winNetStandardGuest",
)
_SCREEN_NAMES: Final = {
    (1280, 1024): "1280x1024",
    (1440, 900): "1440x900",
    (1600, 1200): "1600x1200",
    (1680, 1050): "1680x1050",
    (1920, 1080): "Full HD",
    (1920, 1200): "1920x1200",
    (2560, 1440): "2560x1440",
    (2560, 1600): "2560x1600",
    (1024, 768): "1024x768",
}
_SMALL: Final = ((1024, 768), (1280, 1024))
"""At most one 1280x1024 screen: condition C1 is not met with one display."""
_ARTICLE_PAIR: Final = ((1280, 1024), (1440, 900), (1600, 1200), (1680, 1050))
"""Two of these stay within the article's 20 MB figure."""
_BIG_SINGLE: Final = ((1920, 1080), (1920, 1200), (1600, 1200), (2560, 1440))
_BEYOND_PAIR_3D_OK: Final = ((1920, 1080), (1920, 1200))
"""Two of these need more than the article's figures, yet stay within 3D's 1920x1200."""
_ABOVE_3D: Final = ((2560, 1440), (2560, 1600))


@dataclass
class _Vm:
    """One VM being drawn, in the scenario's own terms."""

    name: str
    host: str
    hardware_version: str = "vmx-08"
    guest_id: str = "windows7_64Guest"
    tools_guest_id: str | None = "windows7_64Guest"
    tools_running: bool = True
    power_state: str = "poweredOn"
    screen: tuple[int, int] | None = (1920, 1080)
    displays: int = 1
    vram_kb: int = 8192
    auto_detect: bool = False
    enable_3d: bool = False
    extra_config: dict[str, str] = field(default_factory=dict)
    upgrade_policy: tuple[str, str | None] | None = ("never", None)
    failed_vmotion: bool = False
    user_screen: tuple[int, int] | None = None
    """The screen as its user sees it, whether Tools report it or not (for the ticket)."""

    def fit_vram(self) -> None:
        """Video memory for the screens, in whole MB, at least 4 MB (as vSphere sizes it)."""
        if self.screen is None:
            return
        self.user_screen = self.screen
        kb = self.displays * self.screen[0] * self.screen[1] * 4 // 1024
        self.vram_kb = max(4096, -(-kb // 1024) * 1024)

    def tools_off(self) -> None:
        """Powered on, Tools installed but not running: no guest id and no screen reported."""
        self.power_state = "poweredOn"
        self.tools_running = False
        self.screen = None

    def powered_off(self) -> None:
        self.power_state = "poweredOff"
        self.tools_running = False
        self.screen = None

    def doc(self) -> Doc:
        upgrade = (
            None
            if self.upgrade_policy is None
            else {"policy": self.upgrade_policy[0], "version": self.upgrade_policy[1]}
        )
        return {
            "name": self.name,
            "host": self.host,
            "hardware_version": self.hardware_version,
            "guest_id": self.guest_id,
            "tools_guest_id": self.tools_guest_id,
            "tools_running": self.tools_running,
            "power_state": self.power_state,
            "screen": list(self.screen) if self.screen is not None else None,
            "video": {
                "displays": self.displays,
                "vram_kb": self.vram_kb,
                "auto_detect": self.auto_detect,
                "enable_3d": self.enable_3d,
            },
            "extra_config": dict(self.extra_config),
            "upgrade_policy": upgrade,
            "history": {"failed_vmotion": self.failed_vmotion},
        }


@dataclass
class _Cluster:
    name: str
    hosts: list[tuple[str, str, bool]]  # name, CPU model, SSE4.1
    ha: bool = True
    admission_control: bool = False

    def doc(self) -> Doc:
        return {
            "name": self.name,
            "ha": {"enabled": self.ha, "admission_control": self.admission_control},
            "hosts": [{"name": n, "cpu_model": c, "sse41": s} for n, c, s in self.hosts],
        }


@dataclass
class _Draft:
    """Everything one draw decided: the inventory and the story behind it."""

    rng: random.Random
    level: Difficulty
    seed: int
    dept: tuple[str, str]
    reporter: str
    user: str
    city: str
    clusters: list[_Cluster]
    vm: _Vm
    neighbours: list[_Vm] = field(default_factory=list)
    role: str = "admin"
    needs_free_3d: bool = False
    """The plan wants 3D to cost nothing in the VM's cluster (no admission control, SSE4.1)."""
    needs_costly_3d: bool = False
    """The plan wants something in the VM's cluster to speak against 3D."""
    distractors: list[str] = field(default_factory=list)
    teaches: list[str] = field(default_factory=list)
    story: dict[str, Any] = field(default_factory=dict)
    """What was drawn, for the words: e.g. ``look_alike`` (the neighbour's name), ``costly``."""

    @property
    def home(self) -> _Cluster:
        return self.clusters[0]

    def host(self, cluster: _Cluster | None = None) -> str:
        return self.rng.choice((cluster or self.home).hosts)[0]


# --- plans: the verdict and fix a case is built to reach --------------------------------------


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
    draw: Callable[[_Draft, Verdict], None]


_BEG, _INT, _ADV = Difficulty.BEGINNER, Difficulty.INTERMEDIATE, Difficulty.ADVANCED
_SEEN = (Verdict.CONFIRMED, Verdict.AFFECTED)


def _wddm(d: _Draft) -> str:
    pool = _WDDM_ARTICLE if d.level is _BEG else _WDDM_ARTICLE + _WDDM_LATER
    return d.rng.choice(pool)


def _guest(d: _Draft, guest: str) -> None:
    d.vm.guest_id = guest
    d.vm.tools_guest_id = guest


def _screens(d: _Draft, pool: Sequence[tuple[int, int]], displays: int) -> None:
    d.vm.screen = d.rng.choice(pool)
    d.vm.displays = displays
    d.vm.fit_vram()


def _needs_fix(d: _Draft, verdict: Verdict) -> None:
    d.vm.failed_vmotion = verdict is Verdict.CONFIRMED
    _guest(d, _wddm(d))
    d.vm.hardware_version = "vmx-08"


def _plan_classic(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    if d.rng.random() < 0.65:
        _screens(d, _ARTICLE_PAIR, 2)
    else:
        _screens(d, _BIG_SINGLE, 1)
    d.teaches.append("Check all four conditions before choosing a fix")
    d.teaches.append("The article's own figures size the checkpoint buffer: 16 MB or 20 MB")


def _plan_beyond_costly(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    why = d.rng.choice(("admission", "old_host", "big_screens"))
    if why == "big_screens":
        _screens(d, _ABOVE_3D, d.rng.choice((2, 3)))
        d.teaches.append("Above 1920x1200 on two screens, 3D is not recommended")
    else:
        _screens(d, _BEYOND_PAIR_3D_OK, d.rng.choice((2, 2, 3)))
        d.needs_costly_3d = True
        d.story["costly"] = why
    d.teaches.append("Beyond two 1600x1200 screens the buffer size is our estimate")


def _plan_beyond_3d(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, _BEYOND_PAIR_3D_OK, d.rng.choice((2, 2, 3)))
    d.needs_free_3d = True
    d.teaches.append(
        "When the buffer size would be our estimate and 3D costs nothing here, 3D comes first"
    )
    d.teaches.append("Check each 3D caveat: admission control, SSE4.1 on every host, screen size")


def _plan_not_affected(d: _Draft, verdict: Verdict) -> None:
    d.vm.failed_vmotion = False
    ways = ["guest", "small_screen", "new_version"]
    if d.level is not _BEG:
        ways += ["mismatch", "old_version"]
    if d.level is _ADV:
        ways += ["hw7_protected", "boundary"]
    way = d.rng.choice(ways)
    d.story["not_affected"] = way
    _screens(d, _ARTICLE_PAIR, 2)
    if way == "guest":
        _guest(d, d.rng.choice(_NOT_WDDM))
        d.teaches.append("Only guests that drive the screen with WDDM are affected")
    elif way == "small_screen":
        _guest(d, _wddm(d))
        _screens(d, _SMALL, 1)
        d.teaches.append("One screen of at most 1280x1024 does not meet the display condition")
    elif way == "boundary":
        _guest(d, _wddm(d))
        _screens(d, ((1280, 1024),), 1)
        d.teaches.append("Exactly 1280x1024 on one screen is not more than the article's limit")
    elif way == "new_version":
        _guest(d, d.rng.choice(_WDDM_LATER + _WDDM_ARTICLE))
        d.vm.hardware_version = d.rng.choice(("vmx-13", "vmx-14", "vmx-15", "vmx-17", "vmx-19"))
        d.teaches.append("Hardware version 13 and later are outside the article")
    elif way == "old_version":
        _guest(d, _wddm(d))
        d.vm.hardware_version = d.rng.choice(("vmx-04", "vmx-06"))
        d.teaches.append("Versions before 7 are outside the article, until an upgrade")
    elif way == "mismatch":
        d.vm.guest_id = _wddm(d)
        d.vm.tools_guest_id = d.rng.choice(_NOT_WDDM[:4])
        d.story["mismatch"] = True
        d.teaches.append("When Tools and the settings disagree on the guest, Tools are believed")
    else:  # hw7_protected
        _guest(d, _wddm(d))
        d.vm.hardware_version = "vmx-07"
        d.vm.enable_3d = True
        d.teaches.append("A protection already set keeps a version 7 VM safe after an upgrade")


def _plan_mitigated(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, _ARTICLE_PAIR if d.rng.random() < 0.7 else _BIG_SINGLE, 2)
    assert d.vm.screen is not None
    need = -(-required_for_screens(d.vm.displays, *d.vm.screen).bytes // (1024 * 1024))
    ways = ["buffer", "card_3d"] if d.level is _BEG else ["buffer", "hex", "card_3d", "mks"]
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


def _hw7(d: _Draft) -> None:
    _guest(d, _wddm(d))
    d.vm.hardware_version = "vmx-07"
    d.vm.failed_vmotion = False
    if d.rng.random() < 0.6:
        _screens(d, _ARTICLE_PAIR, 2)
    else:
        _screens(d, _BIG_SINGLE, 1)


def _plan_at_risk_pin(d: _Draft, verdict: Verdict) -> None:
    _hw7(d)
    d.vm.upgrade_policy = (
        d.rng.choice(("onSoftPowerOff", "always")),
        d.rng.choice(("vmx-08", "vmx-09", "vmx-10", "vmx-13", None)),
    )
    d.story["upgrade"] = True
    d.teaches.append("Version 7 is safe until it is upgraded; a scheduled upgrade makes it urgent")
    d.teaches.append("Pinning the upgrade policy to never needs no shutdown")


def _plan_at_risk_pinned(d: _Draft, verdict: Verdict) -> None:
    _hw7(d)
    d.vm.upgrade_policy = d.rng.choice((("never", None), None))
    d.teaches.append("At risk, but already pinned to version 7: nothing to change today")


def _plan_possibly_version(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    d.vm.hardware_version = d.rng.choice(("vmx-09", "vmx-10", "vmx-11"))
    _screens(d, _ARTICLE_PAIR, 2)
    d.teaches.append("Versions 9 to 12 may be affected: the later edition of the article says so")


def _plan_possibly_no_tools(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, _BIG_SINGLE, 1)
    d.vm.tools_off()
    d.story["tools_off"] = True
    d.teaches.append("Without Tools the screen is unknown: the video card only bounds it")


def _plan_possibly_autodetect(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.AFFECTED)
    _screens(d, _SMALL, 1)
    d.vm.auto_detect = True
    d.vm.vram_kb = d.rng.choice((16384, 32768))
    d.needs_free_3d = True
    d.teaches.append("Auto-detect hides the number of screens: the buffer is sized for two")
    d.teaches.append("Where the size is our estimate and 3D costs nothing, 3D comes first")


def _plan_no_power(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, _BIG_SINGLE, 1)
    d.role = "no-power"
    d.teaches.append("An account that may not power VMs off needs a fix that works while it runs")
    d.teaches.append("Lowering the resolution in the guest does not last: say so in the ticket")


def _plan_read_only(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    if d.rng.random() < 0.5:
        _screens(d, _ARTICLE_PAIR, 2)
    else:
        _screens(d, _BIG_SINGLE, 1)
    d.role = "read-only"
    d.teaches.append("A read-only account checks and plans, then escalates with the plan")


def _plan_confirmed_protected(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, Verdict.CONFIRMED)
    _screens(d, _ARTICLE_PAIR, 2)
    d.vm.extra_config["migrate.baseCptCacheSize"] = str(d.rng.choice((20, 24, 32)) * 1024 * 1024)
    d.teaches.append(
        "A failure seen after a protection was set: power-cycle and try again before more changes"
    )


def _plan_unreadable(d: _Draft, verdict: Verdict) -> None:
    _needs_fix(d, verdict)
    _screens(d, _ARTICLE_PAIR, 2)
    d.vm.extra_config["migrate.baseCptCacheSize"] = d.rng.choice(
        ("20 MB", "20MB", "0x14 00000", "20971520 bytes")
    )
    d.teaches.append("A value the wizard cannot read counts as not set")


PLANS: Final = (
    Plan("classic", _SEEN, RemedyId.RAISE_BUFFER, {_BEG: 4, _INT: 2}, _plan_classic),
    Plan("beyond-costly", _SEEN, RemedyId.RAISE_BUFFER, {_INT: 1, _ADV: 1}, _plan_beyond_costly),
    Plan("beyond-3d", _SEEN, RemedyId.ENABLE_3D, {_INT: 2, _ADV: 1}, _plan_beyond_3d),
    Plan(
        "not-affected",
        (Verdict.NOT_AFFECTED,),
        None,
        {_BEG: 2, _INT: 1, _ADV: 1},
        _plan_not_affected,
    ),
    Plan("mitigated", (Verdict.MITIGATED,), None, {_BEG: 2, _INT: 1, _ADV: 1}, _plan_mitigated),
    Plan(
        "at-risk", (Verdict.AT_RISK,), RemedyId.STAY_ON_HW7, {_INT: 2, _ADV: 1}, _plan_at_risk_pin
    ),
    Plan("at-risk-pinned", (Verdict.AT_RISK,), None, {_ADV: 1}, _plan_at_risk_pinned),
    Plan(
        "possibly-version",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.RAISE_BUFFER,
        {_INT: 1},
        _plan_possibly_version,
    ),
    Plan(
        "possibly-no-tools",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.RAISE_BUFFER,
        {_INT: 1, _ADV: 1},
        _plan_possibly_no_tools,
    ),
    Plan(
        "possibly-autodetect",
        (Verdict.POSSIBLY_AFFECTED,),
        RemedyId.ENABLE_3D,
        {_ADV: 1},
        _plan_possibly_autodetect,
    ),
    Plan("no-power", _SEEN, RemedyId.LOWER_RESOLUTION, {_ADV: 2}, _plan_no_power),
    Plan("read-only", _SEEN, RemedyId.RAISE_BUFFER, {_ADV: 2}, _plan_read_only),
    Plan(
        "confirmed-protected",
        (Verdict.CONFIRMED,),
        None,
        {_ADV: 1},
        _plan_confirmed_protected,
    ),
    Plan("unreadable-value", _SEEN, RemedyId.RAISE_BUFFER, {_ADV: 1}, _plan_unreadable),
)
"""Every plan, with the levels it is drawn at and its weight there."""


def plans_for(level: Difficulty) -> tuple[Plan, ...]:
    """The plans drawn at ``level``."""
    return tuple(p for p in PLANS if level in p.levels)


# --- distractors --------------------------------------------------------------------------------


def _look_alike(d: _Draft) -> None:
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
    other = _Vm(d.rng.choice(options), d.host())
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


def _odd_name(d: _Draft) -> None:
    template = d.rng.choice(_ODD_NAMES)
    d.vm.name = template.format(n=d.rng.randint(2, 98), dept=d.dept[1].split()[-1].capitalize())
    d.story["odd_name"] = True
    d.teaches.append("VM names may hold spaces, slashes, percent signs and accents")


def _tools_not_running(d: _Draft) -> None:
    """Tools stopped on a VM whose video card still shows what matters."""
    if d.vm.displays < 2 or d.vm.screen is None:
        return
    d.vm.tools_off()
    d.story["tools_off"] = True
    d.teaches.append("Without Tools, the video card's settings still tell the display story")


def _guest_mismatch(d: _Draft) -> None:
    """The VM was created as another Windows than the one Tools report."""
    if not d.vm.tools_running or d.vm.tools_guest_id is None:
        return
    reported = d.vm.tools_guest_id
    if reported in _WDDM_ARTICLE + _WDDM_LATER:
        d.vm.guest_id = d.rng.choice(
            [g for g in (*_WDDM_ARTICLE, "winXPProGuest") if g != reported]
        )
    else:
        d.vm.guest_id = d.rng.choice([g for g in _NOT_WDDM if g != reported])
    d.story["mismatch"] = True
    d.teaches.append("When Tools and the settings disagree on the guest, Tools are believed")


def _pending_upgrade(d: _Draft) -> None:
    """A version 7 neighbour with an upgrade scheduled: at risk, but not the ticket's VM."""
    other = _Vm(f"{d.dept[0]}-W7-{d.rng.randint(100, 999)}", d.host())
    other.hardware_version = "vmx-07"
    other.guest_id = other.tools_guest_id = "windows7_64Guest"
    other.screen, other.displays = (1920, 1080), 2
    other.fit_vram()
    other.upgrade_policy = ("onSoftPowerOff", "vmx-08")
    d.neighbours.append(other)
    d.story["neighbour_upgrade"] = other.name
    d.teaches.append("Judge the VM in the ticket; note other risks you see for later")


def _old_host(d: _Draft) -> None:
    """A host without SSE4.1: in the VM's cluster unless the plan needs 3D to be free there."""
    here = not d.needs_free_3d and (d.needs_costly_3d or d.rng.random() < 0.5)
    if not here and len(d.clusters) < 2:
        d.clusters.append(_new_cluster(d, f"Cluster-{d.city}-Legacy", 2))
    cluster = d.home if here else d.clusters[1]
    n = len(cluster.hosts) + 1
    site = cluster.hosts[0][0].split(".")[0].rstrip("0123456789")
    cluster.hosts.append((f"{site}{n:02d}.lab.local", d.rng.choice(_OLD_CPUS), False))
    d.story["old_host"] = "here" if here else "elsewhere"
    d.teaches.append("A host without SSE4.1 speaks against 3D only if the VM may move to it")


def _admission_control(d: _Draft) -> None:
    here = not d.needs_free_3d and (d.needs_costly_3d or d.rng.random() < 0.6)
    if not here and len(d.clusters) < 2:
        d.clusters.append(_new_cluster(d, f"Cluster-{d.city}-B", 2))
    cluster = d.home if here else d.clusters[1]
    cluster.ha, cluster.admission_control = True, True
    d.story["admission"] = "here" if here else "elsewhere"
    d.teaches.append("HA admission control makes 3D's 256 MB count against failover capacity")


def _hex_value(d: _Draft) -> None:
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
    apply: Callable[[_Draft], None]


_ALL = frozenset(Difficulty)
_LATER = frozenset({_INT, _ADV})
DISTRACTORS: Final = (
    Distractor("odd name", _LATER, _odd_name),
    Distractor("look-alike name", _ALL, _look_alike),
    Distractor("upgrade on a neighbour", _ALL, _pending_upgrade),
    Distractor("host without SSE4.1", _ALL, _old_host),
    Distractor("admission control", _ALL, _admission_control),
    Distractor("Tools not running", _LATER, _tools_not_running),
    Distractor("guest id mismatch", _LATER, _guest_mismatch),
    Distractor("hex value", _LATER, _hex_value),
)
"""Every distractor and the levels it appears at. At the beginner level a distractor never
changes the answer's reasoning: those drawn there concern neighbours or, for 3D, nothing the
plan relies on."""

_HOW_MANY: Final = {_BEG: (0, 1), _INT: (1, 2), _ADV: (2, 4)}


# --- drawing ------------------------------------------------------------------------------------


def _new_cluster(d: _Draft, name: str, hosts: int) -> _Cluster:
    site = "esx-" + "".join(ch for ch in name.split("-")[-1].lower() if ch.isalnum())[:4]
    return _Cluster(
        name,
        [
            (f"{site}{i:02d}.lab.local", d.rng.choice(_MODERN_CPUS), True)
            for i in range(1, hosts + 1)
        ],
        ha=d.rng.random() < 0.7,
        admission_control=False,
    )


def _vm_name(rng: random.Random, dept: tuple[str, str], level: Difficulty) -> str:
    n = rng.randint(1, 999)
    patterns = [f"{dept[0]}-PC-{n:03d}", f"VD-{dept[0]}-{n:03d}", f"{dept[0]}-DESK-{n:03d}"]
    if level is not _BEG:
        patterns += [f"{dept[0]}-W7-{n:03d}", f"{dept[0].lower()}-vdi-{n:04d}"]
    return rng.choice(patterns)


def _scenery(d: _Draft) -> list[_Vm]:
    """Two to four ordinary neighbours of the ticket's VM, each judged by the rules too."""
    out: list[_Vm] = []
    kinds = ["linux", "server", "small", "new", "xp"]
    for kind in d.rng.sample(kinds, d.rng.randint(2, 4)):
        n = d.rng.randint(10, 989)
        if kind == "linux":
            vm = _Vm(f"{d.dept[0].lower()}-app-{n:02d}", d.host(), guest_id="rhel8_64Guest")
            vm.tools_guest_id, vm.screen, vm.hardware_version = (
                "rhel8_64Guest",
                (1024, 768),
                "vmx-14",
            )
        elif kind == "server":
            vm = _Vm(f"SRV-{d.dept[0]}-{n:02d}", d.host(), guest_id="windows9Server64Guest")
            vm.tools_guest_id, vm.screen, vm.hardware_version = vm.guest_id, (1024, 768), "vmx-13"
        elif kind == "small":
            vm = _Vm(f"{d.dept[0]}-KIOSK-{n:02d}", d.host())
            vm.screen = (1280, 1024)
        elif kind == "new":
            vm = _Vm(f"{d.dept[0]}-W10-{n:03d}", d.host(), guest_id="windows9_64Guest")
            vm.tools_guest_id, vm.hardware_version = vm.guest_id, "vmx-19"
            vm.screen, vm.displays = (1920, 1080), 2
        else:
            vm = _Vm(f"{d.dept[0]}-XP-{n:02d}", d.host(), guest_id="winXPProGuest")
            vm.tools_guest_id, vm.hardware_version, vm.screen = vm.guest_id, "vmx-08", (1280, 1024)
            vm.displays = 2
        vm.fit_vram()
        if d.rng.random() < 0.25:
            vm.powered_off()
        out.append(vm)
    return out


def _draw(rng: random.Random, level: Difficulty, seed: int, plan: Plan, verdict: Verdict) -> _Draft:
    dept = rng.choice(_DEPARTMENTS)
    city = rng.choice(_CITIES)
    people = rng.sample(_PEOPLE, 2)
    d = _Draft(
        rng=rng,
        level=level,
        seed=seed,
        dept=dept,
        reporter=people[0],
        user=people[1],
        city=city,
        clusters=[],
        vm=_Vm("", ""),
    )
    d.clusters.append(_new_cluster(d, f"Cluster-{city}", rng.randint(2, 3 if level is _BEG else 4)))
    d.vm = _Vm(_vm_name(rng, dept, level), d.host())
    plan.draw(d, verdict)
    # The cluster the plan needs: 3D free (no admission control, SSE4.1 everywhere) or not.
    if d.needs_costly_3d:
        if d.story.get("costly") == "old_host":
            _old_host(d)
        else:
            _admission_control(d)
    low, high = _HOW_MANY[level]
    pool = [x for x in DISTRACTORS if level in x.levels]
    chosen = rng.sample(pool, rng.randint(low, high))
    for extra in sorted(chosen, key=DISTRACTORS.index):  # a new name before its look-alikes
        extra.apply(d)
        d.distractors.append(extra.name)
    d.neighbours.extend(_scenery(d))
    return d


def _doc(d: _Draft) -> Doc:
    users: list[Doc] = []
    login = {"user": "helpdesk@lab.local", "password": f"Practice-{d.seed % 10_000:04d}"}
    if d.role != "admin":
        users.append({**login, "role": d.role})
    filler = {_BEG: (0, 12), _INT: (10, 40), _ADV: (30, 120)}[d.level]
    return {
        "format": FORMAT,
        "id": case_id(d.seed, d.level),
        "title": "(written last)",
        "difficulty": d.level.value,
        "briefing": "(written last)",
        "ticket": "(written last)",
        "teaches": [],
        "datacenter": f"DC-{d.city}",
        "vm_of_interest": d.vm.name,
        "login": login,
        "users": users,
        "filler_vms": d.rng.randint(*filler),
        "clusters": [c.doc() for c in d.clusters],
        "vms": [d.vm.doc(), *(v.doc() for v in d.neighbours)],
        "expect": {d.vm.name: {"verdict": "affected", "recommended": None}},  # (worked out last)
    }


def _unique_names(d: _Draft) -> None:
    seen = {d.vm.name}
    for vm in d.neighbours:
        while vm.name in seen:
            vm.name += "b"
        seen.add(vm.name)


@dataclass(frozen=True)
class Case:
    """A generated case: the scenario document, and how it was made (for tests and the picker).

    Attributes:
        doc: the scenario as JSON-ready data (``text`` is the file).
        plan: the plan it was built to reach.
        distractors: the distractors it holds, by name.
        attempts: how many draws it took to reach the plan.
    """

    seed: int
    level: Difficulty
    doc: Doc
    plan: str
    distractors: tuple[str, ...]
    attempts: int

    @property
    def id(self) -> str:
        return str(self.doc["id"])

    @property
    def vm(self) -> str:
        return str(self.doc["vm_of_interest"])

    @property
    def text(self) -> str:
        """The scenario file: UTF-8 JSON text, the same for the same seed and level."""
        return dumps(self.doc)


def generate(seed: int, level: Difficulty) -> Case:
    """Build the case of ``seed`` at ``level``.

    Raises:
        GenerateError: the seed is not a whole number from 0 to :data:`MAX_SEED`.
    """
    check_seed(seed)
    rng = random.Random(f"checkpoint-wizard case {level.value} {seed}")  # noqa: S311 (a seeded case, not a secret)
    plans = plans_for(level)
    plan = rng.choices(plans, weights=[p.levels[level] for p in plans])[0]
    verdict = rng.choice(plan.verdicts)
    attempt = 0
    while True:
        attempt += 1
        if attempt > MAX_ATTEMPTS:  # a plan that cannot be reached is a bug in this module
            raise RuntimeError(f"plan {plan.name} not reached for seed {seed} at {level.value}")
        d = _draw(rng, level, seed, plan, verdict)
        _unique_names(d)
        doc = _doc(d)
        scenario = parse_scenario(doc, case_id(seed, level))
        if expected(scenario, scenario.vm(d.vm.name)) == (verdict, plan.remedy):
            break
    doc["expect"] = {
        vm.name: {
            "verdict": got[0].value,
            "recommended": got[1].value if got[1] is not None else None,
        }
        for vm in scenario.vms
        for got in [expected(scenario, vm)]
    }
    story = _Story(d, verdict)
    doc["title"] = story.title()
    doc["briefing"] = story.briefing()
    doc["ticket"] = story.ticket()
    doc["teaches"] = list(dict.fromkeys(d.teaches))[:5]
    parse_scenario(doc, case_id(seed, level))  # the finished file is a valid scenario
    return Case(seed, level, doc, plan.name, tuple(d.distractors), attempt)


# --- the words ----------------------------------------------------------------------------------


class _Story:
    """The title, briefing and ticket of a case, written from what was drawn."""

    def __init__(self, d: _Draft, verdict: Verdict) -> None:
        self.d = d
        self.rng = random.Random(f"words {d.level.value} {d.seed}")  # noqa: S311 (seeded words)
        self.failed = verdict is Verdict.CONFIRMED
        self.first = d.reporter.split()[0]

    def title(self) -> str:
        return f"Case {self.d.seed}: {self.d.vm.name}"

    def briefing(self) -> str:
        d = self.d
        base = (
            f"Find {d.vm.name}, decide which verdict the article's four conditions give it, "
            "and fix it only if it needs a fix, with as little disruption as you can."
        )
        if d.level is _BEG:
            return base
        if d.level is _INT:
            return base + " Some details in this cluster look important and are not: check each."
        return (
            base + " Not everything here is what it seems, and the account you sign in with may "
            "not be allowed every fix: plan what you cannot do yourself."
        )

    def _screens_sentence(self) -> str:
        vm = self.d.vm
        screen = vm.user_screen
        if vm.auto_detect or screen is None or (vm.displays < 2 and screen in _SMALL):
            return ""
        shown = _SCREEN_NAMES[screen]
        if vm.displays >= 2:
            count = {2: "two", 3: "three"}.get(vm.displays, str(vm.displays))
            return self.rng.choice(
                (
                    f"I work with {count} {shown} monitors and need all of them.",
                    f"My desk has {count} screens ({shown}), please keep them as they are.",
                    f"I use {count} monitors for my work.",
                )
            )
        return self.rng.choice(
            (
                f"I use one big {shown} screen.",
                f"My screen runs at {shown}, which I need for my spreadsheets.",
            )
        )

    def ticket(self) -> str:
        d, rng = self.d, self.rng
        vm = d.vm.name
        ops = rng.random() < 0.5 or (self.failed and rng.random() < 0.5)
        if ops:
            sender = f"{d.reporter} <{_mail(d.reporter)}> (Virtualisation team)"
            if self.failed:
                subject = rng.choice(
                    (
                        f"{vm} will not move",
                        f"Migration of {vm} failed",
                        f"Host maintenance blocked by {vm}",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"Last night's host rebalancing could not move {vm}: the task ended "
                            'with "Failed to flush checkpoint data!".',
                            f"Every attempt to migrate {vm} fails with a general system error "
                            'about "checkpoint data".',
                            f"{vm} is the one VM that keeps {d.vm.host} out of "
                            "maintenance mode: its migration fails.",
                        )
                    ),
                    f"It is {d.user}'s desktop in {d.dept[1]}.",
                ]
            else:
                subject = rng.choice(
                    (
                        f"Check {vm} before the host maintenance",
                        f"Is {vm} safe to move?",
                        f"Pre-check for {vm}",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"We patch the hosts of {d.home.name} this weekend and will move "
                            f"every VM off them. Our inventory script flags {vm} for the "
                            "checkpoint problem.",
                            f"Before we rebalance {d.home.name}, please tell me whether {vm} "
                            "would fail to migrate, and fix it if it would.",
                            f"A colleague's desktop failed to migrate last month. {vm} looks "
                            "similar to me: can you check it?",
                        )
                    ),
                    f"The desktop belongs to {d.user} ({d.dept[1]}).",
                ]
            closing = rng.choice(("Thanks", "Regards", "Cheers"))
            name = self.first
        else:
            sender = f"{d.user} <{_mail(d.user)}> ({d.dept[1]})"
            if self.failed:
                subject = rng.choice(
                    (
                        f"My PC {vm} - IT says it cannot be moved",
                        f"{vm} froze during the night maintenance?",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"the infrastructure team told me my virtual PC {vm} blocks their "
                            'maintenance because of a "checkpoint" error.',
                            f"IT wrote that moving my desktop {vm} failed last night with an "
                            "error about checkpoint data.",
                        )
                    )
                ]
            else:
                subject = rng.choice(
                    (
                        f"Question about my PC {vm}",
                        f"Will {vm} be affected by the maintenance?",
                    )
                )
                body = [
                    rng.choice(
                        (
                            f"I heard that some desktops cannot be moved during the host "
                            f"maintenance. Is my PC {vm} one of them?",
                            f"my colleague's PC had trouble when IT moved it. Can you check "
                            f"mine, {vm}, before the weekend?",
                        )
                    )
                ]
            sentence = self._screens_sentence()
            if sentence:
                body.append(sentence)
            closing = rng.choice(("Thank you", "Best regards", "Thanks a lot"))
            name = d.user.split()[0]
        if "look_alike" in d.story:
            body.append(f"Please do not mix it up with {d.story['look_alike']}.")
        if ops:
            when = (
                "A short restart is fine after 17:00 if you warn the user first.",
                "The user can log off at lunchtime.",
                "Please do not restart it during office hours.",
                "",
            )
        else:
            when = (
                "I can log off at lunchtime.",
                "Please warn me before you restart it.",
                "I have a deadline today, so please no restart before 17:00.",
                "",
            )
        body.append(rng.choice(when))
        greeting = "Hi," if ops else "Hello,"
        text = "\n".join(s for s in body if s)
        return (
            f"From: {sender}\nTo: IT Helpdesk\nSubject: {subject}\n\n{greeting}\n{text}\n\n"
            f"{closing}, {name}"
        )


def _mail(person: str) -> str:
    """``Pavel Horák`` -> ``p.horak@lab.local``: accents dropped, as mail systems do."""
    first, _, last = person.partition(" ")
    decomposed = unicodedata.normalize("NFKD", f"{first[0]}.{last}".lower())
    plain = "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "."))
    return f"{plain}@lab.local"


# --- the file -----------------------------------------------------------------------------------


def _one_line(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _flat(value: object) -> bool:
    """Small enough for one line: no nested object or list, at most 110 characters."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    nested = any(isinstance(v, dict | list) for v in items)
    return not nested and len(_one_line(value)) <= 110


def _dump(value: object, indent: int) -> str:
    pad = "  " * (indent + 1)
    if isinstance(value, dict) and value and not (_flat(value) and indent >= 1):
        inner = ",\n".join(
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {_dump(v, indent + 1)}"
            for k, v in value.items()
        )
        return "{\n" + inner + "\n" + "  " * indent + "}"
    if isinstance(value, list) and value and not _flat(value):
        inner = ",\n".join(f"{pad}{_dump(v, indent + 1)}" for v in value)
        return "[\n" + inner + "\n" + "  " * indent + "]"
    return _one_line(value)


def dumps(doc: Doc) -> str:
    """A scenario as the bundled files are written: two-space indents, small objects on one
    line, non-ASCII kept, a final line break. Deterministic for the same document."""
    return _dump(doc, 0) + "\n"
