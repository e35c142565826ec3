"""One VM from a ticket over a slow link: ``check --vm`` end to end, beside two peers.

At each latency (the lab's ``delay_ms`` on every call), from the start of a process to the
verdict on its standard output:

- ``check``: ``python -m wizard check --vm NAME --password-stdin`` (the time its verdict line
  appears; it logs out after printing, and its exit is timed too);
- ``go``: govmomi's Go client (``tests/bench/goclient -vm NAME``, ``ticket.go``): container view,
  names, then the VM, host, cluster, session, privileges and events one after the other;
- ``naive``: pyVmomi as most scripts use it (``naive_ticket.py``): ``SmartConnect``, a
  container view and ``vm.name`` VM by VM, then attribute reads.

The product's round trips are counted on the wire in this process (``tests/helpers/wire.py``):
how many requests, and how many of them lie one after another (the critical path), for the
login and for ticket-to-verdict.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.bench.common import (
    PYTHON,
    REPO,
    TICKET_VM,
    Lab,
    go_client,
    lab_of,
    median,
)
from tests.helpers.vsphere_lab import endpoint, trusting
from tests.helpers.wire import watching
from wizard.kb.model import Verdict
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.session import Session

NAIVE = Path(__file__).resolve().parent / "naive_ticket.py"
_VERDICT_LINE = tuple(v.label.upper() + ":" for v in Verdict)


def _until_answer(
    argv: list[str], stdin: str, answered: tuple[str, ...], env: dict[str, str] | None = None
) -> tuple[float, float, list[str]]:
    """Run ``argv``: (seconds to the first line starting with ``answered``, to its exit, lines)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write(stdin)
    proc.stdin.close()
    answer_s = float("nan")
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(answered) and answer_s != answer_s:  # the first one (nan != nan)
            answer_s = time.perf_counter() - start
    assert proc.stderr is not None
    err = proc.stderr.read()
    proc.wait(timeout=300)
    exit_s = time.perf_counter() - start
    if proc.returncode != 0 or answer_s != answer_s:
        raise RuntimeError(f"{argv[:3]} exited {proc.returncode}: {err.strip()[-400:]}")
    return answer_s, exit_s, lines


def _check(lab: Lab) -> tuple[float, float]:
    info = lab.info
    answer, done, _ = _until_answer(
        [
            str(PYTHON), "-m", "wizard", "check", "--vcenter", f"{info.host}:{info.port}",
            "--user", info.user, "--password-stdin", "--trust-fingerprint",
            info.thumbprint_sha256, "--vm", TICKET_VM,
        ],
        info.password + "\n",
        _VERDICT_LINE,
    )  # fmt: skip
    return answer, done


def _go(lab: Lab, binary: Path) -> tuple[float, int]:
    info = lab.info
    _, _, lines = _until_answer(
        [str(binary), "-url", info.url, "-user", info.user, "-vm", TICKET_VM],
        "",
        ("{",),
        env={"GOCLIENT_PASSWORD": info.password},
    )
    import json

    doc = json.loads(next(line for line in lines if line.startswith("{")))
    return _until_answer_time(lines, doc), int(doc["round_trips"])


def _until_answer_time(_lines: list[str], doc: dict[str, Any]) -> float:
    # The Go client times itself from its start (a Go process starts in milliseconds).
    return float(doc["seconds"])


def _naive(lab: Lab) -> tuple[float, int]:
    import json

    info = lab.info
    answer, _, lines = _until_answer(
        [str(PYTHON), str(NAIVE), info.host, str(info.port), info.user, TICKET_VM],
        info.password + "\n",
        ("{",),
    )
    doc = json.loads(next(line for line in lines if line.startswith("{")))
    return answer, int(doc["round_trips"])


def round_trips(lab: Lab) -> dict[str, Any]:
    """The product's requests for the login and for ticket-to-verdict, and their chains."""
    with watching() as wire:
        session = Session.connect(
            endpoint(lab.info), lab.info.user, lab.info.password, trust=trusting(lab.info),
            timeout=60.0,
        )  # fmt: skip
    login = (wire.total, len(wire.critical_path()))
    with session, watching() as wire:
        collect_facts(session, resolve_vm(session, TICKET_VM).moref)
        ticket = (wire.total, len(wire.critical_path()), dict(wire.calls))
    return {
        "login_requests": login[0],
        "login_critical": login[1],
        "ticket_requests": ticket[0],
        "ticket_critical": ticket[1],
        "ticket_by_method": ticket[2],
    }


def run(latencies: tuple[int, ...], runs: int, size: int = 25) -> list[dict[str, Any]]:
    """The figures at each latency (ms a call), ``runs`` runs of each (medians)."""
    out = []
    binary = go_client()
    for delay in latencies:
        with lab_of(size, delay_ms=delay) as lab:
            figures: dict[str, Any] = {"latency_ms": delay, "vms": size}
            if delay:
                figures.update(round_trips(lab))
            checks = [_check(lab) for _ in range(runs)]
            figures["check_verdict_s"] = median([c[0] for c in checks])
            figures["check_exit_s"] = median([c[1] for c in checks])
            figures["check_runs_s"] = [round(c[0], 3) for c in checks]
            naive = [_naive(lab) for _ in range(runs)]
            figures["naive_s"] = median([n[0] for n in naive])
            figures["naive_round_trips"] = naive[-1][1]
            if binary is not None:
                go = [_go(lab, binary) for _ in range(runs)]
                figures["go_s"] = median([g[0] for g in go])
                figures["go_round_trips"] = go[-1][1]
            out.append(figures)
    return out
