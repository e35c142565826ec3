"""Passwords in the OS keyring (Windows Credential Manager, macOS Keychain, Secret Service).

Never anywhere else: when no keyring is usable the password is simply not remembered, and the
caller says so once. There is no plaintext fallback.

The keyring library is imported by the first function that needs it, not with this module: it
takes a tenth of a second, which the GUI's first window (whose Connect page names the store)
need not wait for (``tests/gui/test_lazy_load.py``).
"""

from __future__ import annotations

import logging
import sys

_log = logging.getLogger(__name__)
_SERVICE_PREFIX = "checkpoint-wizard"


class KeyringUnavailable(Exception):
    """No usable OS keyring: the password cannot be remembered on this machine."""

    def __init__(self, detail: str) -> None:
        super().__init__(
            "This computer has no usable password store, so the password will not be "
            f"remembered ({detail}). You will be asked for it each time."
        )


def store_name() -> str:
    """This computer's password store, as its users know it."""
    if sys.platform == "win32":
        return "Windows Credential Manager"
    if sys.platform == "darwin":
        return "macOS Keychain"
    return "desktop keyring (Secret Service: GNOME Keyring or KWallet)"


def usable() -> bool:
    """Whether a password store is set up here (a password saved now could be read later).

    May take a moment (the keyring library looks for backends): call it off the GUI thread.
    """
    import keyring

    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - any failure to find one means there is none
        return False
    from keyring.backends import fail

    if isinstance(backend, fail.Keyring):
        return False
    chained = getattr(backend, "backends", None)
    return chained is None or bool(chained)


def _service(vcenter: str) -> str:
    return f"{_SERVICE_PREFIX}:{vcenter.lower()}"


def load_password(vcenter: str, user: str) -> str | None:
    """The remembered password for ``user`` on ``vcenter``, or None (also when no keyring)."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(_service(vcenter), user)
    except (KeyringError, RuntimeError) as exc:
        _log.info("keyring not usable for reading: %s", type(exc).__name__)
        return None


def save_password(vcenter: str, user: str, password: str) -> None:
    """Remember the password in the OS keyring.

    Raises:
        KeyringUnavailable: no usable keyring; nothing was stored anywhere.
    """
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(_service(vcenter), user, password)
    except (KeyringError, RuntimeError) as exc:
        raise KeyringUnavailable(type(exc).__name__) from None


def forget_password(vcenter: str, user: str) -> None:
    """Remove a remembered password; nothing happens when there is none."""
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.delete_password(_service(vcenter), user)
    except (KeyringError, RuntimeError) as exc:
        _log.info("keyring delete skipped: %s", type(exc).__name__)
