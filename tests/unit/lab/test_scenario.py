"""Scenario format 1: every validation rule, the bundled scenarios, and the picker's listing."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers.lab import scenario_vm
from tests.helpers.scenario_corpus import base as corpus_base
from tests.helpers.scenario_corpus import nodes
from wizard.kb.model import RemedyId, Verdict
from wizard.lab import scenario as sc
from wizard.lab.scenario import (
    DEFAULT_SCENARIO_ID,
    Difficulty,
    PowerState,
    Role,
    Scenario,
    ScenarioError,
    bundled_scenarios_dir,
    list_scenarios,
    load_scenario,
    parse_scenario,
    parse_scenario_json,
)

BROKEN = Path(__file__).parent / "broken"

Doc = dict[str, Any]
PathT = tuple[str | int, ...]

_BASE: Doc = {
    **corpus_base(),  # its login, users and VM of interest
    "id": "test-scenario",
    "title": "Test scenario",
    "briefing": "A VM fails to migrate. Fix it.",
    "ticket": "From: someone\nSubject: HD-W7-042 will not move",
    "datacenter": "DC-Test",
    "clusters": [
        {
            "name": "Cluster-A",
            "ha": {"enabled": True, "admission_control": True},
            "hosts": [
                {"name": "esx-a1", "cpu_model": "Intel(R) Xeon(R) CPU E5-2680 v2", "sse41": True}
            ],
        },
        {
            "name": "Cluster-B",
            "ha": {"enabled": False, "admission_control": False},
            "hosts": [{"name": "esx-b1", "cpu_model": "AMD Opteron(tm) 2384", "sse41": False}],
        },
    ],
    "vms": [
        scenario_vm(
            "HD-W7-042",
            "esx-a1",
            extra_config={"migrate.baseCptCacheSize": "8388608"},
            upgrade_policy={"policy": "onSoftPowerOff", "version": "vmx-09"},
            history={"failed_vmotion": True},
        ),
        {
            "name": "Büro-PC 7/2 50%",
            "host": "esx-b1",
            "hardware_version": "vmx-07",
            "guest_id": "windows7Guest",
            "tools_guest_id": None,
            "tools_running": False,
            "power_state": "poweredOff",
            "screen": None,
            "video": {"displays": 1, "vram_kb": 4096, "auto_detect": True, "enable_3d": True},
            "extra_config": {},
            "upgrade_policy": {"policy": "never", "version": None},
            "history": {"failed_vmotion": False},
        },
    ],
    "expect": {
        "HD-W7-042": {"verdict": "confirmed", "recommended": "raise_buffer"},
        "Büro-PC 7/2 50%": {"verdict": "not_affected", "recommended": None},
    },
}

_TOP_OPTIONAL = {"ticket", "difficulty", "teaches", "datacenter", "vm_of_interest"}
_FREE_KEYS = {"extra_config", "expect"}
"""Objects whose keys are names (settings, VMs), not fields."""
_NULLABLE = {"tools_guest_id", "screen", "version", "recommended", "upgrade_policy"}
_ALL_FIELD_NAMES = {
    *_TOP_OPTIONAL,
    *(path[-1] for path, _ in nodes(_BASE) if path and isinstance(path[-1], str)),
}
"""Every field name the base scenario uses (and some names of VMs and settings)."""


def _doc() -> Doc:
    return copy.deepcopy(_BASE)


def _render(path: PathT) -> str:
    """A path tuple written the way the loader names field paths."""
    out = ""
    for i, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part) and path[i - 1 : i] not in {
            ("expect",),
            ("extra_config",),
        }:
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part, ensure_ascii=False)}]"
    return sc.escape_controls(out)


def _parent(doc: Any, path: PathT) -> Any:
    node = doc
    for part in path[:-1]:
        node = node[part]
    return node


def _set(path: PathT, value: object) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        _parent(doc, path)[path[-1]] = value

    return mutate


def _delete(path: PathT) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        del _parent(doc, path)[path[-1]]

    return mutate


def _rename(path: PathT, new: str) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        parent = _parent(doc, path)
        parent[new] = parent.pop(path[-1])

    return mutate


def _append(path: PathT, value: object) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        _parent(doc, path)[path[-1]].append(copy.deepcopy(value))

    return mutate


def _refused(doc: object) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(doc, "test.json")
    return info.value


# --- a valid document -----------------------------------------------------------------------


def test_valid_document_gives_frozen_dataclasses() -> None:
    s = parse_scenario(_doc(), "test.json")
    assert s.id == "test-scenario"
    assert s.login_role is Role.ADMIN
    assert [u.role for u in s.users] == [Role.READ_ONLY]
    assert [c.name for c in s.clusters] == ["Cluster-A", "Cluster-B"]
    assert [h.sse41 for h in s.hosts] == [True, False]
    vm = s.vm("HD-W7-042")
    assert vm.screen == (1920, 1200)
    assert vm.power_state is PowerState.POWERED_ON
    assert vm.video.displays == 2
    assert vm.extra_config == (("migrate.baseCptCacheSize", "8388608"),)
    assert vm.upgrade_policy.version == "vmx-09"
    assert s.cluster_of(vm.host).name == "Cluster-A"
    odd = s.vm("Büro-PC 7/2 50%")
    assert (odd.screen, odd.tools_guest_id, odd.upgrade_policy.version) == (None, None, None)
    assert s.expectation("HD-W7-042") == sc.Expectation(
        "HD-W7-042", Verdict.CONFIRMED, RemedyId.RAISE_BUFFER
    )
    assert s.expectation("Büro-PC 7/2 50%") == sc.Expectation(
        "Büro-PC 7/2 50%", Verdict.NOT_AFFECTED, None
    )
    assert s.difficulty is Difficulty.BEGINNER
    assert s.teaches == ("Read the conditions",)
    with pytest.raises(AttributeError):
        s.id = "other"  # type: ignore[misc]
    assert "pw-1" not in repr(s)


def test_a_null_upgrade_policy_means_no_upgrade_is_scheduled() -> None:
    """Authors write ``"upgrade_policy": null`` for a VM nobody scheduled an upgrade for."""
    doc = _doc()
    doc["vms"][0]["upgrade_policy"] = None
    vm = parse_scenario(doc, "test.json").vm("HD-W7-042")
    assert vm.upgrade_policy == sc.UpgradePolicySpec(sc.UpgradePolicyName.NEVER, None)


def test_optional_training_fields_may_be_left_out() -> None:
    doc = _doc()
    for key in _TOP_OPTIONAL:
        del doc[key]
    s = parse_scenario(doc, "test.json")
    assert (s.ticket, s.difficulty, s.teaches, s.datacenter, s.vm_of_interest) == (
        None,
        None,
        (),
        None,
        None,
    )


def _chain(*mutations: Callable[[Doc], None]) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        for m in mutations:
            m(doc)

    return mutate


@pytest.mark.parametrize(
    ("mutate", "check"),
    [
        pytest.param(
            _append(
                ("users",), {"user": "helpdesk@lab.local", "password": "pw-1", "role": "no-power"}
            ),
            lambda s: s.login_role is Role.NO_POWER,
            id="login-listed-in-users-takes-that-role",
        ),
        pytest.param(
            _set(("vms", 0, "screen"), None),
            lambda s: s.vms[0].screen is None,
            id="tools-running-but-no-screen",
        ),
        pytest.param(
            _set(("vms", 0, "extra_config"), {"migrate.baseCptCacheSize": "16 MB", "x": ""}),
            lambda s: s.vms[0].extra_config == (("migrate.baseCptCacheSize", "16 MB"), ("x", "")),
            id="extra-config-values-are-free-text",
        ),
        pytest.param(
            _chain(_set(("expect",), {}), _delete(("vm_of_interest",))),
            lambda s: s.expect == (),
            id="expect-may-be-empty-without-vm-of-interest",
        ),
        pytest.param(
            _set(("filler_vms",), sc.MAX_FILLER_VMS),
            lambda s: s.filler_vms == sc.MAX_FILLER_VMS,
            id="filler-at-its-limit",
        ),
        pytest.param(
            _set(("vms", 0, "video", "displays"), sc.MAX_DISPLAYS),
            lambda s: s.vms[0].video.displays == sc.MAX_DISPLAYS,
            id="ten-displays",
        ),
        pytest.param(
            _chain(
                _set(("vms", 0, "power_state"), "suspended"),
                _set(("vms", 0, "tools_running"), False),
                _set(("vms", 0, "screen"), None),
            ),
            lambda s: s.vms[0].power_state is PowerState.SUSPENDED,
            id="suspended-without-tools",
        ),
        pytest.param(
            _set(("vms", 1, "tools_guest_id"), "winXPProGuest"),
            lambda s: s.vms[1].tools_guest_id == "winXPProGuest",
            id="last-known-guest-id-of-a-stopped-vm",
        ),
    ],
)
def test_accepted_variants(
    mutate: Callable[[Doc], None], check: Callable[[Scenario], bool]
) -> None:
    doc = _doc()
    mutate(doc)
    assert check(parse_scenario(doc, "test.json"))


# --- every validation rule ------------------------------------------------------------------

_VM0 = ("vms", 0)
_CASES = [
    # format
    (_set(("format",), 2), "format", "reads format 1, got 2"),
    (_set(("format",), "1"), "format", 'got "1"'),
    (_set(("format",), True), "format", "got true"),
    (_set(("format",), 1.0), "format", "got 1.0"),
    (_delete(("format",)), "format", "missing"),
    # document shape and unknown fields
    (_set(("expects",), {}), "expects", 'Did you mean "expect"?'),
    (_set(("colour",), "red"), "colour", "unknown field"),
    (_set((*_VM0, "video", "colour"), "red"), "vms[0].video.colour", "unknown field"),
    (_rename((*_VM0, "hardware_version"), "hardware_verison"), "vms[0].hardware_verison", "mean"),
    (_set(("login", "role"), "admin"), "login.role", "unknown field"),
    (_set(("expect", "HD-W7-042", "reason"), "x"), 'expect["HD-W7-042"].reason', "unknown"),
    # id, title, briefing
    (_set(("id",), "Dual Screen"), "id", "not a usable id"),
    (_set(("id",), "dual--screen"), "id", "not a usable id"),
    (_set(("id",), "a" * 65), "id", "at most 64"),
    (_set(("id",), ""), "id", "is empty"),
    (_set(("title",), 5), "title", "expected a string, got 5"),
    (_set(("briefing",), "   "), "briefing", "is empty"),
    (_delete(("briefing",)), "briefing", "missing"),
    # login and users
    (_delete(("login",)), "login", "missing"),
    (_set(("login",), ["helpdesk", "pw"]), "login", "expected an object"),
    (_delete(("login", "password")), "login.password", "missing"),
    (_set(("login", "user"), None), "login.user", "got null"),
    (_set(("users",), {}), "users", "expected a list"),
    (_set(("users", 0, "role"), "superuser"), "users[0].role", '"read-only", "no-power"'),
    (_set(("users", 0, "role"), "Admin"), "users[0].role", 'got "Admin"'),
    (
        _append(("users",), {"user": "viewer@lab.local", "password": "x", "role": "admin"}),
        "users[1].user",
        "already used at users[0].user",
    ),
    (
        _append(
            ("users",), {"user": "helpdesk@lab.local", "password": "other", "role": "no-power"}
        ),
        "users[1].password",
        "differs from login.password",
    ),
    # filler
    (_set(("filler_vms",), -1), "filler_vms", "whole number from 0 to 20000, got -1"),
    (_set(("filler_vms",), 20001), "filler_vms", "got 20001"),
    (_set(("filler_vms",), "3000"), "filler_vms", 'got "3000"'),
    (_set(("filler_vms",), 2.5), "filler_vms", "got 2.5"),
    (_set(("filler_vms",), False), "filler_vms", "got false"),
    # clusters and hosts
    (_set(("clusters",), []), "clusters", "at least 1 entry"),
    (_set(("clusters", 0, "hosts"), []), "clusters[0].hosts", "at least 1 entry"),
    (_set(("clusters", 0, "ha", "enabled"), "yes"), "clusters[0].ha.enabled", "true or false"),
    (_delete(("clusters", 0, "ha", "admission_control")), "clusters[0].ha.admission_control", ""),
    (_delete(("clusters", 0, "hosts", 0, "sse41")), "clusters[0].hosts[0].sse41", "missing"),
    (_set(("clusters", 0, "hosts", 0, "sse41"), 1), "clusters[0].hosts[0].sse41", "got 1"),
    (_set(("clusters", 0, "hosts", 0, "cpu_model"), ""), "clusters[0].hosts[0].cpu_model", ""),
    (_set(("clusters", 1, "name"), "Cluster-A"), "clusters[1].name", "already used"),
    (_set(("clusters", 1, "hosts", 0, "name"), "esx-a1"), "clusters[1].hosts[0].name", "host"),
    # VMs
    (_set(("vms",), []), "vms", "at least 1 entry"),
    (_set(("vms", 1, "name"), "HD-W7-042"), "vms[1].name", 'VM "HD-W7-042" is already used'),
    (_set((*_VM0, "name"), "x" * 81), "vms[0].name", "vCenter allows 80"),
    (_set((*_VM0, "host"), "esx-z9"), "vms[0].host", 'no host named "esx-z9" in any cluster'),
    (_set((*_VM0, "hardware_version"), "8"), "vms[0].hardware_version", 'like "vmx-08"'),
    (_set((*_VM0, "hardware_version"), "vmx-8"), "vms[0].hardware_version", "vmx-"),
    (_set((*_VM0, "hardware_version"), "VMX-08"), "vms[0].hardware_version", "vmx-"),
    (_set((*_VM0, "hardware_version"), "vmx-008"), "vms[0].hardware_version", "vmx-"),
    (_set((*_VM0, "hardware_version"), 8), "vms[0].hardware_version", "got 8"),
    (_set((*_VM0, "guest_id"), ""), "vms[0].guest_id", "is empty"),
    (_set((*_VM0, "tools_guest_id"), ""), "vms[0].tools_guest_id", "is empty"),
    (_set((*_VM0, "tools_guest_id"), False), "vms[0].tools_guest_id", "expected a string"),
    (_set((*_VM0, "tools_running"), "true"), "vms[0].tools_running", 'got "true"'),
    (_set((*_VM0, "power_state"), "on"), "vms[0].power_state", '"poweredOn", "poweredOff"'),
    (_set((*_VM0, "power_state"), "poweredOff"), "vms[0].tools_running", "poweredOff"),
    (_set(("vms", 1, "screen"), [800, 600]), "vms[1].screen", "tools_running is false"),
    (_set((*_VM0, "screen"), "1920x1200"), "vms[0].screen", "[width, height] or null"),
    (_set((*_VM0, "screen"), [1920]), "vms[0].screen", "[width, height]"),
    (_set((*_VM0, "screen"), [1920, 1200, 32]), "vms[0].screen", "[width, height]"),
    (_set((*_VM0, "screen"), [0, 1200]), "vms[0].screen[0]", "from 1 to 16384, got 0"),
    (_set((*_VM0, "screen"), [1920, 1200.0]), "vms[0].screen[1]", "got 1200.0"),
    (_set((*_VM0, "screen"), [True, 1200]), "vms[0].screen[0]", "got true"),
    (_set((*_VM0, "video"), None), "vms[0].video", "expected an object"),
    (_set((*_VM0, "video", "displays"), "two"), "vms[0].video.displays", 'got "two"'),
    (_set((*_VM0, "video", "displays"), 0), "vms[0].video.displays", "from 1 to 10"),
    (_set((*_VM0, "video", "displays"), 11), "vms[0].video.displays", "got 11"),
    (_set((*_VM0, "video", "vram_kb"), 0), "vms[0].video.vram_kb", "from 1 to 4194304"),
    (_set((*_VM0, "video", "auto_detect"), None), "vms[0].video.auto_detect", "true or false"),
    (_set((*_VM0, "video", "enable_3d"), "TRUE"), "vms[0].video.enable_3d", "true or false"),
    (_set((*_VM0, "extra_config"), []), "vms[0].extra_config", "expected an object"),
    (
        _set((*_VM0, "extra_config", "migrate.baseCptCacheSize"), 16777216),
        'vms[0].extra_config["migrate.baseCptCacheSize"]',
        'in double quotes, e.g. "16777216"',
    ),
    (_set((*_VM0, "extra_config", " "), "1"), 'vms[0].extra_config[" "]', "key is empty"),
    (_set((*_VM0, "upgrade_policy"), "never"), "vms[0].upgrade_policy", "expected an object"),
    (_set((*_VM0, "upgrade_policy", "policy"), "sometimes"), "vms[0].upgrade_policy.policy", ""),
    (_set((*_VM0, "upgrade_policy", "version"), "8"), "vms[0].upgrade_policy.version", "vmx"),
    (_delete((*_VM0, "upgrade_policy", "version")), "vms[0].upgrade_policy.version", "missing"),
    (_delete((*_VM0, "history", "failed_vmotion")), "vms[0].history.failed_vmotion", "missing"),
    (_set((*_VM0, "history"), True), "vms[0].history", "expected an object"),
    # expect
    (_set(("expect",), []), "expect", "expected an object"),
    (_set(("expect", "NOPE"), {}), 'expect["NOPE"]', 'no VM named "NOPE"'),
    (_set(("expect", "hd-w7-042"), {}), 'expect["hd-w7-042"]', "exact spelling"),
    (_set(("expect", "HD-W7-042", "verdict"), "broken"), 'expect["HD-W7-042"].verdict', "at_risk"),
    (
        _set(("expect", "HD-W7-042", "recommended"), "reboot"),
        'expect["HD-W7-042"].recommended',
        '"raise_buffer"',
    ),
    (
        _set(("expect", "HD-W7-042", "verdict"), "mitigated"),
        'expect["HD-W7-042"].recommended',
        'must be null for a VM that is "mitigated"',
    ),
    (
        _set(("expect", "Büro-PC 7/2 50%", "recommended"), "stay_on_hw7"),
        'expect["Büro-PC 7/2 50%"].recommended',
        "must be null",
    ),
    (_delete(("expect", "HD-W7-042", "recommended")), 'expect["HD-W7-042"].recommended', ""),
    # optional training fields
    (_set(("ticket",), ""), "ticket", "is empty"),
    (_set(("ticket",), ["line"]), "ticket", "expected a string"),
    (_set(("difficulty",), "expert"), "difficulty", '"beginner", "intermediate", "advanced"'),
    (_set(("teaches",), "one thing"), "teaches", "expected a list"),
    (_set(("teaches",), ["ok", 3]), "teaches[1]", "got 3"),
    (_set(("datacenter",), 7), "datacenter", "got 7"),
    (_set(("vm_of_interest",), "HD-W7-999"), "vm_of_interest", 'no VM named "HD-W7-999"'),
    (_delete(("expect", "HD-W7-042")), "expect", 'no entry for the vm_of_interest "HD-W7-042"'),
]


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [pytest.param(m, p, f, id=f"{i:02d}-{p}") for i, (m, p, f) in enumerate(_CASES)],
)
def test_each_rule_names_the_field(mutate: Callable[[Doc], None], path: str, fragment: str) -> None:
    doc = _doc()
    mutate(doc)
    err = _refused(doc)
    assert err.path == path
    assert fragment in err.problem + ". " + err.fix
    assert str(err) == f"test.json: {path}: {err.problem}. {err.fix}"
    # Every message says what to do, as a sentence.
    assert err.fix[:1].isupper()


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        pytest.param([], "expected an object", id="list"),
        pytest.param("scenario", "expected an object", id="string"),
        pytest.param(None, "got null", id="null"),
        pytest.param(42, "got 42", id="number"),
        pytest.param({}, "missing", id="empty-object"),
    ],
)
def test_document_that_is_not_a_scenario_object(data: object, fragment: str) -> None:
    err = _refused(data)
    assert err.path in {"(top level)", "format"}
    assert fragment in err.problem


def test_python_objects_that_json_cannot_produce_are_refused_too() -> None:
    doc = _doc()
    doc["vms"][0]["screen"] = (1920, 1200)
    assert _refused(doc).path == "vms[0].screen"
    doc = _doc()
    doc[7] = "x"  # type: ignore[index]
    assert _refused(doc).path == '["7"]'
    doc = _doc()
    doc["filler_vms"] = float("nan")
    assert "got a value of type float" in _refused(doc).problem
    doc = _doc()
    doc["vms"][0]["extra_config"] = {1: "x"}
    assert _refused(doc).path == "vms[0].extra_config"


# --- JSON text and files --------------------------------------------------------------------


def _text(doc: Doc) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2)


@pytest.mark.parametrize(
    ("text", "path", "fragment"),
    [
        pytest.param('{"format": 1,\n "id": }', "(file)", "line 2, column 8", id="syntax"),
        pytest.param("", "(file)", "line 1, column 1", id="empty-file"),
        pytest.param('{"format": NaN}', "(file)", "NaN is not valid JSON", id="nan"),
        pytest.param('{"format": Infinity}', "(file)", "Infinity", id="infinity"),
        pytest.param('{"format": 1' + ', "a": 1' * 2 + "}", "a", "appears twice", id="dup-key"),
        pytest.param("[" * 100_000 + "]" * 100_000, "(file)", "deeper than 64", id="deep"),
        pytest.param('{"format": ' + "9" * 5000 + "}", "format", "got 999", id="long"),
        pytest.param('{"a": "\\ud800"}', "(file)", "line 1, column 8: the escape", id="surrogate"),
    ],
)
def test_json_problems(text: str, path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario_json(text, "t.json")
    assert info.value.path == path
    assert fragment in info.value.problem


def test_duplicate_key_deep_in_the_document_is_named() -> None:
    text = _text(_doc()).replace('"sse41": true', '"sse41": true, "sse41": false')
    with pytest.raises(ScenarioError) as info:
        parse_scenario_json(text, "t.json")
    assert info.value.path == "clusters[0].hosts[0].sse41"
    assert "appears twice" in info.value.problem


def test_bytes_utf8_with_bom_are_read_and_other_encodings_refused() -> None:
    raw = _text(_doc()).encode("utf-8")
    assert parse_scenario_json(b"\xef\xbb\xbf" + raw, "t").vms[1].name == "Büro-PC 7/2 50%"
    assert parse_scenario_json("\ufeff" + raw.decode(), "t").id == "test-scenario"
    with pytest.raises(ScenarioError) as info:
        parse_scenario_json(_text(_doc()).encode("latin-1"), "t")
    assert info.value.path == "(file)"
    assert "UTF-8" in info.value.problem


def test_load_scenario_reads_a_file(tmp_path: Path) -> None:
    file = tmp_path / "test-scenario.json"
    file.write_text(_text(_doc()), encoding="utf-8")
    assert load_scenario(file).title == "Test scenario"


def test_load_scenario_unreadable_missing_and_oversized(tmp_path: Path) -> None:
    for path, problem in ((tmp_path / "nope.json", "cannot be read"), (tmp_path, "is a folder")):
        with pytest.raises(ScenarioError) as info:
            load_scenario(path)
        assert info.value.path == "(file)"
        assert problem in info.value.problem
        assert str(path) in str(info.value)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (sc.MAX_FILE_BYTES + 1))
    with pytest.raises(ScenarioError, match="larger than 2 MB"):
        load_scenario(big)


@pytest.mark.parametrize(
    ("name", "path", "fragment"),
    [
        (
            "wrong-type.json",
            "vms[0].video.displays",
            'expected a whole number from 1 to 10, got "two"',
        ),
        ("unknown-field.json", "vms[0].hardware_verison", 'Did you mean "hardware_version"?'),
        ("missing-field.json", "clusters[0].hosts[0].sse41", "missing"),
        ("bad-json.json", "(file)", "invalid JSON at line 11, column 19"),
        ("not-an-object.json", "(top level)", "expected an object {...}, got a list"),
    ],
)
def test_broken_files(name: str, path: str, fragment: str) -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(BROKEN / name)
    assert info.value.path == path
    assert fragment in info.value.message
    assert str(info.value).startswith(str(BROKEN / name) + ": ")


# --- property tests: broken documents give ScenarioError naming the field, never anything else

_NODES = list(nodes(_BASE))[1:]
_REQUIRED_FIELDS = [
    p
    for p, _ in _NODES
    if isinstance(p[-1], str)
    and not (len(p) == 1 and p[0] in _TOP_OPTIONAL)
    and not (len(p) >= 2 and p[-2] in _FREE_KEYS)
]
_OBJECTS = [p for p, v in [((), _BASE), *_NODES] if isinstance(v, dict)]

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def _kind(value: object) -> str:
    return type(value).__name__


@given(st.sampled_from(_REQUIRED_FIELDS))
def test_deleting_any_required_field_names_it(path: PathT) -> None:
    doc = _doc()
    _delete(path)(doc)
    err = _refused(doc)
    assert err.path == _render(path)
    assert err.problem == "missing"


@given(st.sampled_from(_NODES), _json_values)
def test_changing_the_type_of_any_value_names_it(node: tuple[PathT, object], new: object) -> None:
    path, old = node
    if _kind(new) == _kind(old):
        return
    if path[-1] in _NULLABLE and (new is None or old is None):
        return  # null is a valid value there; leaving null may be valid too (table tests)
    doc = _doc()
    _set(path, new)(doc)
    err = _refused(doc)
    assert err.path == _render(path)


@given(st.sampled_from(_OBJECTS), st.text(min_size=1, max_size=30), _json_values)
def test_adding_an_unknown_field_anywhere_names_it(path: PathT, key: str, value: object) -> None:
    doc = _doc()
    target = _parent(doc, (*path, "")) if path else doc
    if path and path[-1] == "extra_config":
        return  # free-form settings: any key is allowed there
    if key in target or key in _ALL_FIELD_NAMES or key in {v["name"] for v in doc["vms"]}:
        return
    target[key] = value
    err = _refused(doc)
    assert err.path == _render((*path, key))


@given(_json_values)
def test_random_json_is_refused_with_a_path(data: object) -> None:
    err = _refused(data)
    assert err.path
    assert err.path in str(err)


@given(st.dictionaries(st.sampled_from(sorted(_BASE)), _json_values))
def test_random_objects_with_real_field_names_are_refused_with_a_path(data: Doc) -> None:
    err = _refused(data)
    assert err.path
    assert err.path in str(err)


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_random_text_is_refused_with_a_path(text: str | bytes) -> None:
    with pytest.raises(ScenarioError) as info:
        parse_scenario_json(text, "t.json")
    assert info.value.path


@given(st.integers(min_value=0), st.integers(min_value=1, max_value=400))
def test_cut_text_of_a_valid_document_gives_only_scenario_errors(start: int, length: int) -> None:
    text = _text(_doc())
    start %= len(text)
    cut = text[:start] + text[start + length :]
    # Some cuts leave a valid document (e.g. inside a free text); that is fine too.
    outcome = "valid"
    try:
        parse_scenario_json(cut, "t.json")
    except ScenarioError as err:
        outcome = err.path
    assert outcome


# --- the picker's listing -------------------------------------------------------------------


def test_list_scenarios_reports_good_and_bad_files_and_never_raises(tmp_path: Path) -> None:
    bundled, trainer, missing = tmp_path / "bundled", tmp_path / "trainer", tmp_path / "none"
    bundled.mkdir()
    trainer.mkdir()
    (bundled / "test-scenario.json").write_text(_text(_doc()), encoding="utf-8")
    (bundled / "readme.txt").write_text("not a scenario", encoding="utf-8")
    (trainer / ".hidden.json").write_text("{", encoding="utf-8")
    (trainer / "B-broken.json").write_text("{", encoding="utf-8")
    (trainer / "a-copy.json").write_text(_text(_doc()), encoding="utf-8")
    other = _doc()
    other["id"] = "trainer-own"
    (trainer / "c-own.json").write_text(_text(other), encoding="utf-8")
    (trainer / "dir.json").mkdir()

    listings = list_scenarios([bundled, missing, trainer])

    assert [(entry.path.name, entry.ok) for entry in listings] == [
        ("test-scenario.json", True),
        ("a-copy.json", False),
        ("B-broken.json", False),
        ("c-own.json", True),
        ("dir.json", False),
    ]
    assert listings[0].scenario is not None
    assert listings[0].error is None
    assert listings[1].error is not None
    assert 'id: "test-scenario" is already used by' in listings[1].error
    assert listings[2].error is not None
    assert "invalid JSON at line 1" in listings[2].error
    assert listings[4].error is not None
    assert "is a folder, not a regular file" in listings[4].error


def test_list_scenarios_unreadable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    [entry] = list_scenarios([tmp_path])
    assert entry.path == tmp_path
    assert not entry.ok
    assert entry.error is not None
    assert "cannot be read" in entry.error


def test_roles_and_levels_have_labels() -> None:
    assert [r.value for r in Role] == ["admin", "read-only", "no-power"]
    assert all(r.label and r.description.endswith(".") for r in Role)
    assert [d.label for d in Difficulty] == ["Beginner", "Intermediate", "Advanced"]


# --- the bundled scenarios ------------------------------------------------------------------

_BUNDLED = sc.bundled_scenario_files()


def _bundled() -> list[Scenario]:
    return [load_scenario(path) for path in _BUNDLED]


def _of_interest(s: Scenario) -> sc.Expectation:
    assert s.vm_of_interest is not None
    expectation = s.expectation(s.vm_of_interest)
    assert expectation is not None
    return expectation


def test_bundled_folder_is_the_resources_folder() -> None:
    assert bundled_scenarios_dir() == Path(__file__).parents[3] / "resources" / "scenarios"
    assert len(_BUNDLED) >= 12


@pytest.mark.parametrize("path", _BUNDLED, ids=[p.stem for p in _BUNDLED])
def test_each_bundled_scenario_is_complete(path: Path) -> None:
    s = load_scenario(path)
    assert s.id == path.stem
    assert s.title
    assert s.ticket
    assert s.difficulty is not None
    assert s.teaches
    assert s.datacenter
    assert _of_interest(s).vm in s.ticket
    sentences = re.findall(r"[^.!?]+[.!?](?:\s|$)", s.briefing)
    assert 2 <= len(sentences) <= 3, s.briefing


def test_bundled_listing_has_no_errors() -> None:
    listings = list_scenarios([bundled_scenarios_dir()])
    assert [entry.error for entry in listings if not entry.ok] == []
    assert len({entry.scenario.id for entry in listings if entry.scenario}) == len(_BUNDLED)


def test_default_scenario_is_the_articles_classic_case() -> None:
    s = load_scenario(bundled_scenarios_dir() / f"{DEFAULT_SCENARIO_ID}.json")
    assert s.vm_of_interest is not None
    vm = s.vm(s.vm_of_interest)
    assert (vm.hardware_version, vm.screen, vm.video.displays) == ("vmx-08", (1920, 1200), 2)
    assert vm.guest_id.startswith("windows7")
    assert not vm.video.enable_3d
    assert vm.history.failed_vmotion
    assert _of_interest(s) == sc.Expectation(vm.name, Verdict.CONFIRMED, RemedyId.RAISE_BUFFER)
    assert s.login_role is Role.ADMIN
    assert s.difficulty is Difficulty.BEGINNER


def test_bundled_scenarios_cover_every_verdict_and_remedy_for_the_vm_of_interest() -> None:
    expectations = [_of_interest(s) for s in _bundled()]
    assert {e.verdict for e in expectations} == set(Verdict)
    assert {e.recommended for e in expectations} == {*RemedyId, None}


def test_bundled_scenarios_cover_roles_power_states_and_levels() -> None:
    scenarios = _bundled()
    assert {s.login_role for s in scenarios} == set(Role)
    assert {vm.power_state for s in scenarios for vm in s.vms} == set(PowerState)
    assert {s.difficulty for s in scenarios} == set(Difficulty)


def test_bundled_scenarios_cover_the_hard_inputs() -> None:
    vms = [vm for s in _bundled() for vm in s.vms]
    # Tools not running: no screen, no guest id from Tools.
    assert any(
        not vm.tools_running
        and vm.screen is None
        and vm.tools_guest_id is None
        and vm.power_state is PowerState.POWERED_ON
        for vm in vms
    )
    # A name with a space, a slash, a percent sign and a non-ASCII letter.
    assert any(
        " " in vm.name and "/" in vm.name and "%" in vm.name and not vm.name.isascii() for vm in vms
    )
    # Configured as Windows 7, Tools report another OS.
    assert any(
        vm.guest_id.startswith("windows7")
        and vm.tools_guest_id is not None
        and vm.tools_guest_id != vm.guest_id
        for vm in vms
    )
    buffers = [v for vm in vms for k, v in vm.extra_config if k == "migrate.baseCptCacheSize"]
    assert any(v.strip().lower().startswith("0x") for v in buffers)
    assert any(not re.fullmatch(r"\s*(0[xX][0-9a-fA-F]+|[0-9]+)\s*", v) for v in buffers)
    assert any(vm.video.displays >= 3 and vm.screen == (2560, 1600) for vm in vms)
    assert any(vm.hardware_version == "vmx-07" for vm in vms)


def test_bundled_scenarios_cover_scale_and_cluster_shapes() -> None:
    scenarios = _bundled()
    assert max(s.filler_vms for s in scenarios) >= 2000
    assert any(2 <= len(s.clusters) <= 4 for s in scenarios)
    hosts = [h for s in scenarios for h in s.hosts]
    assert any(not h.sse41 for h in hosts)
    assert all("@" in h.cpu_model or h.cpu_model.startswith("AMD") for h in hosts)
    ha = {(c.ha.enabled, c.ha.admission_control) for s in scenarios for c in s.clusters}
    assert {(True, True), (True, False)} <= ha
