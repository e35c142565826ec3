"""Soak: many checks and apply/undo cycles in one process, then count what was left behind.

Each check cycle is what ``checkpoint-wizard check`` does: connect, find the VM, collect its
facts, judge them, log out. Each apply/undo cycle connects, applies the buffer fix, undoes it
and logs out (every tenth on the running VM, with its shutdown and power-on). Afterwards:

- memory: this process's RSS after the warm-up against the end, within ``RSS_BOUND``;
- sessions: the lab's session list (read by an admin) is back where it started;
- threads and child processes of this process, and its open file descriptors: as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.apply import SCENARIO, check, journal_in
from tests.helpers.lab import running_lab
from tests.reliability import observe
from tests.reliability.figures import current_size, record
from wizard.kb import RemedyId, assess, remedies
from wizard.lab.process import LabInfo
from wizard.vsphere.executor import Executor
from wizard.vsphere.facts import collect_facts
from wizard.vsphere.inventory import resolve_vm
from wizard.vsphere.results import ApplyRequest, Outcome
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import MemoryPinStore, TrustPolicy, fetch_certificate

pytestmark = [pytest.mark.lab, pytest.mark.slow]

SIZE = current_size()
RSS_BOUND = 24 * 1024 * 1024  # bytes of growth allowed from the end of the warm-up to the end
CHECK_VM, OFF_VM, ON_VM = "Dual W7", "Off W7", "Dual W7"


@pytest.fixture(scope="module")
def lab(lab_binary_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    with running_lab(SCENARIO, tmp_path_factory.mktemp("soak"), lab_binary_path) as process:
        yield process.info


def pinned(lab: LabInfo) -> TrustPolicy:
    """The lab's certificate pinned, as after "Always trust": no unverified fetch per cycle."""
    policy = TrustPolicy(MemoryPinStore())
    info = fetch_certificate(lab.host, lab.port, 5.0)
    assert info.sha256 == lab.thumbprint_sha256
    policy.pin(info)
    return policy


def one_check(lab: LabInfo, trust: TrustPolicy) -> None:
    with Session.connect(Endpoint(lab.host, lab.port), lab.user, lab.password, trust=trust) as s:
        facts = collect_facts(s, resolve_vm(s, CHECK_VM).moref)
        assessment = assess(facts)
        assert remedies(assessment, facts)
        # "confirmed" needs the scenario's failed-vMotion event; the lab keeps only its last
        # 1,000 events, and every login and logout posts one, so after a few hundred cycles it
        # falls out and the same VM is judged "affected" (real vCenter keeps events for days).
        assert assessment.verdict.value in ("confirmed", "affected")


def one_cycle(lab: LabInfo, trust: TrustPolicy, tmp: Path, vm: str) -> None:
    journal = journal_in(tmp)
    with Session.connect(Endpoint(lab.host, lab.port), lab.user, lab.password, trust=trust) as s:
        facts, remedy = check(s, vm, RemedyId.RAISE_BUFFER)
        executor = Executor(s, journal, tools_timeout=5.0)
        done = executor.apply(ApplyRequest(facts, remedy, allow_shutdown=True))
        assert done.outcome is Outcome.APPLIED, done.message
        undone = executor.undo(done.entry_id or "", allow_shutdown=True)
        assert undone.outcome is Outcome.APPLIED, undone.message


@pytest.mark.timeout(3600)
def test_soak_leaves_nothing_behind(lab: LabInfo, tmp_path: Path) -> None:
    trust = pinned(lab)
    sessions_before = observe.sessions_on(lab)
    threads_before = observe.thread_names()
    children_before = observe.child_pids()
    warmup = max(5, SIZE.soak_checks // 10)
    started = time.monotonic()
    for _ in range(warmup):
        one_check(lab, trust)
    fds_before = observe.open_fds()
    rss_before = observe.rss_bytes()
    for _ in range(SIZE.soak_checks - warmup):
        one_check(lab, trust)
    for n in range(SIZE.soak_cycles):
        one_cycle(lab, trust, tmp_path, ON_VM if n % 10 == 9 else OFF_VM)
    rss_after = observe.rss_bytes()
    elapsed = time.monotonic() - started

    growth = rss_after - rss_before
    sessions_leaked = observe.sessions_on(lab) - sessions_before
    threads_leaked = len(observe.thread_names()) - len(threads_before)
    children_leaked = len(observe.child_pids() - children_before)
    fds_leaked = observe.open_fds() - fds_before
    record(
        "soak",
        checks=SIZE.soak_checks,
        cycles=SIZE.soak_cycles,
        seconds=round(elapsed, 1),
        rss_before=rss_before,
        rss_after=rss_after,
        rss_growth=growth,
        rss_bound=RSS_BOUND,
        sessions_leaked=sessions_leaked,
        threads_leaked=threads_leaked,
        processes_leaked=children_leaked,
        fds_leaked=fds_leaked,
    )
    assert sessions_leaked == 0
    assert observe.thread_names() == threads_before
    assert children_leaked == 0
    assert fds_leaked <= 0
    assert growth <= RSS_BOUND, f"RSS grew {growth / 2**20:.1f} MiB"
