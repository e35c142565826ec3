"""Generated training cases: a new, solvable scenario from a seed and a level.

``generate(seed, level)`` builds a format-1 scenario (``resources/scenarios/README.md``): a
ticket in a user's or a colleague's words, a datacenter with one or two clusters, their hosts,
filler VMs, a few neighbours, and one VM the ticket is about. The same seed and level always give
the same file, byte for byte, so a trainer can hand a class one case by its number.

How a case is made:

1. The level and the seed pick a *plan*: the verdict and the recommended fix the case is built
   to reach (:data:`~wizard.lab.case_plans.PLANS`). Beginners meet the article's plain cases (a
   failure seen, a VM at risk of one, one protected, one out of scope); the intermediate level
   adds hardware version 7, the versions after 8, missing Tools, hex values and the cases where
   3D is the better fix; the advanced level adds accounts that may not power VMs off or may
   change nothing, a failure seen although a protection is set, and auto-detected displays.
2. The plan draws the VM's facts: guest, hardware version, screens, video card, settings,
   history, and what the cluster must be for that fix to be the one recommended (3D needs every
   host with SSE4.1, no admission control and screens within 1920x1200).
3. Distractors that fit the level are added (:data:`~wizard.lab.case_plans.DISTRACTORS`): a
   look-alike name, an odd name, Tools not running, a guest id Tools disagree with, an upgrade
   scheduled on a neighbour, a host without SSE4.1, HA admission control, a value written in
   hex. At the beginner level they never change the way to the answer; later they may, and the
   rules decide.
4. The real rules (``wizard.kb``) judge the facts the lab will serve (:mod:`wizard.lab.served`).
   A draw that does not reach the plan is thrown away and the next one is taken, from the same
   seeded generator, so every case reaches its plan and stays reproducible.
5. Every VM of the scenario's own (not the fillers) gets its ``expect`` entry from the rules;
   the ticket, the briefing and what the case teaches are written last, from what was drawn.

Nothing here starts the lab: ``tests/integration/test_generated_scenarios.py`` loads generated
cases into the real lab and compares ``check --all`` with their ``expect``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Final

from wizard.kb.model import Verdict
from wizard.lab.case_parts import (
    ADV,
    BEG,
    CITIES,
    DEPARTMENTS,
    INT,
    PEOPLE,
    CaseDraft,
    CaseVm,
    Doc,
    new_cluster,
)
from wizard.lab.case_plans import (
    DISTRACTORS,
    HOW_MANY,
    Plan,
    admission_control,
    old_host,
    plans_for,
)
from wizard.lab.case_story import Story
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


# --- drawing ------------------------------------------------------------------------------------


def _vm_name(rng: random.Random, dept: tuple[str, str], level: Difficulty) -> str:
    n = rng.randint(1, 999)
    patterns = [f"{dept[0]}-PC-{n:03d}", f"VD-{dept[0]}-{n:03d}", f"{dept[0]}-DESK-{n:03d}"]
    if level is not BEG:
        patterns += [f"{dept[0]}-W7-{n:03d}", f"{dept[0].lower()}-vdi-{n:04d}"]
    return rng.choice(patterns)


def _scenery(d: CaseDraft) -> list[CaseVm]:
    """Two to four ordinary neighbours of the ticket's VM, each judged by the rules too."""
    out: list[CaseVm] = []
    kinds = ["linux", "server", "small", "new", "xp"]
    for kind in d.rng.sample(kinds, d.rng.randint(2, 4)):
        n = d.rng.randint(10, 989)
        if kind == "linux":
            vm = CaseVm(f"{d.dept[0].lower()}-app-{n:02d}", d.host(), guest_id="rhel8_64Guest")
            vm.tools_guest_id, vm.screen, vm.hardware_version = (
                "rhel8_64Guest",
                (1024, 768),
                "vmx-14",
            )
        elif kind == "server":
            vm = CaseVm(f"SRV-{d.dept[0]}-{n:02d}", d.host(), guest_id="windows9Server64Guest")
            vm.tools_guest_id, vm.screen, vm.hardware_version = vm.guest_id, (1024, 768), "vmx-13"
        elif kind == "small":
            vm = CaseVm(f"{d.dept[0]}-KIOSK-{n:02d}", d.host())
            vm.screen = (1280, 1024)
        elif kind == "new":
            vm = CaseVm(f"{d.dept[0]}-W10-{n:03d}", d.host(), guest_id="windows9_64Guest")
            vm.tools_guest_id, vm.hardware_version = vm.guest_id, "vmx-19"
            vm.screen, vm.displays = (1920, 1080), 2
        else:
            vm = CaseVm(f"{d.dept[0]}-XP-{n:02d}", d.host(), guest_id="winXPProGuest")
            vm.tools_guest_id, vm.hardware_version, vm.screen = vm.guest_id, "vmx-08", (1280, 1024)
            vm.displays = 2
        vm.fit_vram()
        if d.rng.random() < 0.25:
            vm.powered_off()
        out.append(vm)
    return out


def _draw(
    rng: random.Random, level: Difficulty, seed: int, plan: Plan, verdict: Verdict
) -> CaseDraft:
    dept = rng.choice(DEPARTMENTS)
    city = rng.choice(CITIES)
    people = rng.sample(PEOPLE, 2)
    d = CaseDraft(
        rng=rng,
        level=level,
        seed=seed,
        dept=dept,
        reporter=people[0],
        user=people[1],
        city=city,
        clusters=[],
        vm=CaseVm("", ""),
    )
    d.clusters.append(new_cluster(d, f"Cluster-{city}", rng.randint(2, 3 if level is BEG else 4)))
    d.vm = CaseVm(_vm_name(rng, dept, level), d.host())
    plan.draw(d, verdict)
    # The cluster the plan needs: 3D free (no admission control, SSE4.1 everywhere) or not.
    if d.needs_costly_3d:
        if d.story.get("costly") == "old_host":
            old_host(d)
        else:
            admission_control(d)
    low, high = HOW_MANY[level]
    pool = [x for x in DISTRACTORS if level in x.levels]
    chosen = rng.sample(pool, rng.randint(low, high))
    for extra in sorted(chosen, key=DISTRACTORS.index):  # a new name before its look-alikes
        extra.apply(d)
        d.distractors.append(extra.name)
    d.neighbours.extend(_scenery(d))
    return d


def _doc(d: CaseDraft) -> Doc:
    users: list[Doc] = []
    login = {"user": "helpdesk@lab.local", "password": f"Practice-{d.seed % 10_000:04d}"}
    if d.role != "admin":
        users.append({**login, "role": d.role})
    filler = {BEG: (0, 12), INT: (10, 40), ADV: (30, 120)}[d.level]
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


def _unique_names(d: CaseDraft) -> None:
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
    story = Story(d, verdict)
    doc["title"] = story.title()
    doc["briefing"] = story.briefing()
    doc["ticket"] = story.ticket()
    doc["teaches"] = list(dict.fromkeys(d.teaches))[:5]
    parse_scenario(doc, case_id(seed, level))  # the finished file is a valid scenario
    return Case(seed, level, doc, plan.name, tuple(d.distractors), attempt)


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
