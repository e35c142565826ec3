"""Tolerant parsing of ``config.extraConfig`` values.

vCenter stores every extra-config value as a string, typed by hand by whoever set it. We read
them tolerantly (surrounding blanks, decimal or ``0x`` hex integers; booleans as
``TRUE``/``true``/``1`` in any case) and to treat an unparsable value as "not set" while saying
so. The functions here never raise: every outcome is a :class:`Parsed` value.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

_DECIMAL = re.compile(r"[0-9]+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]+")

MAX_INTEGER_DIGITS = 30
"""Longer numbers are not byte counts anyone meant to type; they are refused as unparsable.

This also keeps us clear of Python's limit on converting very long decimal strings.
"""

_T = TypeVar("_T")

_TRUE_WORDS = frozenset({"true", "1"})
_FALSE_WORDS = frozenset({"false", "0"})


class ValueState(enum.Enum):
    """Whether an extra-config key is absent, readable, or present but unreadable."""

    NOT_SET = "not_set"
    PARSED = "parsed"
    UNPARSABLE = "unparsable"


@dataclass(frozen=True)
class Parsed(Generic[_T]):
    """The outcome of reading one extra-config value.

    Attributes:
        state: not set, parsed, or set but unparsable.
        value: the parsed value; None unless ``state`` is ``PARSED``.
        raw: the string exactly as vCenter stores it; None when the key is absent.
    """

    state: ValueState
    value: _T | None
    raw: str | None

    @property
    def parsed(self) -> bool:
        """True when the value was read successfully."""
        return self.state is ValueState.PARSED

    @property
    def unparsable(self) -> bool:
        """True when the key is present but its value could not be read."""
        return self.state is ValueState.UNPARSABLE


def _read_int(text: str) -> int | None:
    if len(text) <= MAX_INTEGER_DIGITS + 2:
        if _DECIMAL.fullmatch(text) and len(text) <= MAX_INTEGER_DIGITS:
            return int(text, 10)
        if _HEX.fullmatch(text):
            return int(text[2:], 16)
    return None


def _read_bool(text: str) -> bool | None:
    word = text.lower()
    return True if word in _TRUE_WORDS else False if word in _FALSE_WORDS else None


def _parse(raw: str | None, read: Callable[[str], _T | None]) -> Parsed[_T]:
    """Not set when ``raw`` is absent or blank; else what ``read`` makes of it without the
    blanks around it (None: unparsable)."""
    if raw is None:
        return Parsed(ValueState.NOT_SET, None, None)
    text = raw.strip()
    if not text:
        return Parsed(ValueState.NOT_SET, None, raw)
    value = read(text)
    if value is None:
        return Parsed(ValueState.UNPARSABLE, None, raw)
    return Parsed(ValueState.PARSED, value, raw)


def parse_int(raw: str | None) -> Parsed[int]:
    """Read a non-negative integer: decimal or ``0x`` hex, blanks around it ignored.

    A blank value counts as not set: vCenter removes a key whose value is empty, so a blank one
    carries no setting. Signs, underscores, suffixes and non-ASCII digits are unparsable.

    Args:
        raw: the stored string, or None when the key is absent.

    Returns:
        The parse result; never raises.
    """
    return _parse(raw, _read_int)


def parse_bool(raw: str | None) -> Parsed[bool]:
    """Read a boolean: ``TRUE``/``true``/``1`` is on, ``FALSE``/``false``/``0`` is off.

    Case and surrounding blanks are ignored (``mks.enable3d``, C4). Any other text is unparsable,
    which callers treat as not set (off) and report. A blank value counts as not set.

    Args:
        raw: the stored string, or None when the key is absent.

    Returns:
        The parse result; never raises.
    """
    return _parse(raw, _read_bool)


_HARDWARE_VERSION = re.compile(r"vmx-(\d{1,3})")


def parse_hardware_version(version: str | None) -> int | None:
    """The number in a ``config.version`` string such as ``"vmx-08"``; None if it has none.

    Blanks and case are ignored; never raises.
    """
    if version is None:
        return None
    match = _HARDWARE_VERSION.fullmatch(version.strip().lower())
    return int(match.group(1)) if match else None
