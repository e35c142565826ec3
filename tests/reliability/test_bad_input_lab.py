"""Bad input that needs vCenter: odd VM names, damaged scenario files, and undo from a
hand-edited journal.

VM names with every character vSphere escapes (``%``, ``/``, ``\\``), markup, quotes, blanks,
right-to-left marks, emoji and other scripts are found by name and checked, through the API and
the command line. Damaged scenario files go to both readers (the wizard's and the lab's), which
must judge each alike. A journal entry edited by hand is refused with a message, and the intact
entries of a damaged journal can still be undone.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import StartLab, cli_login, scenario_vm
from tests.helpers.scenario_corpus import disagreement, fixed_cases, judge, mutated_cases, write
from tests.helpers.vsphere_lab import session_to
from tests.reliability.figures import current_size, record
from tests.reliability.test_secrets import run_cli
from wizard import paths
from wizard.kb import assess
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm

pytestmark = [pytest.mark.lab, pytest.mark.slow]

FIXED_NAMES = [
    "Büro-PC 7/2 50%",
    "back\\slash %2f not-escaped",
    "<script>alert(1)</script>",
    "quote \" and ' and `",
    "tab\tinside",
    "rtl \u202eexe.txt",
    "emoji 😀 漢字 العربية",
    "%25%2f%5c",
    "a" * 80,
    "trailing dot.",
]
ALPHABET = "abcXYZ019 -_.%/\\<>&\"'#?*:|()[]{}üéß漢😀\u00a0\u202e"


def odd_names(count: int, seed: int = 20240501) -> list[str]:
    rng = random.Random(seed)
    names: list[str] = []
    while len(names) < count:
        length = rng.randint(1, 30)
        name = "".join(rng.choice(ALPHABET) for _ in range(length)).strip()
        if name and name.casefold() not in {n.casefold() for n in names + FIXED_NAMES}:
            names.append(name)
    return names


def test_vms_with_odd_names_are_found_and_checked(start_lab: StartLab) -> None:
    names = FIXED_NAMES + odd_names(current_size().odd_names)
    scenario: dict[str, Any] = dict(SCENARIO)
    scenario["vms"] = [scenario_vm(name) for name in names]
    lab = start_lab(scenario)
    problems = []
    with session_to(lab, timeout=10.0) as session:
        for name in names:
            try:
                ref = resolve_vm(session, name)
                facts = collect_facts(session, ref.moref)
                assert ref.name == name, ref.name
                assert facts.name == name, facts.name
                assert assess(facts).verdict.value == "affected"
            except Exception as exc:  # noqa: BLE001 - every name is tried, all reported
                problems.append(f"{name!r}: {type(exc).__name__}: {exc}")
    for name in FIXED_NAMES[:4]:
        code, out, err = run_cli(
            ["check", *cli_login(lab), "--vm", name, "--json"], lab.password + "\n"
        )
        if code != 0 or json.loads(out)["vm"]["name"] != name:
            problems.append(f"command line {name!r}: exit {code}: {err}")
    record("bad_inputs", kind="VM names against the lab", tried=len(names) + 4)
    assert not problems, "\n".join(problems)


def test_damaged_scenario_files_are_judged_alike_by_both_readers(
    lab_binary_path: Path, tmp_path: Path
) -> None:
    cases = fixed_cases() + mutated_cases(current_size().examples * 5, seed=20240612)
    written = write(cases, tmp_path / "corpus")
    tls = tmp_path / "tls"
    tls.mkdir()
    # The first file alone: the lab that starts first makes the shared certificate, and two
    # labs making it at once would find each other's half-made pair.
    verdicts = [judge(written[0][1], lab_binary_path, tls)]
    with ThreadPoolExecutor(2) as pool:
        verdicts += pool.map(lambda cp: judge(cp[1], lab_binary_path, tls), written[1:])
    problems = [disagreement(case, v) for (case, _), v in zip(written, verdicts, strict=True)]
    record("bad_inputs", kind="scenario files, both readers", tried=len(cases))
    assert not [p for p in problems if p is not None], "\n".join(p for p in problems if p)


def test_undo_from_a_damaged_journal(start_lab: StartLab) -> None:
    lab = start_lab(SCENARIO)
    base = cli_login(lab)
    entries = []
    for vm in ("Off W7", "HW10 W7"):
        code, out, err = run_cli(
            ["apply", *base, "--vm", vm, "--remedy", "raise_buffer", "--allow-shutdown", "--yes"],
            lab.password + "\n",
        )
        assert code == 0, out + err
        entries.append(out.rsplit("Journal entry: ", 1)[1].split()[0])
    journal = paths.data_dir() / "journal.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines()
    edited = []
    for line in lines:
        rec = json.loads(line)
        if rec["entry"] == entries[0] and rec.get("changes"):
            # A number where a string belongs, in every record that says what was changed.
            rec["changes"][0]["to"] = 16777216
        edited.append(json.dumps(rec))
    # Hand-edited, and cut off mid-line at the end as by a crash.
    journal.write_text("\n".join(edited) + '\n{"v": 1, "entry": "tr', encoding="utf-8")

    code, out, err = run_cli(["undo", *base, entries[0], "--yes"], lab.password + "\n")
    assert code == 5, out + err
    assert "cannot be undone" in err
    assert "Traceback" not in err
    code, out, err = run_cli(["journal"], "")
    assert code == 0
    assert all(e in out for e in entries)
    assert "line " in out  # the cut line is reported by number
    code, out, err = run_cli(
        ["undo", *base, entries[1], "--allow-shutdown", "--yes"], lab.password + "\n"
    )
    assert code == 0, out + err
    assert out.startswith("APPLIED: Undone")
    record("bad_inputs", kind="damaged journal, undo", tried=3)
