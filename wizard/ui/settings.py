"""The wizard's few remembered choices, as JSON in ``config_dir()/gui.json``.

Recent vCenters (host:port and the user last used there), whether the technician was told
that this computer cannot remember passwords, and three time limits (Settings dialog). Never a
password: those live only in the OS
keyring (``wizard.credentials``). A damaged file is set aside, not fatal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from wizard import paths

_log = logging.getLogger(__name__)
MAX_RECENT = 8


@dataclass(frozen=True)
class Limit:
    """A whole-number setting with its default and allowed range (both ends included)."""

    key: str
    default: int
    minimum: int
    maximum: int

    def valid(self, value: object) -> int:
        """``value`` when it is a whole number in range, else the default."""
        if isinstance(value, bool) or not isinstance(value, int):  # JSON true is no number
            return self.default
        return value if self.minimum <= value <= self.maximum else self.default


CALL_TIMEOUT_S = Limit("call_timeout_s", 30, 5, 300)
"""Seconds each vCenter request (connect, read) may take."""
EVIDENCE_DAYS = Limit("evidence_days", 30, 1, 3650)
"""How many days back the check looks for failed vMotions in events and tasks."""
SHUTDOWN_TIMEOUT_S = Limit("shutdown_timeout_s", 300, 30, 3600)
"""Seconds to wait for the guest to shut down before a fix gives up."""


@dataclass(frozen=True)
class RecentVcenter:
    """A vCenter connected to before, newest first in the list."""

    endpoint: str
    user: str
    remember: bool = False


class GuiSettings:
    """Load-modify-save store; every setter writes the file at once (it is tiny).

    Attributes:
        path: the JSON file.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path if path is not None else paths.config_dir() / "gui.json"
        self._data: dict[str, object] = self._load()

    def _load(self) -> dict[str, object]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: "[[[[…" deep
            _log.warning("settings file unreadable, starting afresh: %s", type(exc).__name__)
            try:
                self.path.replace(self.path.with_suffix(".broken.json"))
            except OSError as move_error:
                _log.warning("could not set the damaged settings file aside: %s", move_error)
            return {}
        return raw if isinstance(raw, dict) else {}

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._data, indent=2), encoding="utf-8")
        tmp.replace(self.path)

    def recent(self) -> list[RecentVcenter]:
        """Recent vCenters, newest first."""
        items = self._data.get("recent", [])
        out: list[RecentVcenter] = []
        if isinstance(items, list):
            for it in items:
                if isinstance(it, dict) and isinstance(it.get("endpoint"), str):
                    out.append(
                        RecentVcenter(
                            str(it["endpoint"]), str(it.get("user", "")), bool(it.get("remember"))
                        )
                    )
        return out

    def add_recent(self, endpoint: str, user: str, *, remember: bool) -> None:
        """Put this vCenter first in the list (no password is ever stored here)."""
        rest = [r for r in self.recent() if r.endpoint.lower() != endpoint.lower()]
        items = [RecentVcenter(endpoint, user, remember), *rest][:MAX_RECENT]
        self._data["recent"] = [
            {"endpoint": r.endpoint, "user": r.user, "remember": r.remember} for r in items
        ]
        self._save()

    @property
    def keyring_warning_shown(self) -> bool:
        """Whether the technician was told this computer cannot remember passwords."""
        return bool(self._data.get("keyring_warning_shown", False))

    def set_keyring_warning_shown(self) -> None:
        self._data["keyring_warning_shown"] = True
        self._save()

    def forget_recent(self, endpoint: str, user: str) -> None:
        """Drop this vCenter and user from the list (its keyring password is the caller's)."""
        items = [
            r
            for r in self.recent()
            if not (r.endpoint.lower() == endpoint.lower() and r.user == user)
        ]
        self._data["recent"] = [
            {"endpoint": r.endpoint, "user": r.user, "remember": r.remember} for r in items
        ]
        self._save()

    # Read at the start of each action, so a change applies to the next one.

    @property
    def call_timeout_s(self) -> int:
        """Seconds each vCenter request may take (connect, each read)."""
        return CALL_TIMEOUT_S.valid(self._data.get(CALL_TIMEOUT_S.key))

    @property
    def evidence_days(self) -> int:
        """Days back the check looks for failed vMotions."""
        return EVIDENCE_DAYS.valid(self._data.get(EVIDENCE_DAYS.key))

    @property
    def shutdown_timeout_s(self) -> int:
        """Seconds to wait for a clean guest shutdown."""
        return SHUTDOWN_TIMEOUT_S.valid(self._data.get(SHUTDOWN_TIMEOUT_S.key))

    def set_limits(
        self, *, call_timeout_s: int, evidence_days: int, shutdown_timeout_s: int
    ) -> None:
        """Store the three limits in one write (out-of-range values become the defaults)."""
        for limit, value in (
            (CALL_TIMEOUT_S, call_timeout_s),
            (EVIDENCE_DAYS, evidence_days),
            (SHUTDOWN_TIMEOUT_S, shutdown_timeout_s),
        ):
            self._data[limit.key] = limit.valid(value)
        self._save()
