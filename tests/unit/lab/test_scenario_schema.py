"""``resources/scenarios/scenario.schema.json`` says what the readers say, as far as a schema can.

Editors complete and check scenario files with the schema; the readers (``wizard.lab.scenario``
and the lab's ``scenario.go``) stay the reference. So: every file the readers accept, the schema
accepts (an editor never underlines a good file), and every file they refuse, the schema refuses
too, unless the reason is one of the few a schema cannot state (:data:`BEYOND_A_SCHEMA`). The
numbers, patterns and choices in the schema are the readers' own constants.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tests.helpers.lab import REPO
from tests.helpers.scenario_corpus import Case, fixed_cases, mutated_cases
from wizard.kb.model import RemedyId, Verdict
from wizard.lab import scenario as sc
from wizard.lab import scenario_parse
from wizard.lab.generate import generate

SCHEMA_PATH = sc.bundled_scenarios_dir() / sc.SCHEMA_FILE_NAME

_DECIMAL_WHOLE = re.compile(r"got -?[0-9]+\.0$")
"""A whole number written with a decimal point (``1920.0``, or ``1.2e3``): JSON Schema's
``integer`` allows it, the readers do not (the README says: no decimals)."""

BEYOND_A_SCHEMA = (
    "is already used",  # a name given twice (users, clusters, hosts, VMs)
    "is listed twice",
    "no host named",  # a VM's host must be listed under clusters
    "no VM named",  # expect and vm_of_interest name listed VMs
    "has no entry for the vm_of_interest",
    "differs from login.password",
)
"""What the readers refuse that a JSON Schema cannot say: references between fields and names
used once. The schema's description names them, and ``scenario validate`` checks them."""


@cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return loaded


@cache
def validator() -> Draft202012Validator:
    return Draft202012Validator(schema())


def _errors(doc: object) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator().iter_errors(doc)
    ]


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


