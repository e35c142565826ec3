"""The checkpoint buffer the displays need (workaround 3)."""

from __future__ import annotations

import pytest

from wizard.kb.sizing import (
    MIB,
    SizingBasis,
    required_for_pixels,
    required_for_screens,
    round_up_to_mib,
    value_to_set,
)

SIXTEEN_MB = 16_777_216
TWENTY_MB = 20_971_520


@pytest.mark.parametrize(
    ("displays", "width", "height"),
    [(1, 800, 600), (1, 1280, 1024), (1, 1280, 1025), (1, 2560, 1600), (1, 7680, 4320)],
)
def test_any_single_display_needs_16_mb(displays: int, width: int, height: int) -> None:
    size = required_for_screens(displays, width, height)
    assert size.bytes == SIXTEEN_MB
    assert size.basis is SizingBasis.SINGLE_DISPLAY
    assert not size.estimate


@pytest.mark.parametrize(("width", "height"), [(800, 600), (1280, 1024), (1600, 1200)])
def test_two_displays_up_to_1600x1200_need_the_articles_20_mb(width: int, height: int) -> None:
    size = required_for_screens(2, width, height)
    assert size.bytes == TWENTY_MB
    assert size.basis is SizingBasis.ARTICLE_DUAL
    assert not size.estimate


def test_two_displays_at_1601x1200_go_beyond_the_article() -> None:
    size = required_for_screens(2, 1601, 1200)
    # 4 bytes x 2 x 1200 extra pixels = 9600 bytes over 20 MB: rounded up to 21 MiB.
    assert size.bytes == 21 * MIB
    assert size.basis is SizingBasis.ESTIMATE
    assert size.estimate


def test_dual_1920x1200_estimate_is_rounded_up_to_a_whole_mib() -> None:
    # 20971520 + 4 * (2 * 1920 * 1200 - 2 * 1600 * 1200) = 24043520 -> 23 MiB.
    assert required_for_screens(2, 1920, 1200).bytes == 23 * MIB == 24_117_248


def test_estimate_exactly_on_a_mib_is_not_rounded_further() -> None:
    # 2 displays with 262144 more pixels than the article's case add exactly 1 MiB.
    total = 2 * 1600 * 1200 + MIB // 4
    assert required_for_pixels(2, total).bytes == 21 * MIB
    assert required_for_pixels(2, total + 1).bytes == 22 * MIB


def test_three_small_displays_get_20_mb_flagged_as_ours() -> None:
    size = required_for_screens(3, 1024, 768)
    assert size.bytes == TWENTY_MB
    assert size.estimate


def test_four_large_displays_use_the_formula() -> None:
    expected = round_up_to_mib(TWENTY_MB + 4 * (4 * 2560 * 1600 - 2 * 1600 * 1200))
    assert required_for_screens(4, 2560, 1600).bytes == expected
    assert expected % MIB == 0


def test_zero_displays_count_as_one() -> None:
    assert required_for_screens(0, 1920, 1200).bytes == SIXTEEN_MB


@pytest.mark.parametrize(
    ("required", "current", "expected"),
    [
        (SIXTEEN_MB, None, SIXTEEN_MB),
        (SIXTEEN_MB, 8 * MIB, SIXTEEN_MB),
        (SIXTEEN_MB, 64 * MIB, 64 * MIB),
        (TWENTY_MB, TWENTY_MB, TWENTY_MB),
    ],
)
def test_value_to_set_never_lowers_a_larger_value(
    required: int, current: int | None, expected: int
) -> None:
    assert value_to_set(required, current) == expected


@pytest.mark.parametrize(("size", "rounded"), [(0, 0), (1, MIB), (MIB, MIB), (MIB + 1, 2 * MIB)])
def test_round_up_to_mib(size: int, rounded: int) -> None:
    assert round_up_to_mib(size) == rounded
