"""What generated training cases are made of: the names, places, CPUs, guests and screens
they draw from, and the VMs, clusters and draft a draw fills in (:mod:`wizard.lab.generate`)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Final

from wizard.lab.scenario import Difficulty

Doc = dict[str, Any]


DEPARTMENTS: Final = (
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
PEOPLE: Final = (
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
CITIES: Final = ("Lyon", "Porto", "Graz", "Tampere", "Leeds", "Gdansk", "Bilbao", "Utrecht")
_MODERN_CPUS: Final = (
    "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz",
    "Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz",
    "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz",
    "AMD EPYC 7302 16-Core Processor",
    "Intel(R) Xeon(R) CPU E5-2650 v2 @ 2.60GHz",
)
OLD_CPUS: Final = (
    "Intel(R) Xeon(R) CPU 5160 @ 3.00GHz",
    "Intel(R) Xeon(R) CPU E5345 @ 2.33GHz",
    "Quad-Core AMD Opteron(tm) Processor 2356",
)
"""CPUs older than Nehalem, without SSE4.1."""

WDDM_ARTICLE: Final = (
    "windows7_64Guest",
    "windows7Guest",
    "winVista64Guest",
    "windows7Server64Guest",
    "winLonghorn64Guest",
)
WDDM_LATER: Final = ("windows9_64Guest", "windows8_64Guest")
NOT_WDDM: Final = (
    "rhel8_64Guest",
    "ubuntu64Guest",
    "debian11_64Guest",
    "sles15_64Guest",
    "winXPProGuest",
    "winNetStandardGuest",
)
SCREEN_NAMES: Final = {
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
SMALL: Final = ((1024, 768), (1280, 1024))
"""At most one 1280x1024 screen: condition C1 is not met with one display."""
ARTICLE_PAIR: Final = ((1280, 1024), (1440, 900), (1600, 1200), (1680, 1050))
"""Two of these stay within the article's 20 MB figure."""
BIG_SINGLE: Final = ((1920, 1080), (1920, 1200), (1600, 1200), (2560, 1440))
BEYOND_PAIR_3D_OK: Final = ((1920, 1080), (1920, 1200))
"""Two of these need more than the article's figures, yet stay within 3D's 1920x1200."""
ABOVE_3D: Final = ((2560, 1440), (2560, 1600))


@dataclass
class CaseVm:
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
class CaseCluster:
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
class CaseDraft:
    """Everything one draw decided: the inventory and the story behind it."""

    rng: random.Random
    level: Difficulty
    seed: int
    dept: tuple[str, str]
    reporter: str
    user: str
    city: str
    clusters: list[CaseCluster]
    vm: CaseVm
    neighbours: list[CaseVm] = field(default_factory=list)
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
    def home(self) -> CaseCluster:
        return self.clusters[0]

    def host(self, cluster: CaseCluster | None = None) -> str:
        return self.rng.choice((cluster or self.home).hosts)[0]


def new_cluster(d: CaseDraft, name: str, hosts: int) -> CaseCluster:
    site = "esx-" + "".join(ch for ch in name.split("-")[-1].lower() if ch.isalnum())[:4]
    return CaseCluster(
        name,
        [
            (f"{site}{i:02d}.lab.local", d.rng.choice(_MODERN_CPUS), True)
            for i in range(1, hosts + 1)
        ],
        ha=d.rng.random() < 0.7,
        admission_control=False,
    )


BEG, INT, ADV = Difficulty.BEGINNER, Difficulty.INTERMEDIATE, Difficulty.ADVANCED
