"""Where vCenter listens: what the technician typed as its address, read and checked.

Standard library only (no pyVmomi, no TLS stack), so the GUI can check an address on its own
thread before anything heavy is loaded; :mod:`wizard.vsphere.session` connects to the result.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORT = 443

_HOST_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")
_MAX_DNS_NAME = 253
_MAX_DNS_LABEL = 63
_ZONE_RE = re.compile(r"^[A-Za-z0-9_\-]{1,63}(?:\.[A-Za-z0-9_\-]{1,63})*$")


@dataclass(frozen=True)
class Endpoint:
    """Where vCenter listens.

    Attributes:
        host: a DNS name, IPv4 address or IPv6 address (without brackets).
        port: the HTTPS port.
    """

    host: str
    port: int = DEFAULT_PORT

    @property
    def netloc(self) -> str:
        """``host:port`` for URLs and messages, IPv6 in brackets."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def __str__(self) -> str:
        if self.port == DEFAULT_PORT:
            return f"[{self.host}]" if ":" in self.host else self.host
        return self.netloc


def _parse_port(text: str, original: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"{original!r}: the port must be a number from 1 to 65535, not {text!r}.")
    return int(text)


def _redacted(text: str) -> str:
    """What was typed, for quoting in a message, without any user name or password in it.

    People paste ``https://user:password@vcenter/``; the message (shown, and possibly logged)
    must not carry the password along.
    """
    if "@" not in text:
        return text
    start = text.find("://") + 3 if "://" in text else 0
    return text[:start] + "…@" + text[text.rfind("@") + 1 :]


def parse_endpoint(text: str) -> Endpoint:
    """Read what the technician typed as the vCenter address.

    Accepted: ``host``, ``host:port``, an IPv4 address, ``[IPv6]``, ``[IPv6]:port`` or a bare IPv6
    address, and, because people paste the browser's address bar, ``https://host[:port]/...``:
    the scheme is dropped and any path (``/sdk``, ``/ui/``) ignored.

    Raises:
        ValueError: with a message fit to show next to the field: empty input, blanks inside,
            a scheme other than https, a user name in the address, a bad port, or a host name
            DNS cannot spell (an empty part, a part over 63 characters, over 253 in all) or an
            IPv6 zone that is no interface name.
    """
    original = _redacted(text)
    text = text.strip()
    if not text:
        raise ValueError("Enter the vCenter's name or address, e.g. vcenter.corp.local.")
    if any(ch.isspace() for ch in text):
        raise ValueError(f"{original!r}: a vCenter address contains no blanks.")
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
        if scheme != "https":
            raise ValueError(
                f"{original!r}: vCenter is reached over https; leave out '{scheme}://' or use "
                "https://."
            )
        parts = urlsplit(text)
        if parts.username is not None or parts.password is not None:
            raise ValueError(f"{original!r}: give the user name in its own field, not here.")
        text = parts.netloc
        if not text:
            raise ValueError(f"{original!r}: no host name after https://.")
    elif "/" in text:
        raise ValueError(f"{original!r}: give only the host name (and port), without a path.")
    if "@" in text:
        raise ValueError(f"{original!r}: give the user name in its own field, not here.")

    port = DEFAULT_PORT
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise ValueError(f"{original!r}: an IPv6 address in brackets needs its closing ']'.")
        host, rest = text[1:close], text[close + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"{original!r}: only ':port' may follow ']'.")
            port = _parse_port(rest[1:], original)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{original!r}: {host!r} is not an IPv6 address.") from None
        _check_zone(host, original)
        return Endpoint(host, port)
    if text.count(":") > 1:
        try:
            ipaddress.IPv6Address(text)
        except ValueError:
            raise ValueError(
                f"{original!r}: not an address; write an IPv6 address with a port as [addr]:port."
            ) from None
        _check_zone(text, original)
        return Endpoint(text, port)
    host = text
    if ":" in text:
        host, port_text = text.split(":")
        port = _parse_port(port_text, original)
    if not host or not _HOST_RE.match(host):
        raise ValueError(f"{original!r}: {host!r} is not a valid host name or address.")
    _check_dns_name(host, original)
    return Endpoint(host.lower(), port)


def _check_zone(address: str, original: str) -> None:
    """Refuse an IPv6 zone (``fe80::1%eth0``) that is no interface name or number.

    ``ipaddress`` accepts any text after ``%``; the socket layer then runs the whole address
    through the ``idna`` codec, which fails on an empty part or one over 63 characters.
    """
    if "%" not in address:
        return
    zone = address.split("%", 1)[1]
    if not _ZONE_RE.match(zone):
        raise ValueError(
            f"{original!r}: the zone after % must be the name or number of a network interface "
            "(letters, digits, '_', '-', parts of at most 63 joined by dots), e.g. fe80::1%eth0."
        )


def _check_dns_name(host: str, original: str) -> None:
    """Refuse a host name that DNS cannot spell, naming what is wrong.

    The socket layer would otherwise fail in its ``idna`` codec with a bare UnicodeError: an
    empty part (``a..b``, ``.corp``) or one longer than 63 characters. A single dot at the end
    (a fully qualified name) is fine.
    """
    rule = (
        "a host name is parts of 1 to 63 letters, digits or hyphens joined by dots, "
        "e.g. vc01.corp.local"
    )
    name = host[:-1] if host.endswith(".") else host
    subject = "the host name" if host == original.strip() else f"the host name {host!r}"
    if len(name) > _MAX_DNS_NAME:
        raise ValueError(
            f"{original!r}: {subject} has {len(name)} characters; at most {_MAX_DNS_NAME} are "
            f"possible, and {rule}."
        )
    for label in name.split("."):
        if not label:
            raise ValueError(
                f"{original!r}: {subject} has an empty part (two dots together, or a dot at the "
                f"start); {rule}."
            )
        if len(label) > _MAX_DNS_LABEL:
            raise ValueError(
                f"{original!r}: the part {label!r} has {len(label)} characters; {rule}."
            )
