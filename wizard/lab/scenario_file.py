"""Reading a scenario file strictly, before any field is looked at: a regular file of bounded
size, UTF-8 with at most one byte-order mark, JSON nested at most :data:`MAX_NESTING` deep,
without NaN, Infinity, half a surrogate pair or a key given twice (the keys given twice are
kept on the object, for the field checks to name). The lab's reader refuses the same files."""

from __future__ import annotations

import os
import re
import stat
import sys
from pathlib import Path
from typing import Final

from wizard.lab.json_text import BOM, JsonTextError, strict_loads, utf8_text
from wizard.lab.scenario_model import MAX_FILE_BYTES, MAX_NESTING, ScenarioError


class _Pairs(dict[str, object]):
    """A JSON object that remembers the keys it saw more than once (JSON allows it; we don't)."""

    duplicates: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, object]]) -> _Pairs:
    obj = _Pairs(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        repeated: list[str] = []
        for key, _ in pairs:
            if key in seen:
                repeated.append(key)
            seen.add(key)
        obj.duplicates = tuple(repeated)
    return obj


class LongNumber:
    """A JSON integer too long for Python to convert (over 4300 digits): never a valid value."""

    def __init__(self, digits: str) -> None:
        self.digits = digits


def _parse_int(text: str) -> int | LongNumber:
    # Python refuses to convert integers of more than 4300 digits; the field then names it.
    return int(text) if len(text) <= 1000 else LongNumber(text)


_STRING_OR_BRACKET: Final = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_ESCAPE: Final = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


def _lone_surrogate(token: str) -> int | None:
    """The offset in a JSON string token of a ``\\u`` escape that is half of a UTF-16 pair."""
    high: tuple[int, int] | None = None  # start and end of a high surrogate awaiting its pair
    for m in _ESCAPE.finditer(token):
        code = int(m.group(1), 16) if m.group(1) else None
        if high is not None:
            if code is not None and 0xDC00 <= code <= 0xDFFF and m.start() == high[1]:
                high = None
                continue
            return high[0]
        if code is not None and 0xD800 <= code <= 0xDBFF:
            high = (m.start(), m.end())
        elif code is not None and 0xDC00 <= code <= 0xDFFF:
            return m.start()
    return high[0] if high is not None else None


def _check_structure(text: str) -> None:
    """Refuse nesting deeper than :data:`MAX_NESTING` and escapes that name no character
    (:class:`JsonTextError`).

    Python's decoder would give a lone surrogate back as is (unprintable, unsendable), Go's
    turns it into U+FFFD silently: both readers refuse the file instead.
    """
    depth = 0
    for m in _STRING_OR_BRACKET.finditer(text):
        lexeme = m.group()
        if lexeme[0] == '"':
            if "\\u" in lexeme and (lone := _lone_surrogate(lexeme)) is not None:
                raise JsonTextError(
                    f"invalid JSON at {_where(text, m.start() + lone)}: the escape "
                    f"{lexeme[lone : lone + 6]} is half of a UTF-16 surrogate pair, "
                    "not a character",
                    "Write the character itself, or both halves of the pair",
                )
        elif lexeme in "[{":
            depth += 1
            if depth > MAX_NESTING:
                raise JsonTextError(
                    f"nested deeper than {MAX_NESTING} levels (at {_where(text, m.start())})",
                    "A scenario needs only a few levels: correct the brackets",
                )
        else:
            depth -= 1


def decode_json(text: str | bytes, source: str) -> object:
    """Decode a scenario's JSON text (UTF-8, one byte-order mark allowed), strictly.

    Raises:
        ScenarioError: for text that is not UTF-8 or not JSON (with line and column).
    """
    try:
        if isinstance(text, bytes):
            text = utf8_text(text)
        else:
            text = text.removeprefix(BOM)
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise JsonTextError(
                    f"holds a character that is not one (a lone surrogate at {exc.start})",
                    "Save the file as UTF-8",
                ) from None
        _check_structure(text)
        return strict_loads(text, object_pairs_hook=_object_pairs, parse_int=_parse_int)
    except JsonTextError as exc:
        raise _file_error(source, exc.problem, exc.next_step) from None


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _file_error(source: str, problem: str, next_step: str) -> ScenarioError:
    """A problem with the file as a whole, before any of its fields."""
    return ScenarioError(source, "(file)", problem, next_step)


def _not_regular(source: str, mode: int) -> ScenarioError:
    problem = f"is {_file_kind(mode)}, not a regular file"
    return _file_error(source, problem, "Give the path of a scenario's .json file")


def _unreadable(source: str, exc: OSError) -> ScenarioError:
    problem = f"cannot be read: {exc.strerror or exc}"
    return _file_error(source, problem, "Check that the file exists and that you may read it")


_OPEN_FLAGS: Final = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
if sys.platform != "win32":
    # Opening a named pipe for reading waits for a writer; with O_NONBLOCK it returns at once
    # (and the check after it refuses the pipe). A regular file reads the same either way.
    _OPEN_FLAGS_NOWAIT: Final = _OPEN_FLAGS | os.O_NONBLOCK
else:
    _OPEN_FLAGS_NOWAIT: Final = _OPEN_FLAGS


def read_scenario_file(path: Path) -> bytes:
    """The bytes of a scenario file: a regular file of at most :data:`MAX_FILE_BYTES`.

    A named pipe, a device, a socket or a folder is refused before it is opened (reading a pipe
    without a writer, or a terminal, would wait forever), and again on what was opened, in case
    the path was swapped in between.

    Raises:
        ScenarioError: the file cannot be read, is not a regular file, or is too large.
    """
    source = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if not stat.S_ISREG(mode):
        raise _not_regular(source, mode)
    try:
        fd = os.open(path, _OPEN_FLAGS_NOWAIT)
    except OSError as exc:
        raise _unreadable(source, exc) from None
    try:
        with open(fd, "rb") as stream:
            mode = os.fstat(stream.fileno()).st_mode
            if not stat.S_ISREG(mode):
                raise _not_regular(source, mode)
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _unreadable(source, exc) from None
    if len(raw) > MAX_FILE_BYTES:
        raise _file_error(
            source,
            f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB",
            "A scenario is a small JSON file: use filler_vms for a large inventory",
        )
    return raw
