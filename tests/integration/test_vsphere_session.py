"""Connecting to vCenter: TLS trust, login, and every way a connection fails, with real pyVmomi."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.servers import loopback_server
from tests.helpers.vsphere_lab import (
    endpoint,
    running_lab,
    session_to,
    trusting,
    write_scenario,
)
from wizard.lab.process import LabInfo
from wizard.vsphere.errors import (
    CertificateChanged,
    CertificateUntrusted,
    ConnectionRefused,
    HostNotFound,
    LoginFailed,
    SessionExpired,
    TimedOut,
)
from wizard.vsphere.inventory import list_vms
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import JsonPinStore, MemoryPinStore, TrustPolicy


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabInfo]:
    with running_lab(write_scenario(tmp_path_factory.mktemp("scenario"))) as info:
        yield info


def _untrusted(info: LabInfo, policy: TrustPolicy) -> CertificateUntrusted:
    with pytest.raises(CertificateUntrusted) as caught:
        Session.connect(endpoint(info), info.user, info.password, trust=policy, timeout=10)
    return caught.value


@pytest.mark.lab
def test_untrusted_certificate_shows_the_lab_fingerprint(lab: LabInfo) -> None:
    err = _untrusted(lab, TrustPolicy(MemoryPinStore()))
    assert err.info.sha256 == lab.thumbprint_sha256
    assert (err.info.host, err.info.port) == (lab.host, lab.port)
    assert err.info.not_after is not None
    assert err.info.not_after.tzinfo is not None
    assert lab.thumbprint_sha256 in err.message


@pytest.mark.lab
def test_trust_once_connects_and_is_not_stored(lab: LabInfo, tmp_path: Path) -> None:
    policy = TrustPolicy(JsonPinStore(tmp_path / "pins.json"))
    policy.trust_once(_untrusted(lab, policy).info)
    with Session.connect(endpoint(lab), lab.user, lab.password, trust=policy, timeout=10) as s:
        assert s.api_type == "VirtualCenter"
        assert s.about
        assert lab.password not in repr(s)
    assert not (tmp_path / "pins.json").exists()
    # A new process (a new policy) asks again.
    _untrusted(lab, TrustPolicy(JsonPinStore(tmp_path / "pins.json")))


@pytest.mark.lab
def test_pinned_certificate_connects_next_time(lab: LabInfo, tmp_path: Path) -> None:
    policy = TrustPolicy(JsonPinStore(tmp_path / "pins.json"))
    policy.pin(_untrusted(lab, policy).info)
    later = TrustPolicy(JsonPinStore(tmp_path / "pins.json"))
    with Session.connect(endpoint(lab), lab.user, lab.password, trust=later, timeout=10) as s:
        assert s.user == lab.user


@pytest.mark.lab
def test_a_new_certificate_on_a_pinned_port_is_refused(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path)
    store = JsonPinStore(tmp_path / "pins.json")
    with running_lab(scenario) as first:
        policy = TrustPolicy(store)
        policy.pin(_untrusted(first, policy).info)
        port = first.port
    with running_lab(scenario, port=port) as second:  # the lab makes a fresh certificate
        assert second.thumbprint_sha256 != first.thumbprint_sha256
        with pytest.raises(CertificateChanged) as caught:
            Session.connect(
                endpoint(second), second.user, second.password, trust=TrustPolicy(store), timeout=10
            )
    assert caught.value.pinned.sha256 == first.thumbprint_sha256
    assert caught.value.presented.sha256 == second.thumbprint_sha256


@pytest.mark.lab
def test_wrong_password(lab: LabInfo) -> None:
    policy = TrustPolicy(MemoryPinStore(), expected_fingerprint=lab.thumbprint_sha256)
    with pytest.raises(LoginFailed) as caught:
        Session.connect(endpoint(lab), lab.user, "not-the-password", trust=policy, timeout=10)
    assert "not-the-password" not in caught.value.message
    assert lab.user in caught.value.message


@pytest.mark.lab
def test_expired_session_is_renewed_once(lab: LabInfo) -> None:
    with session_to(lab, timeout=30.0) as s, session_to(lab, timeout=30.0) as admin:
        before = s.session_key
        admin.call(lambda: admin.content.sessionManager.TerminateSession(sessionId=[before]))
        assert len(list_vms(s)) == 3  # logged in again behind the scenes
        assert s.session_key != before


@pytest.mark.lab
def test_close_logs_out_once(lab: LabInfo) -> None:
    with session_to(lab, timeout=30.0) as s:
        s.close()
        s.close()
        assert s.closed
        with pytest.raises(SessionExpired):
            list_vms(s)


@pytest.mark.lab
def test_a_read_still_on_its_way_at_closing_leaves_no_connection_open(tmp_path: Path) -> None:
    """The VM list read on the GUI's second thread may outlive the window's logout: the
    connection it hands back afterwards is closed, not kept in a pool nobody drains (it was
    found as an unclosed socket, garbage-collected tests later)."""
    delays = {"RetrievePropertiesEx": 1500}
    with running_lab(write_scenario(tmp_path), method_delays=delays) as info:
        s = Session.connect(
            endpoint(info), info.user, info.password, trust=trusting(info), timeout=30
        )
        ended: list[str] = []

        def read() -> None:
            try:
                list_vms(s)
                ended.append("read")
            except Exception as exc:  # noqa: BLE001 - how it ends is not the point
                ended.append(type(exc).__name__)

        reading = threading.Thread(target=read)
        reading.start()
        time.sleep(0.5)  # the read is at the lab, its answer 1 s away
        s.close()
        reading.join(30)
        assert ended  # the read came back, one way or the other
        stub = s.content.propertyCollector._stub
        assert stub.pool == []


def test_nothing_listening_is_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConnectionRefused):
        Session.connect(
            Endpoint("127.0.0.1", port), "u", "p", trust=TrustPolicy(MemoryPinStore()), timeout=5
        )


def test_unresolvable_host_is_host_not_found() -> None:
    with pytest.raises(HostNotFound) as caught:
        Session.connect(
            Endpoint("no-such-host.invalid"),
            "u",
            "p",
            trust=TrustPolicy(MemoryPinStore()),
            timeout=5,
        )
    assert caught.value.host == "no-such-host.invalid"


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server that accepts connections and never says a word."""
    accepted: list[socket.socket] = []
    with loopback_server(accepted.append, poll=0.1) as port:
        try:
            yield port
        finally:
            for conn in accepted:
                conn.close()


def test_a_server_that_never_answers_times_out(silent_server: int) -> None:
    started = time.monotonic()
    with pytest.raises(TimedOut) as caught:
        Session.connect(
            Endpoint("127.0.0.1", silent_server),
            "u",
            "p",
            trust=TrustPolicy(MemoryPinStore()),
            timeout=1.0,
        )
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert "within 1 second." in caught.value.message
