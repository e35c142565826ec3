"""Reading JSON that people write by hand (scenarios, the administrator's policy), strictly.

Such a file is UTF-8 with at most one byte-order mark (Windows editors write one), and JSON
without NaN or Infinity (Python's reader takes them, JSON and the Go lab do not). What is wrong
is a :class:`JsonTextError` that says where and what to do; each reader turns it into its own
error, which names the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final, NoReturn

BOM: Final = "\ufeff"


class JsonTextError(ValueError):
    """The text is not UTF-8 or not JSON.

    Attributes:
        problem: what is wrong, with the line and column (or byte) where it is known.
        next_step: what to do about it.
    """

    def __init__(self, problem: str, next_step: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.next_step = next_step


def utf8_text(raw: bytes) -> str:
    """The text of a UTF-8 file, without its byte-order mark.

    Raises:
        JsonTextError: the bytes are not UTF-8 (naming the first bad byte).
    """
    try:
        return raw.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as exc:
        raise JsonTextError(
            f"is not UTF-8 text (byte {exc.start})", "Save the file as UTF-8"
        ) from None


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")


def strict_loads(
    text: str,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], object],
    parse_int: Callable[[str], object] | None = None,
) -> object:
    """Decode JSON text, refusing NaN and Infinity.

    Args:
        text: the JSON text.
        object_pairs_hook: builds each object from its key-value pairs, in order (and decides
            what a key given twice is); a ``ValueError`` it raises refuses the text.
        parse_int: converts each integer's digits (default ``int``).

    Raises:
        JsonTextError: not JSON (with the line and column), or refused by a hook.
    """
    try:
        return json.loads(
            text,
            object_pairs_hook=object_pairs_hook,
            parse_constant=_refuse_constant,
            parse_int=parse_int,
        )
    except json.JSONDecodeError as exc:
        raise JsonTextError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            "Correct the JSON there (a JSON validator or editor shows the spot)",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise JsonTextError(f"invalid JSON: {exc}", "Correct the JSON") from None
