"""The lab compresses its SOAP answers when asked, as vCenter does, and the product reads them."""

from __future__ import annotations

import gzip
import http.client
import ssl
from pathlib import Path

import pytest

from tests.helpers.vsphere_lab import running_lab, session_to, write_scenario
from wizard.vsphere.inventory import list_vms

pytestmark = pytest.mark.lab

_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    '<RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance'
    "</_this></RetrieveServiceContent></soapenv:Body></soapenv:Envelope>"
)


_ROOT_NAME = (
    '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
    'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>'
    '<RetrievePropertiesEx xmlns="urn:vim25"><_this type="PropertyCollector">propertyCollector'
    "</_this><specSet><propSet><type>Folder</type><pathSet>name</pathSet><pathSet>childEntity"
    '</pathSet></propSet><objectSet><obj type="Folder">group-d1</obj></objectSet></specSet>'
    "<options/></RetrievePropertiesEx></soapenv:Body></soapenv:Envelope>"
)


def _post(
    host: str, port: int, headers: dict[str, str], body: str = _BODY
) -> tuple[str | None, bytes]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the lab's own certificate; the content is what is tested
    conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=30)
    try:
        conn.request("POST", "/sdk", body, {"Content-Type": "text/xml", **headers})
        resp = conn.getresponse()
        return resp.getheader("Content-Encoding"), resp.read()
    finally:
        conn.close()


def test_an_answer_is_compressed_only_when_asked_and_the_product_reads_it(
    tmp_path: Path,
) -> None:
    with running_lab(write_scenario(tmp_path, filler_vms=200)) as info:
        plain_encoding, plain = _post(info.host, info.port, {})
        encoding, packed = _post(info.host, info.port, {"Accept-Encoding": "gzip, deflate"})
        assert plain_encoding is None
        assert encoding == "gzip"
        assert gzip.decompress(packed) == plain
        assert b"RetrieveServiceContentResponse" in plain
        with session_to(info, timeout=30.0) as s:  # pyVmomi asks for gzip by default
            assert len(list_vms(s)) == 203


def test_an_answer_declares_the_schema_instance_namespace_once_as_vcenter_does(
    tmp_path: Path,
) -> None:
    """vCenter writes ``<val xsi:type="...">`` under one declaration on the envelope; the
    simulator's encoder declared the namespace again on every typed element, a third of a
    scan's bytes and of a client's parsing that vCenter does not cost."""
    with (
        running_lab(write_scenario(tmp_path, filler_vms=20)) as info,
        session_to(info, timeout=30.0) as s,
    ):
        cookie = {"Cookie": s._stub.cookie}
        _encoding, plain = _post(info.host, info.port, cookie, _ROOT_NAME)
        assert b'<val xsi:type="xsd:string">Datacenters</val>' in plain
        assert b'<val xsi:type="ArrayOfManagedObjectReference">' in plain
        assert b"XMLSchema-instance:" not in plain
        assert plain.count(b"http://www.w3.org/2001/XMLSchema-instance") == 1
        assert len(list_vms(s)) == 23
