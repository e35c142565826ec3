"""How big a reliability run is, and where its figures go.

``RELIABILITY_SIZE`` (``ci``, the default, or ``full``) sets how many faults, inputs and cycles
a run tries; ``python -m tests.reliability.report --size full`` sets it. ``RELIABILITY_TALLY``
names a JSON Lines file that every test appends its figures to (nothing is written when it is
unset); the report sums them.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ENV_SIZE = "RELIABILITY_SIZE"
ENV_TALLY = "RELIABILITY_TALLY"


@dataclass(frozen=True)
class Size:
    """The knobs of one size.

    Attributes:
        name: ``ci`` or ``full``.
        every_fault_at_every_step: every fault kind at every step (full), or one kind per step
            in turn so that every step and every kind are still hit (ci).
        shutdown_vm_in_matrix: also run apply and undo on a running VM (shutdown and power-on
            steps), not only on a powered-off one.
        change_stride: apply and undo take a fault at every this-many-th step (apply the even
            steps, undo the odd ones when 2), connect, list and check at every step.
        examples: hypothesis examples per property.
        soak_checks: check cycles in the soak.
        soak_cycles: apply/undo cycles in the soak.
        odd_names: generated odd VM names checked against the lab.
    """

    name: str
    every_fault_at_every_step: bool
    shutdown_vm_in_matrix: bool
    change_stride: int
    examples: int
    soak_checks: int
    soak_cycles: int
    odd_names: int


SIZES = {
    "ci": Size("ci", False, False, 2, 60, 20, 3, 12),
    "full": Size("full", True, True, 1, 600, 500, 50, 60),
}


def current_size() -> Size:
    """The size asked for in the environment (``ci`` when unset)."""
    name = os.environ.get(ENV_SIZE, "ci")
    if name not in SIZES:
        raise ValueError(f"{ENV_SIZE}={name!r}: use one of {', '.join(SIZES)}")
    return SIZES[name]


def record(area: str, **figures: Any) -> None:
    """Append one test's figures to the tally file, when a report asked for one."""
    path = os.environ.get(ENV_TALLY)
    if not path:
        return
    line = json.dumps({"area": area, **figures}, sort_keys=True, default=str)
    with Path(path).open("a", encoding="utf-8") as f:
        f.write(line + "\n")


@dataclass
class Sweep:
    """What one operation's sweep of injected faults did: how many runs came through, and what
    went wrong in the others (each labelled with the operation and the run)."""

    op: str
    survived: int = 0
    problems: list[str] = field(default_factory=list)

    def settle(self, label: str, problems: list[str], *, counts: bool = True) -> None:
        """Keep the run's problems, or count it as survived when there are none (and it
        ``counts``: a fault that never fired proves nothing)."""
        if problems:
            self.problems.extend(f"{self.op} {label}: {p}" for p in problems)
        elif counts:
            self.survived += 1

    def publish(self, area: str, **figures: Any) -> None:
        """Append the sweep's figures, with how many runs survived and how many had problems."""
        record(area, op=self.op, survived=self.survived, problems=len(self.problems), **figures)
