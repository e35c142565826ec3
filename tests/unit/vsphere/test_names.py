"""vSphere's escaping of '%', '/' and '\\' in entity names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.vsphere.names import escape_name, unescape_name


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("Büro-PC 7%2f2 50%25", "Büro-PC 7/2 50%"),
        ("Büro-PC 7%2F2 50%25", "Büro-PC 7/2 50%"),
        ("share%5cfolder", "share\\folder"),
        ("share%5Cfolder", "share\\folder"),
        ("HD-W7-042", "HD-W7-042"),
        ("%252f", "%2f"),  # an escaped '%' followed by "2f" is not a slash
        ("100% sure", "100% sure"),  # a stray '%' is kept
        ("%41", "%41"),  # vSphere escapes only these three characters
    ],
)
def test_unescape_shows_what_the_vsphere_client_shows(stored: str, shown: str) -> None:
    assert unescape_name(stored) == shown


def test_escape_writes_what_vcenter_stores() -> None:
    assert escape_name("Büro-PC 7/2 50%") == "Büro-PC 7%2f2 50%25"
    assert escape_name("a\\b") == "a%5cb"
    assert escape_name("%2f") == "%252f"


@given(st.text())
def test_round_trip(name: str) -> None:
    assert unescape_name(escape_name(name)) == name


@given(st.text(alphabet=st.sampled_from("ab%/\\2f5cF"), max_size=30))
def test_escaped_names_have_no_separator(name: str) -> None:
    escaped = escape_name(name)
    assert "/" not in escaped
    assert "\\" not in escaped
