"""The wizard's time limits: their defaults and the ranges a technician or an administrator may
choose from. Shared by the Settings dialog (``wizard.ui.settings``) and the administrator's
policy file (``wizard.policy``), so both refuse the same values.
"""

from __future__ import annotations

from dataclasses import dataclass


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

LIMITS: tuple[Limit, ...] = (CALL_TIMEOUT_S, EVIDENCE_DAYS, SHUTDOWN_TIMEOUT_S)
"""Every limit, in the order the Settings dialog shows them."""
