"""Extra-config values are read tolerantly and never crash the check."""

from __future__ import annotations

import pytest

from wizard.kb.values import ValueState, parse_bool, parse_hardware_version, parse_int


@pytest.mark.parametrize(
    ("raw", "state", "value"),
    [
        (None, ValueState.NOT_SET, None),
        ("", ValueState.NOT_SET, None),
        ("   ", ValueState.NOT_SET, None),
        ("16777216", ValueState.PARSED, 16_777_216),
        ("  20971520\t", ValueState.PARSED, 20_971_520),
        ("0x1000000", ValueState.PARSED, 16_777_216),
        (" 0X1400000 ", ValueState.PARSED, 20_971_520),
        ("0xabcDEF", ValueState.PARSED, 0xABCDEF),
        ("0", ValueState.PARSED, 0),
        ("016777216", ValueState.PARSED, 16_777_216),
        ("16MB", ValueState.UNPARSABLE, None),
        ("16 777 216", ValueState.UNPARSABLE, None),
        ("1_677_7216", ValueState.UNPARSABLE, None),
        ("-1", ValueState.UNPARSABLE, None),
        ("+16777216", ValueState.UNPARSABLE, None),
        ("0x", ValueState.UNPARSABLE, None),
        ("0xG1", ValueState.UNPARSABLE, None),
        ("16777216L", ValueState.UNPARSABLE, None),
        ("1.5e7", ValueState.UNPARSABLE, None),
        ("١٢٣", ValueState.UNPARSABLE, None),  # Arabic-Indic digits: not what vSphere reads
        ("9" * 5000, ValueState.UNPARSABLE, None),
    ],
)
def test_parse_int(raw: str | None, state: ValueState, value: int | None) -> None:
    result = parse_int(raw)
    assert result.state is state
    assert result.value == value
    assert result.raw == raw


def test_unparsable_int_keeps_the_raw_text_for_the_note() -> None:
    result = parse_int(" sixteen megs ")
    assert result.unparsable
    assert not result.parsed
    assert result.raw == " sixteen megs "


@pytest.mark.parametrize(
    ("raw", "state", "value"),
    [
        (None, ValueState.NOT_SET, None),
        ("", ValueState.NOT_SET, None),
        ("TRUE", ValueState.PARSED, True),
        ("true", ValueState.PARSED, True),
        (" True ", ValueState.PARSED, True),
        ("1", ValueState.PARSED, True),
        ("FALSE", ValueState.PARSED, False),
        ("false", ValueState.PARSED, False),
        (" 0", ValueState.PARSED, False),
        ("yes", ValueState.UNPARSABLE, None),
        ("on", ValueState.UNPARSABLE, None),
        ("2", ValueState.UNPARSABLE, None),
        ("truee", ValueState.UNPARSABLE, None),
    ],
)
def test_parse_bool(raw: str | None, state: ValueState, value: bool | None) -> None:
    result = parse_bool(raw)
    assert result.state is state
    assert result.value is value


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("vmx-07", 7),
        ("vmx-08", 8),
        ("vmx-13", 13),
        (" VMX-21 ", 21),
        ("vmx-8", 8),
        ("", None),
        (None, None),
        ("8", None),
        ("vmx-", None),
        ("vmx-0x8", None),
    ],
)
def test_parse_hardware_version(raw: str | None, number: int | None) -> None:
    assert parse_hardware_version(raw) == number
