"""One vCenter, two names: a certificate pinned under one protects the other.

Certificates are pinned per address; vCenter's own identity (``about.instanceUuid``, readable
before login) ties its addresses together. Something between the technician and vCenter that
presents another certificate under another name (here a TLS relay with a certificate of its
own, in front of the real lab) is refused with the changed-certificate warning, even after a
"trust once", and before any password is sent.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers.apply import SCENARIO
from tests.helpers.lab import StartLab
from tests.helpers.tls_relay import tls_relay
from tests.reliability import observe
from tests.reliability.certs import TestCa
from wizard.vsphere.errors import CertificateChanged, CertificateUntrusted
from wizard.vsphere.session import Endpoint, Session
from wizard.vsphere.tls import JsonPinStore, TrustPolicy

pytestmark = pytest.mark.lab


def test_another_name_of_a_pinned_vcenter_with_another_certificate_is_refused(
    start_lab: StartLab, tmp_path: Path
) -> None:
    lab = start_lab(SCENARIO)
    pins = JsonPinStore(tmp_path / "pins.json")

    def connect(host: str, port: int, policy: TrustPolicy) -> Session:
        return Session.connect(Endpoint(host, port), lab.user, lab.password, trust=policy)

    with pytest.raises(CertificateUntrusted) as asked:
        connect("127.0.0.1", lab.port, TrustPolicy(pins))
    TrustPolicy(pins).pin(asked.value.info)  # "Always trust" under 127.0.0.1
    with connect("127.0.0.1", lab.port, TrustPolicy(pins)) as session:
        vcenter_id = session.instance_uuid
    assert [p.sha256 for p in pins.of_vcenter(vcenter_id)] == [lab.thumbprint_sha256]

    other = TestCa(tmp_path).issue("localhost", dns=("localhost",))
    with tls_relay(lab.port, other.cert_file, other.key_file) as relay_port:
        policy = TrustPolicy(pins)
        with pytest.raises(CertificateUntrusted) as asked_again:
            connect("localhost", relay_port, policy)
        assert asked_again.value.info.sha256 != lab.thumbprint_sha256
        policy.trust_once(asked_again.value.info)  # the technician clicks "Trust once"
        before = observe.sessions_on(lab)
        with pytest.raises(CertificateChanged) as changed:
            connect("localhost", relay_port, policy)
        assert changed.value.pinned.sha256 == lab.thumbprint_sha256
        assert changed.value.presented.sha256 == asked_again.value.info.sha256
        assert f"127.0.0.1:{lab.port}" in changed.value.message
        assert "another name" in changed.value.message
        assert observe.sessions_on(lab) == before  # no login: the password was never sent


def test_another_name_showing_the_same_certificate_connects(
    start_lab: StartLab, tmp_path: Path
) -> None:
    lab = start_lab(SCENARIO)
    pins = JsonPinStore(tmp_path / "pins.json")

    def connect(host: str, policy: TrustPolicy) -> Session:
        return Session.connect(Endpoint(host, lab.port), lab.user, lab.password, trust=policy)

    with pytest.raises(CertificateUntrusted) as asked:
        connect("127.0.0.1", TrustPolicy(pins))
    TrustPolicy(pins).pin(asked.value.info)
    with connect("127.0.0.1", TrustPolicy(pins)):
        pass
    policy = TrustPolicy(pins)
    with pytest.raises(CertificateUntrusted) as asked_again:
        connect("localhost", policy)  # pins are per address: asked once for the new name
    assert asked_again.value.info.sha256 == lab.thumbprint_sha256
    policy.trust_once(asked_again.value.info)
    with connect("localhost", policy) as session:
        assert session.instance_uuid
