"""vSphere's escaping of entity names.

vCenter stores ``%`` as ``%25``, ``/`` as ``%2f`` and ``\\`` as ``%5c`` in the ``name`` of an
inventory object (a ``/`` would otherwise split an inventory path). A technician types the name
as shown in the vSphere Client, so every name shown or matched goes through
:func:`unescape_name`, and every name sent back (an inventory path) through :func:`escape_name`.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile(r"%(25|2f|5c)", re.IGNORECASE)
_UNESCAPE = {"25": "%", "2f": "/", "5c": "\\"}
_ESCAPE = str.maketrans({"%": "%25", "/": "%2f", "\\": "%5c"})


def unescape_name(raw: str) -> str:
    """Return the name as the user sees it: ``"Büro-PC 7%2f2 50%25"`` -> ``"Büro-PC 7/2 50%"``.

    The hex digits are matched in any case. A ``%`` that starts no known escape is kept as it is
    (vCenter always escapes it, but hosts managed directly have been seen not to).
    """
    if "%" not in raw:  # most names hold none (the find unescapes every VM's name)
        return raw
    return _ESCAPED.sub(lambda m: _UNESCAPE[m.group(1).lower()], raw)


def escape_name(display: str) -> str:
    """Return the name as vSphere stores it: ``"Büro-PC 7/2 50%"`` -> ``"Büro-PC 7%2f2 50%25"``."""
    return display.translate(_ESCAPE)
