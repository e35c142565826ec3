"""Changes in a technician's words: names for settings, MB for sizes, on/off for switches."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wizard.kb.model import CPT_CACHE_KEY, Change, ChangeTarget
from wizard.kb.words import change_words, value_words


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            Change(ChangeTarget.EXTRA_CONFIG, CPT_CACHE_KEY, None, "24117248"),
            "Checkpoint buffer: not set \u2192 23 MB",
        ),
        (
            Change(ChangeTarget.EXTRA_CONFIG, CPT_CACHE_KEY, "0x1700000", "25165824"),
            "Checkpoint buffer: 23 MB \u2192 24 MB",
        ),
        (
            Change(ChangeTarget.VIDEO_CARD, "videoRamSizeInKB", "32768", "5120"),
            "Video memory: 32 MB \u2192 5 MB",
        ),
        (Change(ChangeTarget.VIDEO_CARD, "numDisplays", "2", "1"), "Displays: 2 \u2192 1"),
        (Change(ChangeTarget.VIDEO_CARD, "enable3DSupport", "false", "true"), "3D: off \u2192 on"),
        (
            Change(ChangeTarget.UPGRADE_POLICY, "upgradePolicy", "onSoftPowerOff", "never"),
            "Scheduled hardware upgrade: at the next shutdown from the guest \u2192 none",
        ),
    ],
)
def test_a_change_reads_in_words(change: Change, words: str) -> None:
    assert change_words(change) == words


def test_an_odd_buffer_value_keeps_its_exact_bytes() -> None:
    assert value_words(CPT_CACHE_KEY, "24117247") == "23.0 MB (24,117,247 bytes)"


@given(st.one_of(st.none(), st.text(max_size=20)))
def test_any_value_gives_words(value: str | None) -> None:
    assert value_words(CPT_CACHE_KEY, value)
