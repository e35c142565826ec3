"""A sample class: debrief files as twelve trainees would save them after five cases.

Each run is scored by the real debrief (``wizard.ui.training.debrief.score``) against the real
rules' remedies for the case (``wizard.lab.served``), and saved the way the Debrief page saves
it (``to_html`` or ``to_text`` with the result data). What each trainee does is drawn from a
seeded generator and the trainee's skill: the same seed writes the same class.

``python -m tests.helpers.class_results DIR`` writes a class to ``DIR`` for a look by hand.
"""

from __future__ import annotations

import dataclasses
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

from wizard.kb.model import RemedyId, Verdict
from wizard.lab.scenario import Scenario, bundled_scenarios_dir, load_scenario
from wizard.lab.served import judge
from wizard.ui.training.coach import VmotionTry, brief_of
from wizard.ui.training.debrief import (
    TrainingRecord,
    result_data,
    score,
    to_html,
    to_text,
)

CASES = (
    "dual-screen-win7",
    "hw7-pending-upgrade",
    "guest-id-mismatch",
    "full-hd-pair-enable-3d",
    "read-only-escalate",
)
TRAINEES = (
    "Ana Souza",
    "Ben Carter",
    "Chloé Martin",
    "Dmitri Volkov",
    "Emma Larsen",
    "Farid Haddad",
    "Greta Weiss",
    "Hiro Sato",
    "Isabel Cruz",
    "Jakub Novak",
    "Kemi Adeyemi",
    "Liam O'Brien",
)
START = datetime(2024, 5, 6, 9, 0).astimezone()


def _run(
    rng: random.Random, scenario: Scenario, skill: float, started: datetime, file: Path
) -> Path:
    """One trainee's run of one case, saved to ``file`` (``.html`` or ``.txt``)."""
    brief = brief_of(scenario)
    vm = scenario.vm(brief.vm or "")
    assessment, remedies = judge(scenario, vm)
    expected = brief.expected_remedy
    right_vm = rng.random() < 0.6 + 0.4 * skill
    others = [v.name for v in scenario.vms if v.name != vm.name]
    vm_name = vm.name if right_vm or not others else others[0]
    if rng.random() < skill:
        guess: Verdict | None = brief.expected_verdict
    elif rng.random() < 0.2:
        guess = None
    else:
        guess = rng.choice([v for v in Verdict if v != brief.expected_verdict])
    if rng.random() < skill:
        chosen = expected
    else:
        chosen = rng.choice([r for r in (*RemedyId, None) if r != expected])
    read_only = brief.read_only
    applied = chosen is not None and not read_only and rng.random() < 0.9
    chosen_remedy = next((r for r in remedies if r.id == chosen), None)
    caveats = frozenset({chosen}) if chosen is not None and rng.random() < skill else frozenset()
    tries: list[VmotionTry] = []
    if rng.random() < 0.7:
        tries.append(VmotionTry(False, "Failed to flush checkpoint data!", "esx-2", False))
    if applied and rng.random() < 0.4 + 0.6 * skill:
        tries.append(VmotionTry(chosen == expected, "done", "esx-2", True))
    record = TrainingRecord(
        vm_name=vm_name,
        guess=guess,
        chosen=chosen,
        chosen_needs_power_off=bool(chosen_remedy and chosen_remedy.needs_power_off),
        applied=applied,
        caveats_opened=caveats,
        steps=(("power_off", "done"),) if applied and rng.random() < 0.1 else (),
        graceful_possible=vm.tools_running,
        vmotion=tuple(tries),
    )
    minutes = rng.uniform(6, 14) + (1 - skill) * rng.uniform(5, 25)
    finished = started + timedelta(minutes=minutes)
    debrief = dataclasses.replace(
        score(brief, record, remedies, seen=assessment.verdict), when=finished
    )
    trainee = file.parent.name
    data = result_data(
        debrief, brief, record, trainee=trainee, started=started, hints=rng.randint(0, 3)
    )
    if file.suffix == ".txt":
        file.write_text(to_text(debrief, trainee, data), encoding="utf-8")
    else:
        file.write_text(to_html(debrief, trainee, data), encoding="utf-8")
    return file


def write_class(
    folder: Path,
    *,
    seed: int = 2024,
    trainees: tuple[str, ...] = TRAINEES,
    cases: tuple[str, ...] = CASES,
) -> list[Path]:
    """Debrief files of ``trainees`` x ``cases`` under ``folder``, one subfolder per trainee
    (as a trainer collects them). Some trainees try a case twice; some save text, not HTML.

    Returns:
        Every file written.
    """
    rng = random.Random(seed)
    scenarios = [load_scenario(bundled_scenarios_dir() / f"{case}.json") for case in cases]
    written: list[Path] = []
    for n, name in enumerate(trainees):
        skill = rng.uniform(0.35, 0.97)
        own = folder / name
        own.mkdir(parents=True, exist_ok=True)
        clock = START + timedelta(minutes=3 * n)
        for scenario in scenarios:
            for attempt in range(2 if rng.random() < 0.15 else 1):
                suffix = ".txt" if rng.random() < 0.2 else ".html"
                file = own / f"debrief-{scenario.id}-{attempt + 1}{suffix}"
                written.append(_run(rng, scenario, min(1.0, skill + 0.2 * attempt), clock, file))
                clock += timedelta(minutes=40)
    return written


EXAM_KEY = b"exam-key-for-tests"
"""The session key the sample exams are signed with."""


def write_exam_class(
    folder: Path,
    *,
    seed: int = 7,
    trainees: tuple[str, ...] = TRAINEES,
    cases: tuple[str, ...] = CASES,
    key: bytes = EXAM_KEY,
    edited: tuple[str, ...] = (),
    unfinished: tuple[str, ...] = (),
) -> list[Path]:
    """One exam result file per trainee (``exam-*.json`` in ``folder``), signed with ``key``,
    as the exam window writes them. The trainees in ``edited`` raised their score afterwards
    (the file's own text changed, the signature left alone); those in ``unfinished`` stopped
    after two cases."""
    from wizard.lab.exam import add_case, dumps, new_result, result_file_name, sign

    rng = random.Random(seed)
    scenarios = [load_scenario(bundled_scenarios_dir() / f"{case}.json") for case in cases]
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    scratch = folder / ".scratch"
    for n, name in enumerate(trainees):
        skill = rng.uniform(0.35, 0.97)
        started = START + timedelta(days=1, minutes=n)
        result = new_result(
            product="0.1.0", title="Final exam", labels=cases, trainee=name, started=started
        )
        clock = started
        for scenario in scenarios[: 2 if name in unfinished else len(scenarios)]:
            own = scratch / name
            own.mkdir(parents=True, exist_ok=True)
            file = _run(rng, scenario, skill, clock, own / f"{scenario.id}.txt")
            from wizard.lab.results import embedded_record

            data = embedded_record(file.read_text(encoding="utf-8"))
            assert data is not None
            data["trainee"] = name
            clock = datetime.fromisoformat(data["finished"]) + timedelta(minutes=1)
            result = add_case(result, data, clock)
        signed = sign(result, key)
        if name in edited:
            for case in signed["cases"]:
                for point in case["points"]:
                    point["mark"] = "good"
                case["passed"] = True
            signed["score"] = 100
        target = folder / result_file_name(name, started)
        target.write_text(dumps(signed), encoding="utf-8")
        written.append(target)
    import shutil

    shutil.rmtree(scratch)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "sample-class")
    files = write_class(target)
    sys.stdout.write(f"{len(files)} debrief files in {target}\n")
