"""The wizard's few remembered choices, as JSON in ``config_dir()/gui.json``.

Recent vCenters (host:port and the user last used there), whether the technician was told
that this computer cannot remember passwords, and three time limits (Settings dialog), over
what the administrator's policy file presets or locks (``wizard.policy``). Never a
password: those live only in the OS
keyring (``wizard.credentials``). A damaged file is set aside, not fatal.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from wizard import paths
from wizard.limits import CALL_TIMEOUT_S as CALL_TIMEOUT_S
from wizard.limits import EVIDENCE_DAYS as EVIDENCE_DAYS
from wizard.limits import SHUTDOWN_TIMEOUT_S as SHUTDOWN_TIMEOUT_S
from wizard.limits import Limit as Limit
from wizard.policy import Policy, load_policy_or_problem

_log = logging.getLogger(__name__)
MAX_RECENT = 8


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

    def __init__(self, path: Path | None = None, policy: Policy | None = None) -> None:
        """Read the file, and the administrator's policy (``wizard.policy``) unless given.

        A policy file that is refused leaves the policy empty; ``policy_problem`` then says
        why, for the window to show once.
        """
        self.path = path if path is not None else paths.config_dir() / "gui.json"
        self._data: dict[str, object] = self._load()
        self.policy_problem: str | None = None
        if policy is None:
            policy, self.policy_problem = load_policy_or_problem()
        self.policy = policy

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

    def limit(self, limit: Limit) -> int:
        """A limit's value: the administrator's when locked, else the technician's choice,
        else the administrator's default, else the built-in default."""
        preset = self.policy.limits.get(limit.key)
        if preset is not None and self.policy.is_locked(limit.key):
            return preset
        fallback = preset if preset is not None else limit.default
        chosen = self._data.get(limit.key)
        return limit.valid(chosen) if chosen is not None else fallback

    def limit_locked(self, limit: Limit) -> bool:
        """Whether the administrator's policy fixes this limit."""
        return self.policy.is_locked(limit.key)

    @property
    def call_timeout_s(self) -> int:
        """Seconds each vCenter request may take (connect, each read)."""
        return self.limit(CALL_TIMEOUT_S)

    @property
    def evidence_days(self) -> int:
        """Days back the check looks for failed vMotions."""
        return self.limit(EVIDENCE_DAYS)

    @property
    def shutdown_timeout_s(self) -> int:
        """Seconds to wait for a clean guest shutdown."""
        return self.limit(SHUTDOWN_TIMEOUT_S)

    def set_limits(
        self, *, call_timeout_s: int, evidence_days: int, shutdown_timeout_s: int
    ) -> None:
        """Store the three limits in one write (out-of-range values become the defaults).

        A limit the administrator locked is not stored: the policy's value stays in force.
        """
        for limit, value in (
            (CALL_TIMEOUT_S, call_timeout_s),
            (EVIDENCE_DAYS, evidence_days),
            (SHUTDOWN_TIMEOUT_S, shutdown_timeout_s),
        ):
            if not self.limit_locked(limit):
                self._data[limit.key] = limit.valid(value)
        self._save()