BUNDLED = sc.bundled_scenario_files()


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_every_bundled_scenario_follows_the_schema(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["$schema"] == f"./{sc.SCHEMA_FILE_NAME}"  # editors find the schema by it
    assert _errors(doc) == []


def test_the_readme_example_follows_the_schema() -> None:
    page = (sc.bundled_scenarios_dir() / "README.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```json\n(.*?)```", page, re.DOTALL)
    assert _errors(json.loads(example)) == []


@pytest.mark.parametrize("level", list(sc.Difficulty))
def test_generated_cases_follow_the_schema(level: sc.Difficulty) -> None:
    for seed in range(0, 3000, 37):
        assert _errors(generate(seed, level).doc) == [], f"seed {seed}"


def _parsed(case: Case) -> object | None:
    """The document as JSON, None when it is not JSON a schema can be applied to (not UTF-8,
    not JSON, a key given twice: the readers refuse those before any field)."""

    def no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            raise ValueError("a key given twice")
        return dict(pairs)

    try:
        text = case.data.decode("utf-8").removeprefix("\ufeff")
        return json.loads(text, object_pairs_hook=no_repeats)  # type: ignore[no-any-return]
    except (ValueError, RecursionError):
        return None


def _reader(case: Case) -> sc.ScenarioError | None:
    try:
        sc.parse_scenario_json(case.data, case.name)
    except sc.ScenarioError as exc:
        return exc
    return None


CORPUS = fixed_cases() + mutated_cases(150)


def test_the_schema_and_the_reader_judge_the_corpus_alike() -> None:
    """Accepted by the reader: valid for the schema. Refused: invalid, unless for a reason
    beyond a schema."""
    problems = []
    judged = 0
    for case in CORPUS:
        doc = _parsed(case)
        refused = _reader(case)
        if doc is None or (refused is not None and refused.path == "(file)"):
            continue  # not JSON, or refused as a file: no schema is involved
        judged += 1
        errors = _errors(doc)
        if refused is None and errors:
            problems.append(f"{case.name}: the reader accepts it, the schema says {errors[0]}")
        elif refused is not None and not errors:
            beyond = any(reason in refused.problem for reason in BEYOND_A_SCHEMA)
            if not beyond and not _DECIMAL_WHOLE.search(refused.problem):
                problems.append(f"{case.name}: the schema accepts it, the reader: {refused}")
    assert not problems, "\n".join(problems)
    assert judged > 250


def _find(node: object, key: str) -> list[Any]:
    """Every value of ``key`` anywhere in the schema."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                found.append(v)
            found += _find(v, key)
    elif isinstance(node, list):
        for v in node:
            found += _find(v, key)
    return found


def test_the_schema_s_fields_are_the_reader_s() -> None:
    s = schema()
    assert set(s["required"]) == set(scenario_parse.TOP_REQUIRED)
    assert set(s["properties"]) == set(scenario_parse.TOP_REQUIRED) | set(
        scenario_parse.TOP_OPTIONAL
    )
    vm = s["$defs"]["vm"]
    assert vm["required"] == list(scenario_parse.VM_FIELDS)
    assert set(vm["properties"]) == set(scenario_parse.VM_FIELDS)
    assert s["properties"]["format"] == {
        "description": "The scenario format: 1.",
        "const": sc.FORMAT,
    }
    # Nothing is ignored silently: every object refuses unknown fields.
    objects = [d for d in _find(s, "properties") if isinstance(d, dict)]
    assert all(
        o.get("additionalProperties") is False
        for o in [s, *(v for v in s["$defs"].values() if "properties" in v)]
    )
    assert len(objects) >= 10


def test_the_schema_s_bounds_are_the_readers_constants() -> None:
    s = schema()
    d = s["$defs"]
    assert s["properties"]["filler_vms"]["maximum"] == sc.MAX_FILLER_VMS
    assert s["properties"]["id"]["maxLength"] == sc.MAX_ID_LENGTH
    assert s["properties"]["id"]["pattern"] == f"^{sc.ID_PATTERN.pattern}$"
    assert d["hardwareVersion"]["pattern"] == f"^{sc.HARDWARE_VERSION_PATTERN.pattern}$"
    assert {"maxLength": sc.MAX_NAME_LENGTH} in d["name"]["allOf"]
    video = d["vm"]["properties"]["video"]["properties"]
    assert (video["displays"]["minimum"], video["displays"]["maximum"]) == (1, sc.MAX_DISPLAYS)
    assert (video["vram_kb"]["minimum"], video["vram_kb"]["maximum"]) == (1, sc.MAX_VRAM_KB)
    (_, screen) = d["vm"]["properties"]["screen"]["oneOf"]
    assert screen["items"]["maximum"] == sc.MAX_SCREEN_SIDE
    # The Go reader has the same numbers (it is tested to agree with the Python one file by
    # file; here its constants are read, so a change in one place shows at once).
    go = (REPO / "resources" / "lab" / "scenario.go").read_text(encoding="utf-8")
    consts = dict(re.findall(r"^\s+(max\w+)\s+=\s+([0-9 *]+)$", go, re.MULTILINE))
    numbers = {k: eval(v, {"__builtins__": {}}) for k, v in consts.items()}  # noqa: S307
    assert numbers["maxFillerVMs"] == s["properties"]["filler_vms"]["maximum"]
    assert numbers["maxDisplays"] == video["displays"]["maximum"]
    assert numbers["maxScreenSide"] == screen["items"]["maximum"]
    assert numbers["maxVRAMKB"] == video["vram_kb"]["maximum"]
    assert numbers["maxNameLength"] == sc.MAX_NAME_LENGTH
    assert numbers["maxIDLength"] == s["properties"]["id"]["maxLength"]


def test_the_schema_s_choices_are_the_reader_s() -> None:
    d = schema()["$defs"]
    vm = d["vm"]["properties"]
    assert d["user"]["properties"]["role"]["enum"] == [r.value for r in sc.Role]
    assert vm["power_state"]["enum"] == [p.value for p in sc.PowerState]
    (_, policy) = vm["upgrade_policy"]["oneOf"]
    assert policy["properties"]["policy"]["enum"] == [p.value for p in sc.UpgradePolicyName]
    assert schema()["properties"]["difficulty"]["enum"] == [x.value for x in sc.Difficulty]
    expectation = d["expectation"]["properties"]
    assert expectation["verdict"]["enum"] == [v.value for v in Verdict]
    assert expectation["recommended"]["enum"] == [*(r.value for r in RemedyId), None]


def test_blank_and_uncarried_text_is_what_the_reader_calls_it() -> None:
    """The schema's idea of "blank" is Python's ``str.strip()``; of "cannot be carried" the
    reader's XML rule. Each character is tried alone, and after a letter."""
    text = Draft202012Validator({"$defs": schema()["$defs"], "$ref": "#/$defs/text"})
    for code in [*range(0x0, 0x3001), 0xFEFF, 0xFFFE, 0xFFFF, 0x1F600, 0xE0041]:
        if 0xD800 <= code <= 0xDFFF:
            continue
        for value in (chr(code), "a" + chr(code)):
            reader_ok = bool(value.strip()) and scenario_parse.NOT_XML.search(value) is None
            assert text.is_valid(value) == reader_ok, f"{value!r}"
