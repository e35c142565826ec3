"""``resources/scenarios/README.md`` stays true to the reader it documents.

The reader (``wizard.lab.scenario``) is the reference; the page must name every field it knows
and every value its choices allow, and its example must be a valid scenario that uses every
optional field. Whether the example's ``expect`` entries are right is checked through the lab
in ``tests/integration/test_check_scenarios.py``.
"""

from __future__ import annotations

import dataclasses
import enum
import re

import pytest

from wizard.kb.model import RemedyId, Verdict
from wizard.lab import scenario as sc

README = sc.bundled_scenarios_dir() / "README.md"


def readme_example() -> str:
    """The JSON of the page's example."""
    found = re.findall(r"```json\n(.*?)```", README.read_text(encoding="utf-8"), re.DOTALL)
    assert len(found) == 1, "the page has exactly one JSON example"
    return str(found[0])


def test_the_example_is_a_valid_scenario_with_every_optional_field() -> None:
    example = sc.parse_scenario_json(readme_example(), "README example")
    defaults = {f.name: f.default for f in dataclasses.fields(sc.Scenario)}
    optional = [name for name, default in defaults.items() if default is not dataclasses.MISSING]
    assert optional, "Scenario has optional fields"
    for name in optional:
        assert getattr(example, name) != defaults[name], f"the example leaves out {name}"
    assert example.users, "the example shows an extra account"


SPECS = [
    sc.Scenario,
    sc.LoginSpec,
    sc.UserSpec,
    sc.ClusterSpec,
    sc.HaSpec,
    sc.HostSpec,
    sc.VmSpec,
    sc.VideoSpec,
    sc.UpgradePolicySpec,
    sc.HistorySpec,
    sc.CertificateSpec,
    sc.Expectation,
]
FIELDS = sorted(
    {
        field.name
        for spec in SPECS
        for field in dataclasses.fields(spec)
        if (spec, field.name) != (sc.Expectation, "vm")  # the key of expect, not a field
    }
)


@pytest.mark.parametrize("name", FIELDS)
def test_every_field_is_documented(name: str) -> None:
    assert f"`{name}`" in README.read_text(encoding="utf-8")


CHOICES: list[type[enum.StrEnum]] = [
    sc.Role,
    sc.PowerState,
    sc.UpgradePolicyName,
    sc.Difficulty,
    Verdict,
    RemedyId,
]


@pytest.mark.parametrize("choice", CHOICES, ids=[c.__name__ for c in CHOICES])
def test_every_allowed_value_is_documented(choice: type[enum.StrEnum]) -> None:
    text = README.read_text(encoding="utf-8")
    for member in choice:
        assert f"`{member.value}`" in text, f"{choice.__name__}.{member.name}"


def test_the_documented_bounds_are_the_reader_s() -> None:
    text = README.read_text(encoding="utf-8")
    assert f"0 to {sc.MAX_FILLER_VMS:,}" in text
    assert f"1 to {sc.MAX_DISPLAYS}" in text
    assert f"at most {sc.MAX_VM_NAME_LENGTH} characters" in text
    assert f"at most {sc.MAX_ID_LENGTH} characters" in text
    assert f"at most {sc.MAX_FILE_BYTES // (1024 * 1024)} MB" in text
