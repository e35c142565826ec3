"""The wizard's few remembered choices, as JSON in ``config_dir()/gui.json``.

Recent vCenters (host:port and the user last used there), and whether the technician was told
that this computer cannot remember passwords. Never a password: those live only in the OS
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
